"""The learner notebooks: generated from the exercise folders, up to date, and gradable in Jupyter.

The kernel tests run each notebook top to bottom in a real Jupyter kernel (nbclient), with the stub
untouched (score 0, no cell errors) and with the reference solution pasted into its solution cell
(full marks). Each takes a few seconds.
"""

from __future__ import annotations

import io
import re

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
    assert [t for t in tags if t] == [["solution"], ["example"], ["convgrade-check"]]
    assert nb.cells[0].source.startswith("# ") and "## " not in nb.cells[0].source.split("\n")[0][1:]
    assert nb.cells[-1].source == f'from grader.notebook import check\n\ncheck("{slug}")'
    assert all(c.cell_type != "code" or not c.outputs for c in nb.cells)
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_split_statement_ignores_headings_in_code_fences():
    text = "# Title\n\nexample\n\n```\n## not a heading\n```\n\n## One\n\nbody\n\n## Two\nmore"
    assert notebook.split_statement(text) == [
        "# Title\n\nexample\n\n```\n## not a heading\n```", "## One\n\nbody", "## Two\nmore"]


def test_history_cells_replays_runs_in_order_without_the_check_call():
    inputs = [
        "",
        "def f(x):\n    return x",
        "def f(x):\n    return x",            # the same cell run twice in a row: replayed once
        "%timeit f(1)",
        "def f(x):\n    return 2 * x",         # edited and run again: the last definition wins
        'from grader.notebook import check\n\ncheck("conv1d")',
        "y = f(3)\ncheck('conv1d')",           # the check call is blanked, the rest kept
    ]
    cells = notebook.history_cells(inputs)
    names = [name for name, _ in cells]
    assert names == ["<cell 1>", "<cell 3>", "<cell 4>", "<cell 6>"]
    assert "get_ipython().run_line_magic" in cells[1][1]
    assert cells[3][1] == "y = f(3)\n"


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

    NotebookClient(nb, timeout=120, kernel_name="python3",
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
