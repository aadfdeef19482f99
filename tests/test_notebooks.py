"""The learner notebooks: generated from the exercise folders, up to date, and gradable in Jupyter.

The kernel tests run each notebook top to bottom in a real Jupyter kernel (nbclient), with the stub
untouched (score 0, no cell errors) and with the reference solution pasted into its solution cell
(full marks). Each takes a few seconds.
"""

from __future__ import annotations

import io
import json
import os
import re
from unittest import mock

import nbformat
import pytest

from grader import exercises, notebook
from tests.conftest import ROOT, SLUGS

SCORE = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*100\b")


def _serialized(nb: nbformat.NotebookNode) -> str:
    buffer = io.StringIO()
    nbformat.write(nb, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_notebook_is_up_to_date(slug):
    path = ROOT / "notebooks" / f"{slug}.ipynb"
    assert path.is_file(), f"{path} is missing: run python -m grader.notebook"
    built = _serialized(notebook.build(exercises.resolve(slug)))
    assert path.read_text() == built, f"{path.name} is stale: run python -m grader.notebook"


@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_structure(slug):
    nb = notebook.build(exercises.resolve(slug))
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata["convgrade"] == {"exercise": slug}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert [t for t in tags if t] == [["solution"], ["example"], ["convgrade-answers"],
                                      ["convgrade-questions"], ["convgrade-check"]]
    assert nb.cells[0].source.startswith("# ") and "## " not in nb.cells[0].source.split("\n")[0][1:]
    assert nb.cells[-1].source == f'from grader.notebook import check\n\ncheck("{slug}")'
    assert all(c.cell_type != "code" or not c.outputs for c in nb.cells)
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_split_statement_ignores_headings_in_code_fences():
    text = "# Title\n\nexample\n\n```\n## not a heading\n```\n\n## One\n\nbody\n\n## Two\nmore"
    assert notebook.split_statement(text) == [
        "# Title\n\nexample\n\n```\n## not a heading\n```", "## One\n\nbody", "## Two\nmore"]


def test_history_notebook_keeps_runs_in_order_as_typed_without_the_check_call():
    inputs = [
        "",
        "def f(x):\n    return x",
        "def f(x):\n    return x",            # the same cell run twice in a row: kept once
        "%timeit f(1)",                       # magics stay as typed: the grading kernel runs them
        "def f(x):\n    return 2 * x",         # edited and run again: the last definition wins
        'from grader.notebook import check\n\ncheck("conv1d")',
        "y = f(3)\ncheck('conv1d')",           # the check call is blanked, the rest kept
    ]
    nb, numbers = notebook.history_notebook("conv1d", inputs)
    nbformat.validate(nb)
    assert numbers == [1, 3, 4, 6]
    assert [c.source for c in nb.cells] == [inputs[1], inputs[3], inputs[4], "y = f(3)\n"]
    assert nb.metadata["convgrade"] == {"exercise": "conv1d"}


def test_check_outside_ipython_raises_a_clear_error():
    with pytest.raises(RuntimeError, match="inside a Jupyter notebook"):
        notebook.check("conv1d")


# ----------------------------------------------------------------------------- real kernels

def _python3_kernel() -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return "python3" in KernelSpecManager().find_kernel_specs()
    except Exception:  # noqa: BLE001 - no Jupyter at all
        return False


needs_kernel = pytest.mark.skipif(
    not _python3_kernel(), reason="no python3 Jupyter kernel: run python -m ipykernel install --sys-prefix")


def _run(nb: nbformat.NotebookNode, cwd) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    # the kernel imports this checkout's grader, not whichever one is installed
    with mock.patch.dict(os.environ, {"PYTHONPATH": str(ROOT)}):
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _check_output(nb: nbformat.NotebookNode) -> str:
    cell = next(c for c in nb.cells if "convgrade-check" in c.metadata.get("tags", []))
    html = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert html, f"the check cell showed no HTML: {cell.outputs}"
    return "".join(html)


def _score(html: str) -> float:
    match = SCORE.search(html)
    assert match, f"no score in the check output: {html[:500]}"
    return float(match.group(1))


@needs_kernel
@pytest.mark.parametrize("slug", SLUGS)
def test_stub_notebook_runs_and_scores_zero(slug, tmp_path):
    nb = _run(nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4), tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    example = next(c for c in nb.cells if "example" in c.metadata.get("tags", []))
    assert "not implemented yet" in "".join(o.get("text", "") for o in example.outputs)
    assert _score(_check_output(nb)) == 0


@needs_kernel
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_solution_in_the_notebook_scores_full_marks(slug, tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    solution.source = (ROOT / "solutions" / f"{slug}.py").read_text()
    nb = _run(nb, tmp_path)
    example = next(c for c in nb.cells if "example" in c.metadata.get("tags", []))
    printed = "".join(o.get("text", "") for o in example.outputs)
    assert "agrees with the README" in printed and "DOES NOT AGREE" not in printed, printed
    assert _score(_check_output(nb)) == 100


# A learner's solution cell as people write it in Jupyter: timed, with magics and shell escapes,
# next to a cell that fails. `check(...)` in the notebook must grade it as `grader check --file`.
# A shell escape runs no program while grading (no process of the kernel may start one): its
# cell fails and is skipped like any failing cell, so it gets a cell of its own here.
_MAGIC_CELLS = {
    "line-magics": ["%precision 3\n%time _ = 1\n{solution}"],
    "cell-magic": ["%%time\n{solution}"],
    "shell-escape": ["!ls\nfiles = !ls", "{solution}"],
    "broken-cell": ["{solution}", "raise ValueError('a cell that fails')", "1 / 0 +"],
}


@needs_kernel
@pytest.mark.parametrize("kind", list(_MAGIC_CELLS))
def test_notebook_check_grades_what_check_file_grades(kind, tmp_path):
    from grader.grade import grade_file

    slug = "conv1d"
    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    position = next(i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", []))
    solution = (ROOT / "solutions" / f"{slug}.py").read_text()
    cells = [nbformat.v4.new_code_cell(text.format(solution=solution)) for text in _MAGIC_CELLS[kind]]
    nb.cells[position:position + 1] = cells
    path = tmp_path / f"{kind}.ipynb"
    nbformat.write(nb, str(path))
    by_file = grade_file(exercises.resolve(slug), path)
    in_notebook = _score(_check_output(_run(nb, tmp_path)))
    assert by_file.status == "graded" and by_file.score == 100
    assert in_notebook == by_file.score
    if kind == "shell-escape":
        assert [e.message for e in by_file.cell_errors] == ["OSError: [Errno 1] Operation not permitted"]


@needs_kernel
def test_check_output_of_one_bug_is_small_and_reads_as_text(tmp_path):
    slug = "conv_backward"
    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    buggy = ROOT / "tests" / "submissions" / "buggy" / slug / "dx-kernel-not-flipped.py"
    solution.source = buggy.read_text()
    nb = _run(nb, tmp_path)
    cell = next(c for c in nb.cells if "convgrade-check" in c.metadata.get("tags", []))
    assert len(json.dumps(cell.outputs).encode()) < 30_000
    (bundle,) = [o["data"] for o in cell.outputs if "text/plain" in o.get("data", {})]
    text = bundle["text/plain"]
    assert text.startswith(f"{slug}: this notebook") and "IPython.core.display" not in text
    assert text.count("mistake: dx-kernel-not-flipped") == 1 and len(text.splitlines()) <= 25
    assert bundle["text/html"].count("dx used the kernel without the 180-degree rotation") == 1
