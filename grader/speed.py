"""Vectorization feedback: time a learner's correct function against the reference, side by side.

Both are timed the same way, from the grader's side, on the suite's medium case: the wall time of
a call round trip to a worker process, the learner's function in the learner's worker and the
reference in a worker of its own (same limits, same single BLAS thread, same transfer costs; the
reference never enters the learner's worker). The ratio is informational; far above the
reference's it earns the `python-loops` note.
"""

from __future__ import annotations

import inspect
import time
from functools import cache
from pathlib import Path

from grader import diagnose, suites
from grader.boundary import WorkerSession
from grader.cases import Case
from grader.models import Exercise, Limits, Performance, TestResult

LOOPS_RATIO = 10.0
SLOWER_RATIO = 3.0
REPEATS = 3
BUDGET_S = 2.0


@cache
def _reference_seconds(slug: str, case_id: str, limits: Limits) -> float | None:
    """Measured once per process: a batch compares every submission with the same number."""
    case = next(c for c in suites.get(slug).performance if c.id == case_id)
    path = Path(inspect.getfile(suites.get(slug).reference))
    load = {"source": path.read_text(), "filename": "reference"}
    with WorkerSession(load, [case.function], limits) as session:
        return _learner_seconds(session, case, limits.call_timeout_s)


def time_reference(exercise: Exercise) -> None:
    """Time the reference on every medium case now, so that no submission waits for it."""
    for case in suites.get(exercise.slug).performance:
        _reference_seconds(exercise.slug, case.id, exercise.limits)


def _learner_seconds(session: WorkerSession, case: Case, timeout: float) -> float | None:
    """Best of a few timed calls; None when it did not answer (the verdicts already say why)."""
    if not session.ensure_started():
        return None
    best, spent = float("inf"), 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        outcome = session.call(case.function, case.args, case.kwargs, timeout=timeout)
        elapsed = time.perf_counter() - start
        if outcome.timed_out:
            return timeout
        if outcome.kind != "value":
            return None
        best, spent = min(best, elapsed), spent + elapsed
        if spent > BUDGET_S / REPEATS:
            break
    return best


def verdict(ratio: float) -> tuple[str, bool]:
    if ratio > LOOPS_RATIO:
        return "far slower than the reference: looks like Python loops over the data", True
    if ratio > SLOWER_RATIO:
        return "slower than the reference, but vectorized enough", False
    return "on par with the vectorized reference", False


def measure(exercise: Exercise, session: WorkerSession, results: list[TestResult],
            deadline: float) -> tuple[Performance, ...]:
    """One `Performance` per function that passed all its tests and has a medium case."""
    measured = []
    for case in suites.get(exercise.slug).performance:
        mine = [r for r in results if r.function == case.function]
        left = deadline - time.monotonic()
        if not mine or any(r.status != "passed" for r in mine) or left < 1.0:
            continue
        learner = _learner_seconds(session, case, min(exercise.limits.call_timeout_s, left))
        if learner is None:
            continue
        reference = _reference_seconds(exercise.slug, case.id, exercise.limits)
        if reference is None:
            continue
        ratio = learner / max(reference, 1e-6)
        text, loops = verdict(ratio)
        measured.append(Performance(
            function=case.function, ratio_to_reference=round(ratio, 1), verdict=text,
            learner_ms=round(learner * 1e3, 2), reference_ms=round(reference * 1e3, 2),
            diagnosis=diagnose.named("python-loops") if loops else None))
    return tuple(measured)
