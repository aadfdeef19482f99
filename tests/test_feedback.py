"""Feedback a learner reads in ten seconds: findings first, each stated once, failed tests one line
each, passed ones counted, within the terminal's width and one screen for one bug."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from grader import exercises, html, report
from grader.grade import grade_file
from tests.conftest import ROOT

BUGGY = sorted((ROOT / "tests" / "submissions" / "buggy" / "conv_backward").glob("*.py"))
FLIPPED = ROOT / "tests" / "submissions" / "buggy" / "conv_backward" / "dx-kernel-not-flipped.py"
MAX_LINES, NOTEBOOK_BYTES = 25, 30_000


def check(*args: str, columns: str | None = None) -> list[str]:
    """`grader check` as a learner runs it, its output piped (not a terminal)."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    done = subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    return done.stdout.splitlines()


def test_one_bug_in_conv_backward_fits_one_piped_screen():
    lines = check("exercises/conv_backward", "--file", str(FLIPPED))
    assert len(lines) <= MAX_LINES and max(map(len, lines)) <= 80, "\n".join(lines)
    text = "\n".join(lines)
    # the mistake is named once, with its hint once, before the failed tests
    assert text.count("dx-kernel-not-flipped") == 1 + ("dx-kernel-not-flipped" in lines[0])
    assert text.count("hint:") == 1
    assert text.index("mistake: dx-kernel-not-flipped") < text.index("failed:")
    passed, total = map(int, re.search(r"(\d+) of (\d+) tests passed", lines[2]).groups())
    assert 0 < passed < total and f"passed: {passed} tests" in text


def test_the_terminal_width_is_kept_and_verbose_lists_every_test():
    narrow = check("exercises/conv_backward", "--file", str(FLIPPED), columns="60")
    assert max(map(len, narrow)) <= 60
    verbose = check("exercises/conv_backward", "--file", str(FLIPPED), "--verbose")
    total = int(re.search(r"of (\d+) tests passed", verbose[2]).group(1))
    assert sum(line.startswith(("    FAIL", "    PASS")) for line in verbose) == total


def test_the_untouched_stub_says_not_implemented_once():
    lines = check("exercises/conv_backward")
    assert sum("not implemented" in line for line in lines) == 1
    total = int(re.search(r"of (\d+) tests passed", lines[2]).group(1))
    assert any(f"all {total} tests" in line for line in lines)


@pytest.mark.parametrize("path", BUGGY, ids=[p.stem for p in BUGGY])
def test_every_buggy_conv_backward_fits_one_piped_screen(path):
    lines = check("exercises/conv_backward", "--file", str(path))
    assert len(lines) <= MAX_LINES and max(map(len, lines)) <= 80, "\n".join(lines)


@pytest.mark.parametrize("path", BUGGY, ids=[p.stem for p in BUGGY])
def test_every_buggy_conv_backward_fits_the_notebook_targets(path):
    result = grade_file(exercises.resolve("conv_backward"), path)
    text = report.render_text(result, width=80)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES and max(map(len, lines)) <= 80, text
    # what the notebook stores per run: the HTML and the same text as the terminal
    assert len(html.render_check(result).encode()) + len(text.encode()) < NOTEBOOK_BYTES
    for finding in result.functions[0].findings[:2]:
        assert text.count(f": {finding.key} (explains") == 1
