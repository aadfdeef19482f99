"""The benchmark scripts run and print their tables. A smoke test on one small case: the timings
themselves are machine-dependent and are not checked (docs/performance.md has the measurements)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from grader import speed

ROOT = Path(__file__).resolve().parents[1]
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.slow
def test_bench_torch_times_a_case_forward_and_backward():
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_torch.py", "--only", "k3 d2", "--dtype", "float32",
         "--repeats", "1", "--no-oracle"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines() if line.startswith("| conv2d")]
    assert [r[0].strip() for r in rows] == ["conv2d", "conv2d_backward"]
    for row in rows:
        reference_ms, ratio, faults = row[2], row[4], row[7]
        assert float(reference_ms) > 0
        assert len(faults.split(",")) == (2 if HAS_TORCH else 1)
        if HAS_TORCH:  # the script stops with an error if the reference and torch disagree
            assert float(ratio) > 0
        else:
            assert "torch is not installed" in proc.stdout


def test_bench_idioms_runs_every_idiom_and_none_gets_the_loops_note():
    """Every idiom once (`--repeats 1`, a few seconds): the script runs against the grader's
    current speed rule, and no accepted idiom runs enough Python lines per output to be told it
    loops (counted lines are deterministic; the times are not checked)."""
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_idioms.py", "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines()
            if line.startswith("| ") and "`" in line]
    idioms = [r[1].strip(" `") for r in rows]
    assert len(idioms) == 7 and len(set(idioms)) == 7, idioms
    for row in rows:
        model_ms, idiom_ms, lines, verdict = float(row[2]), float(row[3]), float(row[5]), row[6]
        assert model_ms > 0 and idiom_ms > 0
        assert lines < speed.LOOPS_LINES_PER_OUTPUT, row
        assert "Python loops over the data" not in verdict.replace("no Python loops", ""), row


def test_bench_idioms_selects_a_function():
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_idioms.py", "--repeats", "1", "--function", "conv1d"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [line.split("|")[2].strip(" `") for line in proc.stdout.splitlines()
            if "`" in line] == ["conv1d_einsum"]
