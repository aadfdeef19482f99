"""Strings no codec accepts: a learner's lone surrogates and a file name that is not UTF-8 reach
every report and the gradebook as visible escapes, never as a grader traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SURROGATES = '''
def convolve1d(a, v, mode="full"):
    raise ValueError("bad \\ud800 value")


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    raise type("Err\\udcff", (Exception,), {})("x")
'''


def grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, cwd=ROOT,
                          timeout=600)


def test_lone_surrogates_in_exceptions_are_reported_not_raised(tmp_path):
    path = tmp_path / "surrogates.py"
    path.write_text(SURROGATES)
    for extra in ([], ["--html", str(tmp_path / "r.html")], ["--json"]):
        proc = grader("check", "conv1d", "--file", str(path), *extra)
        assert proc.returncode == 1, proc.stderr.decode(errors="replace")
        assert b"Traceback" not in proc.stderr
    assert "bad \\ud800 value" in (tmp_path / "r.html").read_text()


def test_a_file_name_that_is_not_utf8_gets_its_report_and_others_keep_theirs(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest = (ROOT / "tests" / "submissions" / "naive" / "conv1d.py").read_bytes()
    (folder / "honest_conv1d.py").write_bytes(honest)
    with open(os.path.join(os.fsencode(folder), b"evil_\xff_name.py"), "wb") as handle:
        handle.write(honest)
    out = tmp_path / "out"
    proc = grader("grade", str(folder), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 3 and any("evil_\\udcff_name.py" in row for row in rows)
    assert len(list((out / "submissions").glob("*/report.html"))) == 2
    assert (out / "index.html").is_file()
