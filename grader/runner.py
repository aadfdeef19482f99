"""Running a hidden suite's cases in a learner's worker and judging every answer.

The reference solution, the hidden cases and every verdict live in this process. The learner's
file runs in a `WorkerSession`; only the case inputs go there and only its return values come back.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from grader import diagnose, suites
from grader.boundary import CallOutcome, WorkerSession
from grader.cases import Case, Suite, Variant
from grader.compare import compare
from grader.models import Diagnosis, Exercise, TestResult

MAX_TIMEOUTS_PER_FUNCTION = 2


@dataclass(frozen=True)
class Expected:
    """The reference's answer to a case: a value (float64) with the dtypes due, or an exception."""

    value: Any = None
    dtypes: Any = None
    raises: str | None = None


def _as_float64(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _dtypes(value: Any) -> Any:
    return tuple(v.dtype for v in value) if isinstance(value, tuple) else value.dtype


def reference_answer(suite: Suite, function: str, args: tuple, kwargs: dict) -> Expected:
    """The reference's value on these inputs in float64, and the dtypes it returns on them."""
    reference = getattr(suite.reference, function)
    value = reference(*[_as_float64(a) for a in args], **kwargs)
    return Expected(value=value, dtypes=_dtypes(reference(*args, **kwargs)))


def returned(value: Any) -> Expected:
    """The reference's answer as its own worker returned it (to float64 inputs for the timed
    cases, which are all float64), and the dtypes due."""
    return Expected(value=value, dtypes=_dtypes(value))


@cache
def expected(slug: str, case_id: str) -> Expected:
    """Computed once per process: batch grading reuses it for every submission."""
    suite = suites.get(slug)
    case = suite.case(case_id)
    if case.raises:
        return Expected(raises=case.raises)
    return reference_answer(suite, case.function, case.args, case.kwargs)


def variants_on(suite: Suite, function: str, args: tuple,
                kwargs: dict) -> tuple[tuple[Variant, Any], ...]:
    """Each mistaken variant of `function` on these inputs (None where it raised)."""
    outputs = []
    for variant in suite.variants:
        if variant.function != function:
            continue
        try:
            value = variant.compute(*[_as_float64(a) for a in args], **kwargs)
        except Exception:  # noqa: BLE001 - a variant that does not apply to this case
            value = None
        outputs.append((variant, value))
    return tuple(outputs)


@cache
def variant_outputs(slug: str, case_id: str) -> tuple[tuple[Variant, Any], ...]:
    case = suites.get(slug).case(case_id)
    return variants_on(suites.get(slug), case.function, case.args, case.kwargs)


def _param_names(suite: Suite, function: str) -> list[str]:
    return _parameters_of(getattr(suite.reference, function))


@cache
def _parameters_of(function: Callable) -> list[str]:
    return list(inspect.signature(function).parameters)


@dataclass(frozen=True)
class Verdict:
    status: str
    message: str = ""
    diagnosis: Diagnosis | None = None
    traceback: str = ""
    heatmap: list | None = None
    heatmap_shape: list[int] | None = None
    heatmap_output: str = ""
    shape_detail: dict | None = None


def judge(exercise: Exercise, case: Case, outcome: CallOutcome,
          ref: Expected | None = None) -> TestResult:
    """The verdict on one case, from the learner's outcome and the reference's answer (`ref`
    for inputs that are not the suite's: a timed call's)."""
    v = _verdict(exercise, case, outcome, ref)
    return TestResult(id=case.id, function=case.function, tier=case.tier, status=v.status,
                      points=case.points if v.status == "passed" else 0.0,
                      max_points=case.points, message=v.message, diagnosis=v.diagnosis,
                      traceback=v.traceback, heatmap=v.heatmap, heatmap_shape=v.heatmap_shape,
                      heatmap_output=v.heatmap_output, shape_detail=v.shape_detail)


def _verdict(exercise: Exercise, case: Case, outcome: CallOutcome, ref: Expected | None) -> Verdict:
    suite = suites.get(exercise.slug)
    if outcome.kind == "lost":
        return Verdict("timeout" if outcome.timed_out else "error", outcome.reason)
    if outcome.kind == "raised":
        return forbidden_verdict(case.function, outcome.error) or \
            raised_verdict(outcome.error, case.raises, case.readonly)
    timed = ref is not None  # inputs of a timed call: its variants are not cached per case

    def variants() -> list[tuple[Variant, Any]]:
        return list(variants_on(suite, case.function, case.args, case.kwargs) if timed
                    else variant_outputs(exercise.slug, case.id))

    if case.raises:
        return Verdict("failed", f"expected {case.raises} for these parameters, but a value was "
                                 "returned", diagnose.by_variants(variants(), outcome.value, None, None))
    if outcome.modified:
        return modified_verdict(suite, case.function, outcome.modified)
    ref = ref or expected(exercise.slug, case.id)
    params = {**dict(zip(_param_names(suite, case.function), case.args)), **case.kwargs}
    return value_verdict(suite, case.function, outcome.value, ref, variants, params)


def value_verdict(suite: Suite, function: str, value: Any, ref: Expected,
                  variants: Callable[[], list[tuple[Variant, Any]]],
                  params: dict | None = None) -> Verdict:
    """A returned value against the reference's: passed, or the mismatch with its diagnosis.
    `variants` is called only for a wrong answer (each variant is a full computation); with
    `params`, the call's arguments by name, a wrong shape is explained axis by axis."""
    names = suite.output_names(function)
    mismatch = compare(value, ref.value, ref.dtypes, names, function in suite.exact)
    if mismatch is None:
        return Verdict("passed")
    # Which output (dx, dw, db) was wrong; None for a plain array, or when the tuple itself was
    # not returned (then there is no component to diagnose or map).
    tupled = isinstance(ref.value, tuple) and mismatch.component in names
    index = names.index(mismatch.component) if tupled else None
    found = diagnose.named(mismatch.slug) if mismatch.slug else \
        diagnose.diagnose(variants(), value, ref.value, index)
    mine, want = diagnose.component(value, index), diagnose.component(ref.value, index)
    grid = diagnose.heatmap(mine, want)
    shape, detail = getattr(mine, "shape", None), None
    if shape is not None and isinstance(want, np.ndarray) and shape != want.shape and params:
        detail = diagnose.shape_detail(params, shape, want.shape,
                                       diagnose.axis_names(want.shape, params))
    return Verdict("failed", mismatch.message, found, heatmap=grid,
                   heatmap_shape=list(want.shape) if grid else None,
                   heatmap_output=names[index] if grid and index is not None else "",
                   shape_detail=detail)


def forbidden_verdict(function: str, error: dict) -> Verdict | None:
    """The verdict on a call that reached a withheld function: its stand-in raised ForbiddenCall
    with the function's name; None for any other exception."""
    if error.get("type") != "ForbiddenCall":
        return None
    name = str(error.get("message", "")).partition(" ")[0][:120]
    return Verdict("failed", f"called {name}, which {function} may not use",
                   diagnose.named("uses-forbidden-call"))


def modified_verdict(suite: Suite, function: str, modified: tuple[int | str, ...]) -> Verdict:
    """`modified` holds positional indices and keyword names, as the grader found them."""
    names, first = _param_names(suite, function), modified[0]
    arg = first if isinstance(first, str) else names[first] if first < len(names) else "an argument"
    return Verdict("failed", f"your function modified its argument {arg}",
                   diagnose.named("modified-input"))


def raised_verdict(error: dict, raises: str | None = None, readonly: bool = False) -> Verdict:
    """The learner's code raised: right if `raises` was due, else an error named by its type."""
    kind, text = str(error.get("type", "Exception")), str(error.get("message", ""))
    trace = str(error.get("traceback", ""))
    summary = f"{kind}: {text}" if text else kind
    if raises and raises in error.get("mro", []):
        if error.get("raised_by_learner", True):
            return Verdict("passed")
        return Verdict("failed", f"raised {summary}, but from inside a library call, not from a "
                                 "check of your own"[:300], traceback=trace)
    if kind == "NotImplementedError":
        return Verdict("error", f"not implemented ({summary})"[:300])
    if "MemoryError" in error.get("mro", []):
        return Verdict("error", "memory limit exceeded (MemoryError)", traceback=trace)
    if readonly and "read-only" in text:
        return Verdict("failed", f"failed on a read-only input ({summary})"[:300],
                       diagnose.named("modified-input"), trace)
    return Verdict("error", f"raised {summary}"[:300], traceback=trace)


def _skipped(case: Case, reason: str) -> TestResult:
    return TestResult(id=case.id, function=case.function, tier=case.tier, status="timeout",
                      points=0.0, max_points=case.points, message=reason)


class CaseRunner:
    """Runs a suite's cases one at a time in one worker session, each at most once, within the
    file's time budget; a function that timed out twice is not called again."""

    def __init__(self, exercise: Exercise, session: WorkerSession, deadline: float,
                 where: str = "file") -> None:
        self.exercise, self.session, self.deadline, self.where = exercise, session, deadline, where
        self.suite = suites.get(exercise.slug)
        self.timeouts: dict[str, int] = {}
        self.done: dict[str, TestResult] = {}

    def run(self, case: Case) -> TestResult:
        """The case's verdict as the learner's code answered it (run now, or earlier)."""
        if case.id not in self.done:
            self.done[case.id] = self._run(case)
        return self.done[case.id]

    def scored(self, case: Case) -> TestResult:
        """The verdict that counts: a case that must raise earns its points scaled by the share
        of the function's valid-input points earned (all of them for a correct function,
        nothing for one that raises on everything), so that raising alone earns nothing."""
        result = self.run(case)
        if not (case.raises and result.status == "passed"):
            return result
        valid = [c for c in self.suite.cases if c.function == case.function and not c.raises]
        total = sum(c.points for c in valid)
        earned = sum(self.run(c).points for c in valid)
        if not total or earned >= total:
            return result
        share = earned / total
        return dataclasses.replace(result, points=round(case.points * share, 6), message=(
            f"raised as required; earns {share:.0%} of its points, the share of "
            f"{case.function}'s points for valid inputs earned ({earned:g} of {total:g})"))

    def _run(self, case: Case) -> TestResult:
        exercise, limits = self.exercise, self.exercise.limits
        state = self.session.defined.get(case.function, "missing")
        left = self.deadline - time.monotonic()
        if state != "ok":
            why = "is not defined" if state == "missing" else "is not a function"
            return TestResult(case.id, case.function, case.tier, "error", 0.0, case.points,
                              f"{case.function} {why} in your {self.where}")
        if left <= 0:
            return _skipped(case, f"not run: the {limits.total_timeout_s:g} s budget for the "
                                  "whole file was used up")
        if self.timeouts.get(case.function, 0) >= MAX_TIMEOUTS_PER_FUNCTION:
            return _skipped(case, f"not run: {case.function} already timed out "
                                  f"{MAX_TIMEOUTS_PER_FUNCTION} times")
        outcome = self.session.call(
            case.function, case.args, case.kwargs, layout=case.layout, readonly=case.readonly,
            timeout=min(limits.call_timeout_s, left))
        if outcome.timed_out:
            self.timeouts[case.function] = self.timeouts.get(case.function, 0) + 1
        return judge(exercise, case, outcome)


def run_cases(exercise: Exercise, session: WorkerSession, deadline: float,
              where: str = "file") -> list[TestResult]:
    """Every case of the suite, in table order, then scored; `where` names what the learner
    submitted (file or notebook) in the messages about missing functions."""
    runner = CaseRunner(exercise, session, deadline, where)
    for case in runner.suite.cases:
        runner.run(case)
    return [runner.scored(case) for case in runner.suite.cases]
