"""The `grader` command line: exit codes, the JSON result document, one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import ROOT, SLUGS

RESULT_KEYS = {"schema", "exercise", "submission", "status", "message", "score", "max_score",
               "tests", "performance"}
TEST_KEYS = {"id", "function", "tier", "status", "points", "max_points", "message", "diagnosis"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_list_shows_every_exercise():
    result = run("list")
    assert result.exit_code == 0
    for slug in SLUGS:
        assert slug in result.output


def test_unknown_exercise_is_a_one_line_error():
    """Does a typo give exit 2 and one line naming the known exercises, never a traceback?"""
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "exercises/conv3d"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown exercise" in lines[0] and "conv1d" in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_file_is_a_usage_error():
    result = run("check", str(ROOT / "exercises/conv1d"), "--file", "/nonexistent/x.py")
    assert result.exit_code == 2


def test_stub_fails_with_exit_1_and_json_schema():
    result = run("check", str(ROOT / "exercises/conv_forward"), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert RESULT_KEYS <= set(doc) and doc["schema"] == 2
    assert doc["status"] == "graded" and doc["score"] == 0 and doc["max_score"] == 100
    assert doc["tests"] and all(TEST_KEYS <= set(t) for t in doc["tests"])
    assert all(t["status"] in {"passed", "failed", "error", "timeout"} for t in doc["tests"])


def test_reference_passes_with_exit_0():
    result = run("check", str(ROOT / "exercises/conv_backward"), "--file",
                 str(ROOT / "solutions/conv_backward.py"))
    assert result.exit_code == 0, result.output
    assert "score 100/100" in result.output


def test_file_that_is_not_utf8_is_reported_not_raised(tmp_path):
    bad = tmp_path / "latin1.py"
    bad.write_bytes("# caf\xe9\n".encode("latin-1"))
    result = run("check", str(ROOT / "exercises/conv1d"), "--file", str(bad), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "error" and "UTF-8" in doc["message"]
