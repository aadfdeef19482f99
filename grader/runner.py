"""Running a hidden suite's cases in a learner's worker and judging every answer.

The reference solution, the hidden cases and every verdict live in this process. The learner's
file runs in a `WorkerSession`; only the case inputs go there and only its return values come back.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import time
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from grader import diagnose
from grader.boundary import CallOutcome, WorkerSession
from grader.cases import Case, Variant
from grader.compare import compare
from grader.models import Diagnosis, Exercise, TestResult

MAX_TIMEOUTS_PER_FUNCTION = 2


@dataclass(frozen=True)
class Expected:
    """The reference's answer to a case: a value (float64) with the dtypes due, or an exception."""

    value: Any = None
    dtypes: Any = None
    raises: str | None = None


@cache
def suite(slug: str) -> ModuleType:
    return importlib.import_module(f"grader.suites.{slug}")


@cache
def reference(slug: str) -> ModuleType:
    return importlib.import_module(f"solutions.{slug}")


def _as_float64(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _dtypes(value: Any) -> Any:
    return tuple(v.dtype for v in value) if isinstance(value, tuple) else value.dtype


def _case(slug: str, case_id: str) -> Case:
    return next(c for c in suite(slug).CASES if c.id == case_id)


@cache
def expected(slug: str, case_id: str) -> Expected:
    """Computed once per process: batch grading reuses it for every submission."""
    case = _case(slug, case_id)
    function = getattr(reference(slug), case.function)
    if case.raises:
        return Expected(raises=case.raises)
    value = function(*[_as_float64(a) for a in case.args], **case.kwargs)
    dtypes = _dtypes(function(*case.args, **case.kwargs))
    return Expected(value=value, dtypes=dtypes)


@cache
def variants(slug: str) -> tuple[Variant, ...]:
    """The exercise's mistaken variants (grader/variants/<slug>.py), if it registers any."""
    try:
        return importlib.import_module(f"grader.variants.{slug}").VARIANTS
    except ModuleNotFoundError:
        return ()


@cache
def variant_outputs(slug: str, case_id: str) -> tuple[tuple[Variant, Any], ...]:
    """Each mistaken variant of the case's function on its inputs (None where it raised)."""
    case = _case(slug, case_id)
    outputs = []
    for variant in variants(slug):
        if variant.function != case.function:
            continue
        try:
            value = variant.compute(*[_as_float64(a) for a in case.args], **case.kwargs)
        except Exception:  # noqa: BLE001 - a variant that does not apply to this case
            value = None
        outputs.append((variant, value))
    return tuple(outputs)


def _output_names(slug: str, function: str) -> tuple[str, ...]:
    return getattr(suite(slug), "RETURNS", {}).get(function, ("output",))


def _param_names(slug: str, function: str) -> list[str]:
    return list(inspect.signature(getattr(reference(slug), function)).parameters)


@dataclass(frozen=True)
class Verdict:
    status: str
    message: str = ""
    diagnosis: Diagnosis | None = None
    traceback: str = ""
    heatmap: list | None = None
    heatmap_shape: list[int] | None = None
    heatmap_output: str = ""


def judge(exercise: Exercise, case: Case, outcome: CallOutcome) -> TestResult:
    """The verdict on one case, from the learner's outcome and the reference's answer."""
    v = _verdict(exercise, case, outcome)
    return TestResult(id=case.id, function=case.function, tier=case.tier, status=v.status,
                      points=case.points if v.status == "passed" else 0.0,
                      max_points=case.points, message=v.message, diagnosis=v.diagnosis,
                      traceback=v.traceback, heatmap=v.heatmap, heatmap_shape=v.heatmap_shape,
                      heatmap_output=v.heatmap_output)


def _verdict(exercise: Exercise, case: Case, outcome: CallOutcome) -> Verdict:
    if outcome.kind == "lost":
        return Verdict("timeout" if outcome.timed_out else "error", outcome.reason)
    if outcome.forbidden:
        return Verdict("failed", f"called {outcome.forbidden}, which {case.function} may not use",
                       diagnose.named("uses-forbidden-call"))
    if outcome.kind == "raised":
        return _raised(case, outcome.error)
    variants = list(variant_outputs(exercise.slug, case.id))
    if case.raises:
        return Verdict("failed", f"expected {case.raises} for these parameters, but a value was "
                                 "returned", diagnose.by_variants(variants, outcome.value, None, None))
    if outcome.modified:
        names = _param_names(exercise.slug, case.function)
        arg = names[outcome.modified[0]] if outcome.modified[0] < len(names) else "an argument"
        return Verdict("failed", f"your function modified its argument {arg}",
                       diagnose.named("modified-input"))
    ref = expected(exercise.slug, case.id)
    names = _output_names(exercise.slug, case.function)
    exact = case.function in getattr(suite(exercise.slug), "EXACT", ())
    mismatch = compare(outcome.value, ref.value, ref.dtypes, names, exact)
    if mismatch is None:
        return Verdict("passed")
    # Which output (dx, dw, db) was wrong; None for a plain array, or when the tuple itself was
    # not returned (then there is no component to diagnose or map).
    tupled = isinstance(ref.value, tuple) and mismatch.component in names
    index = names.index(mismatch.component) if tupled else None
    found = diagnose.named(mismatch.slug) if mismatch.slug else \
        diagnose.diagnose(variants, outcome.value, ref.value, index)
    mine, want = diagnose.component(outcome.value, index), diagnose.component(ref.value, index)
    grid = diagnose.heatmap(mine, want)
    return Verdict("failed", mismatch.message, found, heatmap=grid,
                   heatmap_shape=list(want.shape) if grid else None,
                   heatmap_output=names[index] if grid and index is not None else "")


def _raised(case: Case, error: dict) -> Verdict:
    kind, text = str(error.get("type", "Exception")), str(error.get("message", ""))
    trace = str(error.get("traceback", ""))
    if case.raises and case.raises in error.get("mro", []):
        return Verdict("passed")
    summary = f"{kind}: {text}" if text else kind
    if kind == "NotImplementedError":
        return Verdict("error", f"not implemented ({summary})"[:300])
    if "MemoryError" in error.get("mro", []):
        return Verdict("error", "memory limit exceeded (MemoryError)", traceback=trace)
    if case.readonly and "read-only" in text:
        return Verdict("failed", f"failed on a read-only input ({summary})"[:300],
                       diagnose.named("modified-input"), trace)
    return Verdict("error", f"raised {summary}"[:300], traceback=trace)


def _skipped(case: Case, reason: str) -> TestResult:
    return TestResult(id=case.id, function=case.function, tier=case.tier, status="timeout",
                      points=0.0, max_points=case.points, message=reason)


def run_cases(exercise: Exercise, session: WorkerSession, deadline: float,
              where: str = "file") -> list[TestResult]:
    """Every case of the suite, in order; `where` names what the learner submitted (file or
    notebook) in the messages about missing functions."""
    results: list[TestResult] = []
    timeouts: dict[str, int] = {}
    for case in suite(exercise.slug).CASES:
        state = session.defined.get(case.function, "missing")
        left = deadline - time.monotonic()
        if state != "ok":
            why = "is not defined" if state == "missing" else "is not a function"
            results.append(TestResult(case.id, case.function, case.tier, "error", 0.0,
                                      case.points, f"{case.function} {why} in your {where}"))
        elif left <= 0:
            results.append(_skipped(case, f"not run: the {exercise.limits.total_timeout_s:g} s "
                                          "budget for the whole file was used up"))
        elif timeouts.get(case.function, 0) >= MAX_TIMEOUTS_PER_FUNCTION:
            results.append(_skipped(case, f"not run: {case.function} already timed out "
                                          f"{MAX_TIMEOUTS_PER_FUNCTION} times"))
        else:
            outcome = session.call(
                case.function, case.args, case.kwargs, layout=case.layout,
                readonly=case.readonly, forbidden=list(exercise.forbidden.get(case.function, ())),
                timeout=min(exercise.limits.call_timeout_s, left))
            if outcome.timed_out:
                timeouts[case.function] = timeouts.get(case.function, 0) + 1
            results.append(judge(exercise, case, outcome))
    return _raising_alone_earns_nothing(results, suite(exercise.slug).CASES)


def _raising_alone_earns_nothing(results: list[TestResult], cases: tuple[Case, ...]) -> list[TestResult]:
    """A function that raises ValueError on everything would pass every invalid-parameter case:
    those points count only when the function also got some valid input right."""
    raising = {c.id for c in cases if c.raises}
    working = {r.function for r in results if r.status == "passed" and r.id not in raising}
    return [dataclasses.replace(r, status="failed", points=0.0, message=(
                "raised as required, but these points count only once the function also "
                "computes a correct result for valid inputs"))
            if r.id in raising and r.status == "passed" and r.function not in working else r
            for r in results]
