"""What a sandboxed worker can see, for an editable checkout and for an installed package alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import sandbox

pytestmark = pytest.mark.skipif(sandbox.isolation() != "sandbox",
                                reason="bubblewrap is not available here: apt-get install bubblewrap")

LIST = ("import os, sys\n"
        "for p in sys.argv[1:]:\n"
        "    print(p, sorted(os.listdir(p)) if os.path.isdir(p) else 'absent')\n")


def _seen(paths: list[Path]) -> dict[str, str]:
    command = sandbox.wrap([sys.executable, "-I", "-c", LIST, *map(str, paths)], env={})
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_checkout_hides_project_and_secret_packages():
    root = sandbox.ROOT
    seen = _seen([root, root / "grader", root / "solutions", root / "grader" / "suites",
                  Path(sys.prefix)])
    # Only mount points are left in the project: of what is bound back or hidden again, and of
    # folders other tests asked to hide (exercises/<slug> after `grader check`).
    for name in ("README.md", "pyproject.toml", "tests", "examples", "benchmarks"):
        assert f"'{name}'" not in seen[str(root)]
    assert seen[str(root / "grader")] == "['suites', 'variants']"
    assert seen[str(root / "solutions")] in ("[]", "absent")  # no file of the references
    assert seen[str(root / "grader" / "suites")] in ("[]", "absent")
    assert seen[sys.prefix] not in ("[]", "absent")


def test_installed_layout_hides_suites_inside_site_packages(tmp_path, monkeypatch):
    """In a non-editable install the suites sit inside site-packages, which is bound back for
    the interpreter: they must be hidden again."""
    site = tmp_path / "site-packages"
    for secret in ("grader/suites", "grader/variants", "solutions"):
        (site / secret).mkdir(parents=True)
        (site / secret / "answers.py").write_text("EXPECTED = 42\n")
    (site / "grader" / "cli.py").write_text("")
    monkeypatch.setattr(sandbox, "ROOT", site)
    python = sandbox._python_dirs()
    monkeypatch.setattr(sandbox, "_python_dirs", lambda: [*python, str(site)])
    seen = _seen([site / "grader", site / "grader" / "suites", site / "grader" / "variants",
                  site / "solutions"])
    assert "cli.py" in seen[str(site / "grader")]
    assert seen[str(site / "grader" / "suites")] == "[]"
    assert seen[str(site / "grader" / "variants")] == "[]"
    assert seen[str(site / "solutions")] == "[]"


def test_a_submission_importing_the_references_fails_to_import(tmp_path):
    """The model answers are hidden whole: borrowing them is an import error, not 100/100."""
    from grader import exercises, grade

    submission = tmp_path / "borrowed.py"
    submission.write_text("from solutions.conv_forward import conv_forward  # noqa: F401\n")
    result = grade.grade_file(exercises.resolve("conv_forward"), submission)
    assert result.score == 0
    text = " ".join(str(v) for v in (result.status, getattr(result, "message", ""),
                                     *(t.message for t in result.tests)))
    assert "solutions" in text and ("ModuleNotFoundError" in text or "No module" in text), text
