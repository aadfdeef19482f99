"""Vectorization feedback: time a learner's correct function against the reference, side by side.

Both are timed the same way, from the grader's side, on the suite's medium case: the wall time of
a call round trip to a worker process, the learner's function in the learner's worker and the
reference in a worker of its own (same limits, same single BLAS thread, same transfer costs; the
reference never enters the learner's worker). The ratio is informational.

What the note says is measured, not guessed from the ratio: once, outside the timed calls, the
learner's worker counts the Python lines the function runs on a small case. Many lines per output
element earn `python-loops`; a slow answer with few lines is loop-free, and is told what makes it
slow when that is known (np.einsum without `optimize`).
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

LOOPS_LINES_PER_OUTPUT = 0.5  # a loop over the kernel taps runs far fewer; one per N, H or W more
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


def verdict(ratio: float, lines_per_output: float | None, einsum_unoptimized: bool) \
        -> tuple[str, str | None]:
    """The sentence for a correct function's speed, and the catalogue slug of its note, if any."""
    if lines_per_output is not None and lines_per_output >= LOOPS_LINES_PER_OUTPUT:
        return (f"{ratio:.1f}x the reference's time, running {lines_per_output:.1f} Python lines "
                "per output element: Python loops over the data", "python-loops")
    if ratio > SLOWER_RATIO and einsum_unoptimized:
        return (f"{ratio:.1f}x the reference's time, without Python loops over the data: "
                "np.einsum contracts in the order written unless told to optimize", "slow-einsum")
    if ratio > SLOWER_RATIO:
        return (f"{ratio:.1f}x the reference's time, without Python loops over the data: "
                "vectorized, but with more work or copies than needed", None)
    return "on par with the vectorized reference", None


def _small_case(slug: str, function: str) -> Case | None:
    """The function's first scored case with a value to return: where lines are counted."""
    return next((c for c in suites.get(slug).cases if c.function == function
                 and not c.raises and c.layout == "C" and not c.readonly), None)


def _lines_per_output(session: WorkerSession, case: Case | None, timeout: float) \
        -> tuple[float | None, bool]:
    """Python lines the learner's function runs per output element on `case` (not timed)."""
    if case is None:
        return None, False
    outcome = session.call(case.function, case.args, case.kwargs, timeout=timeout,
                           count_lines=True)
    if outcome.kind != "value" or outcome.lines is None:
        return None, False
    value = outcome.value
    size = sum(getattr(v, "size", 1) for v in value) if isinstance(value, (tuple, list)) \
        else getattr(value, "size", 1)
    return outcome.lines / max(int(size), 1), outcome.einsum_unoptimized


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
        lines, einsum = _lines_per_output(session, _small_case(exercise.slug, case.function),
                                          min(exercise.limits.call_timeout_s, left))
        text, note = verdict(ratio, lines, einsum)
        measured.append(Performance(
            function=case.function, ratio_to_reference=round(ratio, 1), verdict=text,
            learner_ms=round(learner * 1e3, 2), reference_ms=round(reference * 1e3, 2),
            diagnosis=diagnose.named(note) if note else None,
            python_lines_per_output=None if lines is None else round(lines, 3)))
    return tuple(measured)
