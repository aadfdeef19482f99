"""Instructor batch grading: every submission gets a report and a row, reruns resume, files are whole."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader import batch, exercises
from tests.conftest import ROOT


def notebook(path: Path, slug: str | None, *cells: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    if slug:
        nb.metadata["convgrade"] = {"exercise": slug}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """A small class: correct, buggy, broken and hostile submissions across two exercises."""
    root = tmp_path_factory.mktemp("class")
    reference = (ROOT / "solutions" / "conv_forward.py").read_text()
    naive_pool = (ROOT / "tests" / "submissions" / "naive" / "pooling.py").read_text()
    notebook(root / "ana.ipynb", "conv_forward", "import numpy as np", reference)
    notebook(root / "ben.ipynb", "conv_forward", reference, "raise RuntimeError('my own bug')")
    notebook(root / "cy.ipynb", None, reference)
    (root / "dee.ipynb").write_text("{ this is not json")
    (root / "sub").mkdir()
    (root / "sub" / "eve.py").write_text(naive_pool)
    (root / "=HYPERLINK(1).py").write_text("def conv_forward(x, w, b, stride=1, padding=0):\n"
                                            "    return None\n")
    os.symlink("/etc/hostname", root / "link.py")
    return root


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return out, batch.grade_batch([klass], out, jobs=2)


@pytest.mark.slow
def test_every_submission_has_a_report_and_a_row(graded):
    out, results = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(results) == 7
    for g in results:
        assert (out / "submissions" / g.submission.key / "report.html").is_file()
        assert (out / "submissions" / g.submission.key / "results.json").is_file()
    assert json.loads((out / "results.json").read_text())[0]["schema"] == 2
    assert (out / "index.html").read_text().count("<svg") >= 1


def test_scores_and_reasons(graded):
    _, results = graded
    by_name = {g.submission.name: g.result for g in results}
    assert by_name["ana.ipynb"].score == 100
    ben = by_name["ben.ipynb"]
    assert ben.score == 100 and any("my own bug" in c.message for c in ben.cell_errors)
    assert by_name[os.path.join("sub", "eve.py")].score == 100
    assert "metadata" in by_name["cy.ipynb"].message
    assert "JSON" in by_name["dee.ipynb"].message
    assert "symbolic link" in by_name["link.py"].message
    assert by_name["=HYPERLINK(1).py"].status == "graded" and by_name["=HYPERLINK(1).py"].score == 0


def test_gradebook_cells_cannot_start_formulas(graded):
    out, _ = graded
    text = (out / "grades.csv").read_text()
    assert "'=HYPERLINK" in text
    for row in csv.reader(text.splitlines()):
        assert not any(cell[:1] in "=+-@" and cell for cell in row)


def test_rerun_skips_unchanged_and_regrades_changed(klass, graded, tmp_path):
    out, _ = graded
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (klass / "sub" / "eve.py").write_text("def max_pool_forward(x, kernel_size, stride=None, padding=0):\n"
                                          "    return x\n")
    again = {g.submission.name: g for g in batch.grade_batch([klass], copy, jobs=2)}
    assert again["ana.ipynb"].reused and again["ana.ipynb"].result.score == 100
    assert not again[os.path.join("sub", "eve.py")].reused
    assert again[os.path.join("sub", "eve.py")].result.score < 100


@pytest.mark.slow
def test_kill_mid_batch_then_rerun_finishes_without_regrading(tmp_path):
    """Is a batch killed with SIGKILL resumed by a rerun, with no half-written file anywhere?"""
    src = tmp_path / "in"
    src.mkdir()
    reference = (ROOT / "solutions" / "conv1d.py").read_text()
    for i in range(6):
        (src / f"s{i}.py").write_text(reference + f"\n# learner {i}\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "grade", str(src), "--out", str(out), "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("submissions/*/result.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/result.json")}
    assert 2 <= len(first) < 6
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.count("not regraded") >= len(first)
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/result.json")}
    assert len(after) == 6 and all(after[k] == v for k, v in first.items())
    assert not [p for p in out.rglob(".*") if p.is_file()], "temporary files left behind"
    for path in out.rglob("*.json"):
        json.loads(path.read_text())


def test_exercise_is_inferred_for_python_files(tmp_path):
    catalogue = exercises.discover()
    path = tmp_path / "mine.py"
    path.write_text("def conv2d(x, w):\n    pass\n\ndef conv2d_backward(dout, x, w):\n    pass\n")
    assert batch.infer_exercise(path, catalogue).slug == "conv_strided_dilated"
    path.write_text("print('hello')\n")
    assert batch.infer_exercise(path, catalogue) is None


def test_main_mistake_in_the_gradebook_and_the_gradescope_output(tmp_path):
    from grader.models import Diagnosis, GradeResult, TestResult

    crop = Diagnosis("dx-not-cropped", "dx still includes the padding.", "Crop the padding.")
    flip = Diagnosis("dx-kernel-not-flipped", "The kernel was not rotated.", "Rotate it.")
    tests = (TestResult("a", "conv_backward", "core", "failed", 0, 5, "wrong", crop),
             TestResult("b", "conv_backward", "core", "failed", 0, 5, "wrong", flip),
             TestResult("c", "conv_backward", "core", "failed", 0, 5, "wrong", flip),
             TestResult("d", "conv_backward", "core", "passed", 5, 5))
    result = GradeResult("conv_backward", "x.py", "graded", 5, 20, tests)
    sub = batch.Submission("x.py", tmp_path / "x.py", "x.py")
    rows = list(csv.DictReader(batch.gradebook_csv([batch.Graded(sub, result)]).splitlines()))
    assert rows[0]["main_mistake"] == "dx-kernel-not-flipped"  # explains two tests, crop one
    assert "main mistake: dx-kernel-not-flipped" in batch.gradescope(result)["output"]
    batch.write_summary(tmp_path, [batch.Graded(sub, result)])
    (doc,) = json.loads((tmp_path / "results.json").read_text())
    assert doc["main_mistake"] == "dx-kernel-not-flipped"
