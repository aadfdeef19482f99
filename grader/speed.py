"""Vectorization feedback: time a learner's correct function against the reference, side by side.

Both are timed the same way, from the grader's side, on the suite's medium case: the grader's
monotonic clock around a call's round trip to a worker process, the learner's function in the
learner's worker and the reference in a worker of its own (same limits, same single BLAS thread,
same transfer costs; the reference never enters the learner's worker); the worker reports no
time of its own. Each timed call has inputs of its own (the medium case's shapes, random values
drawn once per grading process, the same for the reference and every submission of a batch),
which the worker has never seen: no answer can come from a cache of earlier calls. Every timed
answer is judged like a scored one, against the reference's answer to the same inputs (returned
by the reference's worker as it was timed: no extra work in the grader): a wrong answer is a
failed verdict (worth no points) and the function gets no speed verdict at all.

Whether a note is due is decided from that time alone: over `SLOWER_RATIO` times the
reference's. What the note says comes from the learner's worker, which counts, once and outside
the timed calls, the Python lines the function runs on a small case and on it with the batch
doubled: many lines per extra output element word it `python-loops`; few, `slow`, told what makes
it slow when that is known (np.einsum without `optimize`). Those counts are the learner's process
speaking: they pick the wording of a note, never whether there is one.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import time
from functools import cache
from pathlib import Path

import numpy as np

from grader import diagnose, runner, suites
from grader.boundary import WorkerSession
from grader.cases import Case
from grader.models import Exercise, Limits, Performance, TestResult

LOOPS_LINES_PER_OUTPUT = 0.5  # a loop over the kernel taps runs far fewer; one per N, H or W more
SLOWER_RATIO = 3.0
REPEATS = 3
BUDGET_S = 2.0


@cache
def _reference_runs(slug: str, limits: Limits) \
        -> dict[str, tuple[float | None, tuple[runner.Expected, ...]]]:
    """Per medium case, the reference's time and its answers to the timed calls' inputs, from
    one worker of its own (no learner code runs there), once per process: a batch compares
    every submission with the same time and judges its timed answers against these."""
    cases = suites.get(slug).performance
    path = Path(inspect.getfile(suites.get(slug).reference))
    load = {"source": path.read_text(), "filename": "reference"}
    runs = {}
    with WorkerSession(load, list(dict.fromkeys(c.function for c in cases)), limits) as session:
        for case in cases:
            seconds, values, _ = _timed(session, slug, case, limits.call_timeout_s)
            runs[case.id] = seconds, tuple(runner.returned(v) for v in values)
    return runs


def time_reference(exercise: Exercise) -> None:
    """Time the reference on every medium case now, so that no submission waits for it."""
    _reference_runs(exercise.slug, exercise.limits)


def fresh(case: Case) -> Case:
    """`case` with new values in every float array (same shapes, dtypes and layout), drawn from
    the system's entropy: inputs no earlier call had, that no one can compute ahead."""
    rng = np.random.default_rng()

    def renew(arg):
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
            return rng.uniform(-1.0, 1.0, arg.shape).astype(arg.dtype, copy=False)
        return arg

    return dataclasses.replace(case, args=tuple(renew(a) for a in case.args),
                               kwargs={k: renew(v) for k, v in case.kwargs.items()})


_drawn: dict[tuple[str, str, int], Case] = {}
_drawing = threading.Lock()


def _timed_inputs(slug: str, case_id: str, repeat: int) -> Case:
    """The inputs of a medium case's `repeat`th timed call: fresh, drawn once per process, so
    that the reference and every submission of a batch are timed on the same ones (a worker
    answers each at most once, never a scored input again). Under a lock: the threads of a
    batch must not draw two sets, one judged against the other's answer."""
    with _drawing:
        key = (slug, case_id, repeat)
        if key not in _drawn:
            _drawn[key] = fresh(suites.get(slug).case(case_id))
        return _drawn[key]


def _timed(session: WorkerSession, slug: str, case: Case, timeout: float,
           exercise: Exercise | None = None, answers: tuple[runner.Expected, ...] = ()) \
        -> tuple[float | None, list, TestResult | None]:
    """Best of a few timed calls, each on inputs of its own, and the values returned; None when
    it did not answer (the verdicts already say why). With `exercise`, each answer is judged
    against the reference's to the same inputs (`answers`, as many calls as there are), and the
    first wrong one is returned."""
    if not session.ensure_started():
        return None, [], None
    best, spent, values = float("inf"), 0.0, []
    for repeat in range(REPEATS if exercise is None else len(answers)):
        inputs = _timed_inputs(slug, case.id, repeat)
        start = time.monotonic()
        outcome = session.call(case.function, inputs.args, inputs.kwargs, timeout=timeout)
        elapsed = time.monotonic() - start
        if outcome.timed_out:
            return timeout, values, None
        if exercise is not None:  # variants run only if the answer is wrong
            judged = runner.judge(exercise, inputs, outcome, answers[repeat])
            if judged.status != "passed":
                return None, values, dataclasses.replace(
                    judged, message=f"timed call: {judged.message}"[:300])
        if outcome.kind != "value":
            return None, values, None
        if exercise is None:  # the reference's answers, which the learner's are judged against
            values.append(outcome.value)
        best, spent = min(best, elapsed), spent + elapsed
        if spent > BUDGET_S / REPEATS:
            break
    return (best if best < float("inf") else None), values, None


def verdict(ratio: float, lines_per_output: float | None, einsum_unoptimized: bool) \
        -> tuple[str, str | None]:
    """The sentence for a correct function's speed, and the catalogue slug of its note, if any.
    `ratio` (the grader's clock) decides whether it is slow; the rest (counted by the learner's
    worker) only says how."""
    if ratio <= SLOWER_RATIO:
        return "on par with the vectorized reference", None
    if lines_per_output is None:
        return "slower than the reference (its Python lines could not be counted)", None
    if lines_per_output >= LOOPS_LINES_PER_OUTPUT:
        return (f"runs {lines_per_output:.1f} Python lines per output element: Python loops over "
                "the data", "python-loops")
    if einsum_unoptimized:
        return ("no Python loops over the data, but np.einsum contracts in the order written "
                "unless told to optimize", "slow-einsum")
    # what was measured, no cause: one reduction over small window axes or an index gather
    # can take several times an elementwise operation per tap for the same work
    return ("no Python loops over the data: vectorized another way, which took longer than the "
            "model answer", None)


def _small_case(slug: str, function: str) -> Case | None:
    """The function's first scored case with a value to return: where lines are counted."""
    return next((c for c in suites.get(slug).cases if c.function == function
                 and not c.raises and c.layout == "C" and not c.readonly), None)


BATCHED = ("a", "x", "dout", "x_shape")  # the parameters whose leading axis is the batch (or signal)


def _doubled(slug: str, case: Case) -> Case:
    """The case with its batch doubled (the arrays and the x_shape tuple of the BATCHED
    parameters, by name: a weight of F == N filters stays as it is): as many more outputs, the
    same code path."""
    def double(name, arg):
        if name not in BATCHED:
            return arg
        return np.concatenate([arg, arg]) if isinstance(arg, np.ndarray) else \
            (2 * arg[0],) + tuple(arg[1:])

    names = runner._param_names(suites.get(slug), case.function)
    return dataclasses.replace(case, args=tuple(double(n, a) for n, a in zip(names, case.args)))


def _count(session: WorkerSession, case: Case, timeout: float) -> tuple[int, int, bool] | None:
    """Python lines run, output elements returned, np.einsum without optimize: on `case`."""
    outcome = session.call(case.function, case.args, case.kwargs, timeout=timeout,
                           count_lines=True)
    if outcome.kind != "value" or outcome.lines is None:
        return None
    value = outcome.value
    items = value if isinstance(value, (tuple, list)) else (value,)
    return outcome.lines, sum(int(getattr(v, "size", 1)) for v in items), \
        outcome.einsum_unoptimized


def _lines_per_output(session: WorkerSession, slug: str, case: Case | None, timeout: float) \
        -> tuple[float | None, bool]:
    """Python lines the learner's function runs per extra output element: counted on a small
    case and on it with the batch doubled (not timed), so that the fixed lines of a call
    (checks, set-up, a loop over the kernel taps) do not count."""
    if case is None or not isinstance(case.args[0], np.ndarray) or not case.args[0].ndim:
        return None, False
    case = fresh(case)
    small, large = _count(session, case, timeout), _count(session, _doubled(slug, case), timeout)
    if small is None or large is None or large[1] <= small[1]:
        return None, False
    return max(large[0] - small[0], 0) / (large[1] - small[1]), small[2] or large[2]


def measure(exercise: Exercise, session: WorkerSession, results: list[TestResult],
            deadline: float) -> tuple[tuple[Performance, ...], tuple[TestResult, ...]]:
    """One `Performance` per function that passed all its tests and has a medium case, and the
    failed verdicts of the functions whose timed answers were wrong."""
    measured, wrong = [], []
    for case in suites.get(exercise.slug).performance:
        mine = [r for r in results if r.function == case.function]
        left = deadline - time.monotonic()
        if not mine or any(r.status != "passed" for r in mine) or left < 1.0:
            continue
        reference, answers = _reference_runs(exercise.slug, exercise.limits)[case.id]
        learner, _, failed = _timed(session, exercise.slug, case,
                                    min(exercise.limits.call_timeout_s, left), exercise, answers)
        if failed is not None:
            wrong.append(failed)
        if learner is None or reference is None:
            continue
        ratio = round(learner / max(reference, 1e-6), 1)  # the note and the report agree
        lines, einsum = _lines_per_output(session, exercise.slug,
                                          _small_case(exercise.slug, case.function),
                                          min(exercise.limits.call_timeout_s, left))
        text, note = verdict(ratio, lines, einsum)
        measured.append(Performance(
            function=case.function, ratio_to_reference=ratio, verdict=text,
            learner_ms=round(learner * 1e3, 2), reference_ms=round(reference * 1e3, 2),
            diagnosis=diagnose.named(note) if note else None,
            python_lines_per_output=None if lines is None else round(lines, 3)))
    return tuple(measured), tuple(wrong)
