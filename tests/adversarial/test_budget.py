"""A submission's time budget holds for every exchange with its worker: a worker that dies on
each call so that the next case reloads it (a slow load every time) stops at the budget."""

from __future__ import annotations

import dataclasses
import time

from grader import exercises, grade

RELOADS_SLOWLY = """import os, time
time.sleep(5.0)


def convolve1d(a, v, mode="full"):
    os._exit(3)
"""


def test_reloading_after_every_crash_stops_at_the_budget():
    exercise = exercises.resolve("conv1d")
    exercise = dataclasses.replace(exercise, limits=dataclasses.replace(
        exercise.limits, total_timeout_s=6.0, call_timeout_s=2.0))
    start = time.monotonic()
    result = grade.grade_source(exercise, RELOADS_SLOWLY, "reloads.py")
    elapsed = time.monotonic() - start
    assert elapsed < 6.0 + 2.0, elapsed  # the budget, plus the time to kill and clean up
    assert result.score == 0
    assert any("time budget" in t.message for t in result.tests)
