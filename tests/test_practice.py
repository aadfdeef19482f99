"""quiz, hint, interview and progress, driven as a learner would: the `grader` command in a
subprocess, answers piped in, a short --minutes, a progress database in a temporary home."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time

import nbformat
import pytest

from grader import exercises
from grader.practice import progress as progress_db
from grader.practice import questions
from grader.practice.progress import Progress, Run
from tests.conftest import ROOT


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    monkeypatch.setenv("CONVGRADE_HOME", str(folder))
    return folder


def grader(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`grader ...` as a learner runs it, with the test's CONVGRADE_HOME."""
    return subprocess.run([sys.executable, "-m", "grader", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def right_answer(d: questions.Drawn) -> str:
    if isinstance(d.answer, tuple):
        return "x".join(str(v) for v in d.answer)
    return str(d.answer)


def runs(home) -> list[Run]:
    with Progress(home / progress_db.FILENAME) as db:
        return db.runs()


# ----------------------------------------------------------------------------- quiz

def test_quiz_with_every_answer_right_scores_full_and_is_recorded(home):
    drawn = questions.draw(exercises.resolve("conv_forward"), 11)
    proc = grader("quiz", "conv_forward", "--seed", "11",
                  stdin="".join(right_answer(d) + "\n" for d in drawn))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("\nRight.") == len(drawn)
    assert f"score {len(drawn)}/{len(drawn)}: {len(drawn)} right, 0 wrong, 0 skipped" in proc.stdout
    (run,) = runs(home)
    assert (run.exercise, run.kind, run.score, run.passed) == ("conv_forward", "quiz", len(drawn), True)


def test_quiz_explains_why_a_seed_claim_is_wrong_and_asks_again_after_a_typo(home):
    drawn = questions.draw(exercises.resolve("conv_strided_dilated"), 2)
    lines = []
    for d in drawn:
        if d.question.id == "dilation-5x5":
            lines.append("a")  # the seed tutorial's claim: "makes the output 5x5"
        elif d.question.id == "effective-kernel":
            lines += ["five-ish", right_answer(d)]  # unreadable first: asked again, not marked wrong
        else:
            lines.append("")  # skipped
    proc = grader("quiz", "conv_strided_dilated", "--seed", "2", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 1
    out = " ".join(proc.stdout.split())
    assert "Could not read 'five-ish': expected an integer" in out
    assert "Wrong. (a) is wrong: the seed tutorial's Q&A says dilation 2 'makes the output 5x5'" in out
    assert "The answer is (b) The effective kernel" in out and "28x28" in out
    assert f"score 1/{len(drawn)}: 1 right, 1 wrong, {len(drawn) - 2} skipped" in out
    (run,) = runs(home)
    assert run.findings == ("quiz:dilation-5x5",)


def test_quiz_stops_cleanly_at_the_end_of_input(home):
    proc = grader("quiz", "pooling", "--seed", "1", stdin="")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no more input" in proc.stdout and "0 right, 0 wrong, 8 skipped" in proc.stdout


def test_quiz_on_an_unknown_exercise_is_a_one_line_error(home):
    proc = grader("quiz", "conv3d")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- hints

def test_hints_come_one_at_a_time_and_checks_report_how_many(home):
    ladder = 5
    outputs = [grader("hint", "conv_backward").stdout for _ in range(ladder + 1)]
    for n, out in enumerate(outputs[:ladder], 1):
        assert out.startswith(f"Hint {n} of {ladder} for conv_backward:")
    assert "write the shapes first" in outputs[0].lower()
    assert "dxp[:, :, ph : ph + H" in " ".join(outputs[ladder - 1].split())
    assert outputs[-1].startswith(f"Hint {ladder} of {ladder}") and "last hint" in outputs[-1]
    proc = grader("check", "conv_backward", "--file", str(ROOT / "solutions/conv_backward.py"))
    assert proc.returncode == 0 and f"hints used: {ladder} of {ladder}" in proc.stdout
    (run,) = runs(home)
    assert run.kind == "check" and run.hints_used == ladder and run.passed


# ----------------------------------------------------------------------------- interview

@pytest.mark.slow
def test_interview_ends_at_the_first_full_pass(home):
    start = grader("interview", "conv1d", "--minutes", "5")
    assert start.returncode == 0
    assert start.stdout.startswith("# ") and "Interview on conv1d started: 5 minutes" in start.stdout
    again = grader("interview", "conv1d")
    assert again.returncode == 2 and "already running" in again.stderr
    stub = grader("check", "conv1d")
    assert stub.returncode == 1 and "interview: 0:0" in stub.stdout and "Interview over" not in stub.stdout
    solved = grader("check", "conv1d", "--file", str(ROOT / "solutions/conv1d.py"))
    assert solved.returncode == 0
    out = " ".join(solved.stdout.split())
    assert "Interview over (all tests passed): score 100/100 in 2 check(s), first full pass after 0:" in out
    assert f"Model answer: {ROOT / 'solutions' / 'conv1d.py'}" in out
    assert "No interview is running" in grader("interview", "conv1d", "--status").stdout
    kinds = [r.kind for r in runs(home)]
    assert kinds == ["check", "check", "interview"]


def test_interview_time_up_counts_only_checks_in_time(home):
    assert grader("interview", "conv1d", "--minutes", "0.01").returncode == 0
    time.sleep(1.0)
    late = grader("check", "conv1d", "--file", str(ROOT / "solutions/conv1d.py"))
    assert late.returncode == 0  # the grade itself stands
    assert "Interview over (time is up): score 0/100 in 0 check(s), no full pass" in " ".join(
        late.stdout.split())
    assert grader("interview", "conv1d", "--minutes", "0.01").returncode == 0
    time.sleep(1.0)
    status = grader("interview", "conv1d", "--status")
    assert status.returncode == 0 and "Interview over (time is up)" in status.stdout
    interviews = [r for r in runs(home) if r.kind == "interview"]
    assert len(interviews) == 2 and not any(r.passed for r in interviews)


def test_interview_hides_and_then_shows_the_follow_up_questions(home):
    """The statement's "Interview follow-ups" are held back until the interview is over."""
    start = grader("interview", "conv1d", "--minutes", "30")
    assert start.returncode == 0 and "follow-ups" not in start.stdout.lower()
    assert "How many multiply-adds" not in start.stdout
    status = grader("interview", "conv1d", "--status")
    assert "left; 0 check(s), best score 0/100" in status.stdout
    done = " ".join(grader("interview", "conv1d", "--finish").stdout.split())
    assert "Interview over (finished early): score 0/100" in done
    assert "1. How many multiply-adds does `conv1d` cost for `N=1, C=64, L=1000, F=128, K=5, " \
           "padding=2`, and how many parameters does that layer have?" in done
    assert "6. How would you test that your `conv1d` is right" in done
    assert "Once the code works" not in done  # the section's introduction is not a question
    assert f"Answers to the follow-ups: {ROOT / 'solutions' / 'conv1d.md'}" in done


# ----------------------------------------------------------------------------- progress

def _record(home, exercise: str, at: float, score: float, findings=(), kind="check") -> None:
    with Progress(home / progress_db.FILENAME) as db:
        db.record(Run(exercise, kind, at, score, 100.0, score == 100, tuple(findings), 0))


def test_progress_shows_best_attempts_first_pass_mistakes_and_a_chart(home, tmp_path):
    t0 = 1_700_000_000.0
    _record(home, "conv_forward", t0, 20, ["flipped-kernel", "bias-per-channel"])
    _record(home, "conv_forward", t0 + 60, 60, ["flipped-kernel"])
    _record(home, "conv_forward", t0 + 100, 100)
    _record(home, "<script>alert(1)</script>", t0, 0, ["x"])
    proc = grader("progress", "--html", str(tmp_path / "p.html"))
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("conv_forward"))
    assert row.split()[:5] == ["conv_forward", "100/100", "3", "1m", "40s"]
    assert "conv_forward: flipped-kernel (2x), bias-per-channel (1x)" in proc.stdout
    charts = proc.stdout.split("Score over time")[1].splitlines()
    chart = next(line for line in charts if line.strip().startswith("conv_forward"))
    assert chart.split()[-1] in ("▂▅█", "_-@")
    page = (tmp_path / "p.html").read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "<polyline" in page


def test_progress_with_nothing_recorded_says_how_to_start(home, tmp_path):
    proc = grader("progress")
    assert proc.returncode == 0 and "No progress recorded yet" in proc.stdout
    (tmp_path / "file").write_text("")
    proc = grader("progress", "--html", str(tmp_path / "file" / "p.html"))
    assert proc.returncode == 2 and proc.stderr.startswith("grader: error: cannot write")
    assert "Traceback" not in proc.stderr


WRITER = """
import sys, time
from pathlib import Path
from grader.practice.progress import Progress, Run
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start writing at the same moment
with Progress(Path(sys.argv[1])) as db:
    for i in range(int(sys.argv[2])):
        db.record(Run("conv1d", "check", time.time(), float(i), 100.0, False, ("m",), 0))
        db.see_hint("conv1d", 10_000)
"""


def test_parallel_writers_lose_no_rows(home):
    """Four graders writing at once (two terminals, a notebook...): every row and hint is kept."""
    path = home / progress_db.FILENAME
    start = str(time.time() + 3)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "150", start], cwd=ROOT)
               for _ in range(4)]
    assert [w.wait(timeout=120) for w in writers] == [0] * 4
    with Progress(path) as db:
        assert len(db.runs()) == 600 and db.hints_seen("conv1d") == 600


def test_corrupt_database_is_a_one_line_error_and_is_left_alone(home):
    home.mkdir()
    path = home / progress_db.FILENAME
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    for args in (("progress",), ("hint", "conv1d")):
        proc = grader(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert str(path) in line and "not a database" in line
    checked = grader("check", "conv1d", "--file", str(ROOT / "solutions/conv1d.py"))
    assert checked.returncode == 0 and "score 100/100" in checked.stdout
    assert "warning: this check was not recorded" in checked.stderr
    assert path.read_bytes() == garbage


def test_newer_or_foreign_database_is_refused_not_reset(home):
    home.mkdir()
    path = home / progress_db.FILENAME
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    proc = grader("progress")
    assert proc.returncode == 2 and "newer convgrade (schema 99" in proc.stderr
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    proc = grader("progress")
    assert proc.returncode == 2 and "not a convgrade progress database" in proc.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("photos",)]


def test_data_home_follows_each_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVGRADE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert progress_db.data_home() == tmp_path / "xdg" / "convgrade"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert progress_db.data_home() == tmp_path / ".local" / "share" / "convgrade"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert progress_db.data_home() == tmp_path / "Library" / "Application Support" / "convgrade"
    monkeypatch.setenv("CONVGRADE_HOME", str(tmp_path / "mine"))
    assert progress_db.db_path() == tmp_path / "mine" / progress_db.FILENAME


def test_the_suite_never_writes_to_the_real_home(tmp_path_factory):
    """conftest points every grader run of the suite at a temporary CONVGRADE_HOME."""
    home = progress_db.Path(os.environ["CONVGRADE_HOME"])
    assert home.is_relative_to(tmp_path_factory.getbasetemp())
    assert progress_db.data_home() == home


# ----------------------------------------------------------------------------- graded answers

def _answers(slug: str, seed: int, wrong: set[str]) -> tuple[str, float, float]:
    """An answers cell with every answer right except those in `wrong`; its expected points."""
    drawn = questions.draw(exercises.resolve(slug), seed)
    values = {"seed": seed}
    for d in drawn:
        if d.question.id in wrong:
            values[d.question.id] = "z" if d.question.kind == "choice" else 0
        else:
            values[d.question.id] = d.answer
    got = sum(d.question.points for d in drawn if d.question.id not in wrong)
    return f"answers = {values!r}", got, sum(d.question.points for d in drawn)


def test_answers_in_a_py_file_get_points_apart_from_the_code(home, tmp_path):
    source, got, top = _answers("conv_backward", 4, {"dx-shape", "db-sum"})
    path = tmp_path / "mine.py"
    path.write_text((ROOT / "solutions/conv_backward.py").read_text() + "\n\n" + source + "\n")
    proc = grader("check", "conv_backward", "--file", str(path), "--json")
    doc = json.loads(proc.stdout)
    assert doc["score"] == 100 and doc["max_score"] == 100
    assert doc["quiz"]["score"] == got and doc["quiz"]["max_score"] == top
    assert doc["quiz"]["wrong"] == ["dx-shape", "db-sum"] and doc["quiz"]["seed"] == 4
    assert "concept questions" not in proc.stderr  # --json: the document only


def _python3_kernel() -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return "python3" in KernelSpecManager().find_kernel_specs()
    except Exception:  # noqa: BLE001 - no Jupyter at all
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _python3_kernel(), reason="no python3 Jupyter kernel")
def test_notebook_answers_get_the_same_points_from_check_and_grade(home, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's grader

    slug = "pooling"
    source, got, top = _answers(slug, 9, {"tie-gradient", "pool-output"})
    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    tagged = {tag: c for c in nb.cells for tag in c.metadata.get("tags", [])}
    tagged["solution"].source = (ROOT / "solutions" / f"{slug}.py").read_text()
    tagged["convgrade-answers"].source = source
    path = tmp_path / "learner.ipynb"
    nbformat.write(nb, path)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = "".join(o.get("text", "") for o in tagged["convgrade-questions"].outputs)
    assert "concept questions for seed 9" in shown and "(tie-gradient, 1 point)" in shown
    printed = "".join(o.get("text", "") for o in tagged["convgrade-check"].outputs)
    assert f"concept questions: {got:g}/{top:g} (seed 9)" in printed
    assert "tie-gradient: (z)" not in printed and "tie-gradient: expected one of a, b, c, d" in printed

    out = tmp_path / "reports"
    assert grader("grade", str(path), "--out", str(out), "--exercise", slug).returncode == 0
    (doc,) = json.loads((out / "results.json").read_text())
    assert doc["score"] == 100 and (doc["quiz"]["score"], doc["quiz"]["max_score"]) == (got, top)
    (row,) = list(csv.DictReader((out / "grades.csv").open()))
    assert (row["score"], row["quiz_score"], row["quiz_max"]) == ("100", f"{got:g}", f"{top:g}")
    assert not doc["cell_errors"]  # the questions cell is a learner aid, not run in grading
    gradescope = json.loads(next((out / "submissions").glob("*/results.json")).read_text())
    assert gradescope["score"] == 100
    assert f"concept questions {got:g}/{top:g} (not in the score)" in gradescope["output"]
    report = next((out / "submissions").glob("*/report.html")).read_text()
    assert f"concept questions: {got:g} / {top:g}, apart from the score" in report


def test_readme_shows_what_the_commands_print(home):
    """The README's examples of quiz and hint are the commands' real output."""
    readme = (ROOT / "README.md").read_text().split("## Solving an exercise", 1)[1].split("\n## ", 1)[0]
    for command in ("grader quiz", "grader hint", "grader interview", "grader progress", "grader check"):
        assert command in readme
    hint = grader("hint", "conv_forward").stdout.strip()
    assert f"$ grader hint conv_forward\n{hint}\n```" in readme
    quiz = grader("quiz", "conv_strided_dilated", "--seed", "7", stdin="9\n").stdout
    shown = readme.split("$ printf '9\\n' | grader quiz conv_strided_dilated --seed 7\n", 1)[1]
    head = shown.split("\n...\n", 1)[0]
    assert quiz.startswith(head.split("\n\nQuestion 2")[0])
