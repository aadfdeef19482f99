"""Commands that tell the truth: counts, usage errors, the isolation named, messages said once,
and the learner's own source line in every traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import nbformat
import pytest

from grader import exercises, grade, html, report, sandbox
from grader.models import GradeResult
from tests.conftest import ROOT

CRASH = """import numpy as np


def convolve1d(signal, kernel, mode="full"):
    n = len(signal)
    wrong = np.zeros(n)[n + 5]
    return wrong
"""


def grader(*args: str, cwd=ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def notebook(cells: list[str], exercise: str = "conv1d") -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["convgrade"] = {"exercise": exercise}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb)


def test_version():
    proc = grader("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"grader (convgrade) {version('convgrade')}"


def test_grading_a_folder_without_submissions_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a submission")
    proc = grader("grade", str(tmp_path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"grader: error: no .py or .ipynb submissions in {tmp_path}"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("results", "line"), [
    ([("graded", False)], "1 submission graded"),
    ([("graded", False), ("graded", True), ("error", False)],
     "2 submissions graded (1 unchanged), 1 could not be graded"),
    ([("error", False), ("error", False)], "0 submissions graded, 2 could not be graded"),
])
def test_last_line_counts_what_happened(results, line):
    def result(status: str) -> GradeResult:
        return GradeResult(exercise="conv1d", submission="x.py", status=status, score=0.0,
                           max_score=100.0)

    assert report.render_batch_counts([(result(s), reused) for s, reused in results]) == line


@pytest.mark.slow
def test_grade_prints_counts_and_exit_status_on_rerun(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text(CRASH)
    (folder / "bob.ipynb").write_text("{ this is not json")
    out = tmp_path / "out"
    first = grader("grade", str(folder), "--out", str(out), "--jobs", "1")
    assert first.returncode == 1, first.stderr
    assert "1 submission graded, 1 could not be graded; class summary:" in first.stdout
    second = grader("grade", str(folder), "--out", str(out), "--jobs", "1")
    assert "1 submission graded (1 unchanged), 1 could not be graded;" in second.stdout


def test_demo_and_grade_exit_status_difference_is_documented():
    """`grader demo` grades a class with deliberately broken submissions and exits 0 when every
    one got its report; `grader grade` exits 1 on the same class. The README says so."""
    readme = " ".join((ROOT / "README.md").read_text().split())  # as read, whatever the wrapping
    assert "`grader demo` exits 0" in readme and "`grader grade` on the same folder exits 1" in readme


def test_sandbox_off_is_named_as_such(tmp_path):
    path = tmp_path / "crash.py"
    path.write_text(CRASH)
    env = {**__import__("os").environ, "CONVGRADE_SANDBOX": "off"}
    proc = grader("check", "conv1d", "--file", str(path), env=env)
    assert "sandbox off (CONVGRADE_SANDBOX=off)" in proc.stderr
    assert "bubblewrap not available" not in proc.stderr


def test_middle_shortening_keeps_both_ends():
    name = "section-b/alexandra_konstantinopoulou/conv_backward_final_v3.ipynb"
    short = report.shorten_middle(name, 30)
    assert len(short) == 30 and short.startswith("section-b/") and short.endswith("v3.ipynb")
    assert report.shorten_middle("short.py", 30) == "short.py"


def test_a_broken_notebook_says_no_learner_code_ran_and_why_once(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grade.grade_file(exercises.resolve("conv1d"), path)
    assert result.status == "error" and result.isolation == "none"
    text = report.render_text(result)
    assert text.count("could not grade") == 1 and "cannot grade" not in text
    assert "not valid JSON" in text
    page = html.render_report(result)
    assert "no learner code ran" in page and "isolation: basic" not in page


@pytest.mark.slow
def test_a_notebook_is_called_a_notebook_and_names_its_isolation(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(["import numpy as np", "1 / 0"]))
    result = grade.grade_file(exercises.resolve("conv1d"), path)
    assert result.isolation == sandbox.description()
    missing = [t.message for t in result.tests if t.status == "error"]
    assert missing and all(m.endswith("is not defined in your notebook") for m in missing)
    assert result.cell_errors


@pytest.mark.parametrize("mode", ["sandbox", "off"])
def test_traceback_shows_the_learners_source_line(tmp_path, monkeypatch, mode):
    if mode == "sandbox" and sandbox.isolation() != "sandbox":
        pytest.skip("bubblewrap is not available here")
    if mode == "off":
        monkeypatch.setenv("CONVGRADE_SANDBOX", "off")
    sandbox.bwrap.cache_clear()
    try:
        path = tmp_path / "crash.py"
        path.write_text(CRASH)
        proc = grader("check", "conv1d", "--file", str(path), "--json")
        doc = json.loads(proc.stdout)
    finally:
        sandbox.bwrap.cache_clear()
    traces = [t["traceback"] for t in doc["tests"] if t["function"] == "convolve1d" and t.get("traceback")]
    assert traces, doc["tests"][0]
    assert all(f"{path}, line 6, in convolve1d: wrong = np.zeros(n)[n + 5]" in t for t in traces)


def test_source_lines_come_from_the_submission_not_the_worker():
    sources = {"a.py": ["x = 1", "y = boom()"]}
    trace = "a.py, line 2, in f: forged by the worker\nb.py, line 1, in g:"
    assert grade.with_source_lines(trace, sources) == "a.py, line 2, in f: y = boom()\nb.py, line 1, in g:"


def test_an_import_of_a_neighbouring_file_says_a_solution_is_one_file(tmp_path):
    (tmp_path / "helpers.py").write_text("def pair(x):\n    return (x, x)\n")
    path = tmp_path / "mine.py"
    path.write_text("from helpers import pair\n\n\ndef convolve1d(a, v, mode='full'):\n    return pair(a)\n")
    result = grade.grade_file(exercises.resolve("conv1d"), path)
    assert result.status == "error"
    assert "No module named 'helpers'" in result.message and "a solution is one file" in result.message
