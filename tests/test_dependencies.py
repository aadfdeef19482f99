"""Is every package that the project's code and tests import declared in pyproject.toml?

CI installs into an empty virtual environment, so an undeclared import fails there too; this test
says which import and which file, on any machine, even one whose Python happens to have it.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Import names that differ from the name of the distribution that provides them.
DISTRIBUTION = {"IPython": "ipython", "yaml": "pyyaml", "zmq": "pyzmq", "distributed": "dask",
                "jupyter_client": "jupyter-client", "PIL": "pillow", "sklearn": "scikit-learn"}
# Which requirement lists each folder may draw on.
ALLOWED = {"grader": ("core", "dask"), "solutions": ("core",), "exercises": ("core",),
           "examples": ("core",), "tests": ("core", "dev"), "benchmarks": ("core", "dev", "bench")}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def declared(groups: tuple[str, ...]) -> set[str]:
    project = PYPROJECT["project"]
    lists = {"core": project["dependencies"], **project["optional-dependencies"]}
    return set().union(*(_names(lists[g]) for g in groups))


def local_modules() -> set[str]:
    """Top-level names the project itself provides: its packages and the exercise stubs that the
    examples import from their own folder."""
    names = {p.name for p in ROOT.iterdir() if p.is_dir()} | {p.stem for p in ROOT.glob("*.py")}
    return names | {p.stem for p in (ROOT / "exercises").glob("*/*.py")}


def third_party_imports(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):  # the corpus holds deliberately broken files
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    siblings = {p.stem for p in path.parent.glob("*.py")}  # a script importing its neighbour
    return {name for name in found if name not in sys.stdlib_module_names} - local_modules() \
        - siblings


def test_every_import_is_declared():
    missing = []
    for folder, groups in ALLOWED.items():
        allowed = declared(groups)
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in sorted(third_party_imports(path)):
                distribution = DISTRIBUTION.get(name, name).lower().replace("_", "-")
                if distribution not in allowed:
                    missing.append(f"{path.relative_to(ROOT)} imports {name} ({distribution}), "
                                   f"not declared in {' or '.join(groups)}")
    assert not missing, "\n".join(missing)


def test_the_check_can_fail(tmp_path):
    """The scan reports a package that no list declares, and passes over the standard library
    and the project's own modules."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os, re\nimport nosuchpackage.sub\nfrom tests import conftest\n"
                      "from numpy import zeros\n")
    found = third_party_imports(sample)
    assert found == {"nosuchpackage", "numpy"}
    assert "numpy" in declared(("core",)) and "nosuchpackage" not in declared(("core", "dev"))
