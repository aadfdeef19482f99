"""The learner's notebooks: building them from the exercise folders, and the `check` cell.

This module owns the learner side of Jupyter support:

- `build(exercise)` generates `notebooks/<slug>.ipynb` from the exercise's own files (statement
  `README.md`, stub `<slug>.py`, public worked example `example.py`), so there is one source of truth;
  `python -m grader.notebook` regenerates every notebook.
- `check(slug)` runs in the learner's kernel: it takes the cells the learner has run, as typed
  (IPython's raw input history), and grades them exactly as `grader check --file` grades a saved
  notebook: run in a separate, limited kernel, verdicts made in the grader. Nothing is graded or
  transformed inside the learner's kernel.

Running submitted notebooks in batch (the instructor side) lives elsewhere.
"""

from __future__ import annotations

import ast
import dataclasses
import html as html_escape
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.exercises import ROOT, discover, resolve
from grader.models import Exercise

SOLUTION_TAG = "solution"
EXAMPLE_TAG = "example"
CHECK_TAG = "convgrade-check"
ANSWERS_TAG = "convgrade-answers"
QUESTIONS_TAG = "convgrade-questions"  # a learner aid like the check cell: never run in grading
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def check_source(slug: str) -> str:
    """The exact source of a notebook's check cell."""
    return f'from grader.notebook import check\n\ncheck("{slug}")'


# ----------------------------------------------------------------------------- building notebooks

def split_statement(text: str) -> list[str]:
    """The statement's markdown cut at its `## ` headings (not inside code fences): the title and
    worked example first, then one chunk per section."""
    chunks: list[list[str]] = [[]]
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if line.startswith("## ") and not fenced and any(s.strip() for s in chunks[-1]):
            chunks.append([])
        chunks[-1].append(line)
    return ["\n".join(chunk).strip() for chunk in chunks if "\n".join(chunk).strip()]


def example_source(exercise: Exercise) -> str:
    """`example.py` as a notebook cell: the `from <slug> import ...` line that the standalone script
    needs is dropped, since the solution cell above defines the functions."""
    text = (exercise.path / "example.py").read_text()
    lines = [line for line in text.splitlines() if not line.startswith(f"from {exercise.slug} import")]
    return "\n".join(lines).strip()


def build(exercise: Exercise) -> nbformat.NotebookNode:
    """The learner notebook of `exercise`: statement, solution stub, worked example, check cell."""
    slug = exercise.slug
    names = ", ".join(f"`{f}`" for f in exercise.functions)
    cells = [new_markdown_cell(chunk) for chunk in split_statement((exercise.path / "README.md").read_text())]
    cells += [
        new_markdown_cell(f"## Your solution\n\nImplement {names} in the cell below, replacing each "
                          "`raise NotImplementedError`, and run the cell again after every edit. "
                          "Import what you need (NumPy is available)."),
        new_code_cell(exercise.stub.read_text().strip(), metadata={"tags": [SOLUTION_TAG]}),
        new_code_cell(example_source(exercise), metadata={"tags": [EXAMPLE_TAG]}),
        *practice_cells(exercise),
        new_markdown_cell("## Check your solution\n\nThe cell below grades the code you have run in "
                          "this notebook against the hidden tests, exactly as `grader check --file` "
                          "would: the cells you ran are run again, as you typed them (magics "
                          "included), in a separate kernel, so a crash or an endless loop there "
                          "cannot take this notebook down. It names your mistake first, with a hint "
                          "and where your output is wrong, then lists the failed tests. Run it again "
                          "after every change."),
        new_code_cell(check_source(slug), metadata={"tags": [CHECK_TAG]}),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"{slug}-{i}"
    nb = new_notebook(cells=cells, metadata={
        "convgrade": {"exercise": slug},
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


def practice_cells(exercise: Exercise) -> list[nbformat.NotebookNode]:
    """The concept questions: the learner's `answers` cell, then the cell that shows the
    questions with the numbers of the answers' seed. Graded by `check(...)` and `grader grade`
    alike, with points of their own."""
    from grader.practice import questions

    if not questions.path_of(exercise).is_file():
        return []
    return [
        new_markdown_cell("## Concept questions\n\nThe questions an interviewer asks around this code. "
                          "Run the answers cell, then the cell under it to see the questions with "
                          "the numbers drawn from your `seed`; write each answer under its id and "
                          "run the answers cell again. The check cell grades them, with points "
                          "apart from the code's. In a terminal: `grader quiz "
                          f"{exercise.slug}`."),
        new_code_cell(questions.answers_template(exercise), metadata={"tags": [ANSWERS_TAG]}),
        new_code_cell(f'from grader.practice.terminal import show_questions\n\n'
                      f'show_questions("{exercise.slug}", answers)',
                      metadata={"tags": [QUESTIONS_TAG]}),
    ]


def notebook_path(exercise: Exercise) -> Path:
    return ROOT / "notebooks" / f"{exercise.slug}.ipynb"


def main() -> None:
    """Regenerate `notebooks/<slug>.ipynb` for every exercise."""
    for exercise in discover():
        path = notebook_path(exercise)
        path.parent.mkdir(exist_ok=True)
        nbformat.write(build(exercise), str(path))
        print(f"wrote {path.relative_to(ROOT)}")


# ----------------------------------------------------------------------------- the check cell

def _is_check_statement(node: ast.stmt) -> bool:
    """`from grader... import ...`, `import grader...`, or a bare `check(...)` call."""
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "grader"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "grader" for alias in node.names)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return (isinstance(func, ast.Name) and func.id in ("check", "show_questions")) or (
            isinstance(func, ast.Attribute) and func.attr == "check"
            and "notebook" in ast.unparse(func.value))
    return False


def without_check(source: str) -> str | None:
    """The cell with its check-cell statements blanked out (line numbers kept); None if nothing
    else is left. A cell that does not parse is kept as it is: the worker skips it, as Jupyter did."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    drop = [n for n in body if _is_check_statement(n)]
    if not drop:
        return source
    keep = [n for n in body if not _is_check_statement(n)]
    blank = {i for n in drop for i in range(n.lineno, (n.end_lineno or n.lineno) + 1)}
    if not keep or any(i in blank for n in keep for i in range(n.lineno, (n.end_lineno or n.lineno) + 1)):
        return None
    lines = source.splitlines()
    return "\n".join("" if i + 1 in blank else line for i, line in enumerate(lines))


def history_notebook(slug: str, inputs: list[str]) -> tuple[nbformat.NotebookNode, list[int]]:
    """The learner's executed inputs, as typed, as a notebook of `slug`, with the input number
    of each of its cells.

    Every run is kept, re-runs included (a cell run, edited and run again defines what it last
    defined); only an input repeated immediately after itself is kept once. Empty inputs and the
    check call itself are left out. Magics and shell escapes stay as typed: the grading kernel
    runs them as Jupyter did, exactly as for `grader check --file` on a saved notebook."""
    cells, numbers = [], []
    previous = None
    for k, raw in enumerate(inputs):
        if not raw or not raw.strip() or raw == previous:
            continue
        previous = raw
        source = without_check(raw)
        if source and source.strip():
            cells.append(new_code_cell(source))
            numbers.append(k)
    nb = new_notebook(cells=cells, metadata={"convgrade": {"exercise": slug},
                                             "kernelspec": dict(KERNELSPEC)})
    return nb, numbers


def _error_html(message: str) -> str:
    text = html_escape.escape(message.splitlines()[0][:300] if message else "unknown error")
    return f'<div class="convgrade-error" style="color:#b00020"><b>convgrade:</b> {text}</div>'


def check(slug: str) -> None:
    """Grade the code run so far in this notebook against exercise `slug`, and show the verdicts.

    Runs inside the learner's Jupyter kernel; the grading itself happens in a separate worker."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise RuntimeError("grader.notebook.check() runs inside a Jupyter notebook; in a terminal, "
                           f"run `grader check exercises/{slug} --file YOUR_FILE` instead")
    from IPython.display import HTML, display

    try:
        from grader import grade, html, report
        from grader.practice import questions, terminal

        exercise = resolve(slug)
        nb, numbers = history_notebook(slug, list(shell.history_manager.input_hist_raw))
        result = grade.grade_notebook(exercise, nb, "this notebook")
        # cell errors named by the input number the learner sees (In [k]), not by replay order
        result = dataclasses.replace(result, cell_errors=tuple(
            dataclasses.replace(e, cell=numbers[e.cell - 1]) if 0 < e.cell <= len(numbers) else e
            for e in result.cell_errors))
        result = questions.attach(exercise, result, [cell.source for cell in nb.cells])
        display({"text/plain": report.render_text(result, width=80),
                 "text/html": html.render_check(result)}, raw=True)
        print(terminal.notebook_epilogue(exercise, result))
    except Exception as exc:  # noqa: BLE001 - one line in the cell, never a grader traceback
        display(HTML(_error_html(f"could not grade this notebook: {type(exc).__name__}: {exc}")))

if __name__ == "__main__":
    main()
