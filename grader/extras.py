"""Running an instructor's hidden pytest tests against a learner's worker, in the grader's process.

An extra test (`extra_tests` in exercise.toml) is a plain function taking the fixtures `learner`,
`reference` and `assert_close`. `learner.<function>(...)` sends the arguments over the data-only
boundary to the learner's worker and returns what came back, rebuilt as plain data: arrays,
numbers, strings, tuples, lists, None. Nothing of the learner's code or objects ever runs here.
Every outcome becomes a `TestResult` like a case's: points, a message that names no expected
value, and a diagnosis when `assert_close` failed on what a catalogued function returned.

The test runs as written (no assertion rewriting): a bare `assert` that fails reports its file
and line, or the message the instructor gave it, never the values compared.
"""

from __future__ import annotations

import builtins
import dataclasses
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from grader import runner, suites
from grader import worker as wire
from grader.boundary import WorkerSession
from grader.cases import ExtraTest, Suite
from grader.compare import compare
from grader.models import Exercise, TestResult

_DATA = (np.ndarray, np.generic, bool, int, float, str, type(None))


class LearnerFailure(Exception):
    """The learner's side of a call did not give a value: carries the verdict it deserves."""

    def __init__(self, verdict: runner.Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


class LearnerRaised(LearnerFailure):
    """The learner's function raised. Subclassed per call with the built-in exception the learner
    raised (e.g. ValueError), so that `pytest.raises(ValueError)` works as in a plain test."""

    def __init__(self, verdict: runner.Verdict, error: dict) -> None:
        super().__init__(verdict)
        self.type_name = str(error.get("type", "Exception"))[:80]


class CloseMismatch(AssertionError):
    """`assert_close` failed: the verdict (message without expected values), and the learner
    call whose answer it rejected, when it was one."""

    def __init__(self, verdict: runner.Verdict, call: Call | None) -> None:
        super().__init__(verdict.message)
        self.verdict, self.call = verdict, call


@dataclass(frozen=True)
class Call:
    """One learner call an extra test made, kept to diagnose a value it later rejects."""

    function: str
    args: tuple
    kwargs: dict
    value: Any


def _check_data(value: Any) -> None:
    if isinstance(value, (tuple, list)):
        for item in value:
            _check_data(item)
    elif not isinstance(value, _DATA):
        raise TypeError(f"learner calls take arrays, numbers, strings, tuples and None, "
                        f"not {type(value).__name__}")


def _raised(error: dict) -> LearnerRaised:
    """LearnerRaised combined with the most specific built-in class in the learner's MRO that
    can be built from a message alone (ValueError, KeyError, ...; not UnicodeDecodeError)."""
    verdict = runner.raised_verdict(error)
    for name in error.get("mro", []):
        builtin = getattr(builtins, str(name), None)
        if not (isinstance(builtin, type) and issubclass(builtin, Exception)) or \
                builtin in (Exception, StopIteration, StopAsyncIteration):
            continue
        try:
            return type(f"Learner{builtin.__name__}", (LearnerRaised, builtin), {})(verdict, error)
        except TypeError:
            continue
    return LearnerRaised(verdict, error)


class Learner:
    """The `learner` fixture: one attribute per function of the exercise, each calling the
    learner's code in its worker (the exercise's forbidden calls withheld) within its time limits."""

    def __init__(self, exercise: Exercise, session: WorkerSession, deadline: float,
                 where: str = "file") -> None:
        self._exercise, self._session, self._deadline, self._where = (
            exercise, session, deadline, where)
        self.calls: list[Call] = []  # the calls that returned a value
        self.called: list[str] = []  # every function called, answered or not

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._exercise.functions:
            raise AttributeError(f"{name} is not a function of the {self._exercise.slug} exercise")
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def _call(self, function: str, args: tuple, kwargs: dict) -> Any:
        _check_data((args, tuple(kwargs.values())))
        self.called.append(function)
        limits = self._exercise.limits
        state = self._session.defined.get(function, "missing")
        if state != "ok":
            why = "is not defined" if state == "missing" else "is not a function"
            raise LearnerFailure(runner.Verdict("error", f"{function} {why} in your {self._where}"))
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise LearnerFailure(runner.Verdict(
                "timeout", f"not run: the {limits.total_timeout_s:g} s budget for the whole "
                           "file was used up"))
        outcome = self._session.call(function, args, kwargs, timeout=min(limits.call_timeout_s, left))
        if outcome.kind == "lost":
            raise LearnerFailure(runner.Verdict("timeout" if outcome.timed_out else "error",
                                                outcome.reason))
        forbidden = runner.forbidden_verdict(function, outcome.error) if outcome.kind == "raised" else None
        if forbidden is not None:
            raise LearnerFailure(forbidden)
        if outcome.kind == "raised":
            raise _raised(outcome.error)
        if outcome.modified:
            raise LearnerFailure(runner.modified_verdict(suites.get(self._exercise.slug), function,
                                                         outcome.modified))
        if _opaque(outcome.value):
            raise LearnerFailure(runner.Verdict(
                "failed", f"{function} returned a {_opaque(outcome.value)} object; only arrays, "
                          "numbers, tuples and None cross to the grader"))
        wrong = _unlike_the_reference(self._exercise, function, args, kwargs, outcome.value)
        if wrong is not None:
            raise LearnerFailure(wrong)
        self.calls.append(Call(function, args, kwargs, outcome.value))
        return outcome.value


def _layout(value: Any) -> Any:
    """The structure of an answer: array shapes, tuple lengths (never values)."""
    if isinstance(value, tuple):
        return tuple(_layout(v) for v in value)
    return value.shape if isinstance(value, np.ndarray) else type(value).__name__


def _unlike_the_reference(exercise: Exercise, function: str, args: tuple, kwargs: dict,
                          value: Any) -> runner.Verdict | None:
    """The verdict on a learner's answer whose structure (array shapes, tuple lengths) is not the
    reference's on the same inputs; None when it matches, or when the reference raises there.
    The answer goes into instructor code in the grader's own process: a learner must not hand
    it arrays of shapes it chose (two of them can broadcast into gigabytes)."""
    suite = suites.get(exercise.slug)
    try:
        expected = runner.reference_answer(suite, function, args, kwargs)
    except Exception:  # noqa: BLE001 - the reference rejects these inputs: pytest.raises decides
        return None
    if _layout(value) == _layout(expected.value):
        return None
    return runner.value_verdict(suite, function, value, expected,
                                lambda: list(runner.variants_on(suite, function, args, kwargs)))


def _opaque(value: Any) -> str:
    """The type name of a learner object that could not cross (it became `Opaque`), or ""."""
    if isinstance(value, wire.Opaque):
        return value.type_name
    if isinstance(value, (tuple, list)):
        return next((name for name in map(_opaque, value) if name), "")
    return ""


def _origin(calls: list[Call], actual: Any) -> tuple[Call, int | None] | None:
    """The learner call that returned `actual` (or one output of its tuple), latest first."""
    for call in reversed(calls):
        if call.value is actual:
            return call, None
        if isinstance(call.value, tuple):
            for index, item in enumerate(call.value):
                if item is actual:
                    return call, index
    return None


def assert_close_for(suite: Suite, learner: Learner) -> Callable[[Any, Any], None]:
    """The `assert_close(actual, expected)` fixture: the exercise's tolerance rule (exact for
    exactly compared functions), shape and dtype checks."""

    def assert_close(actual: Any, expected: Any) -> None:
        origin = _origin(learner.calls, actual)
        function = origin[0].function if origin else ""
        names = suite.output_names(function) if origin and origin[1] is None else ("output",)
        if origin and origin[1] is not None:
            names = (suite.output_names(function)[origin[1]],)
        wanted = tuple(map(np.asarray, expected)) if isinstance(expected, tuple) else np.asarray(expected)
        dtypes = tuple(w.dtype for w in wanted) if isinstance(wanted, tuple) else wanted.dtype
        mismatch = compare(actual, wanted, dtypes, names, function in suite.exact)
        if mismatch is not None:
            raise CloseMismatch(runner.Verdict("failed", mismatch.message),
                                origin[0] if origin else None)

    return assert_close


def _diagnosed(verdict: runner.Verdict, suite: Suite, calls: list[Call]) -> runner.Verdict:
    """A failed test's verdict with the diagnosis of the learner call that went wrong: the one
    `assert_close` rejected, else the latest call whose answer differs from the reference's
    (each judged as a case is, the variants run on the call's inputs)."""
    for call in calls:
        try:
            ref = runner.reference_answer(suite, call.function, call.args, call.kwargs)
        except Exception:  # noqa: BLE001 - inputs the reference refuses: nothing to compare
            continue
        judged = runner.value_verdict(
            suite, call.function, call.value, ref,
            lambda call=call: list(runner.variants_on(suite, call.function, call.args, call.kwargs)))
        if judged.status != "passed":
            return dataclasses.replace(judged, status=verdict.status, message=verdict.message)
    return verdict


def run_extra(test: ExtraTest, exercise: Exercise, session: WorkerSession, deadline: float,
              where: str = "file") -> TestResult:
    """One extra test's verdict, whatever the test or the learner's code does."""
    suite = suites.get(exercise.slug)
    learner = Learner(exercise, session, deadline, where)
    fixtures = {"learner": learner, "reference": suite.reference,
                "assert_close": assert_close_for(suite, learner)}
    try:
        test.run(**{name: fixtures[name] for name in test.fixtures})
        verdict = runner.Verdict("passed")
    except LearnerFailure as exc:
        verdict = exc.verdict
    except CloseMismatch as exc:
        verdict = _diagnosed(exc.verdict, suite, [exc.call] if exc.call else learner.calls[::-1])
    except AssertionError as exc:
        verdict = _diagnosed(runner.Verdict("failed", str(exc)[:300] or
                                            f"assertion failed ({_where(exc, test)})"),
                             suite, learner.calls[::-1])
    except pytest.fail.Exception as exc:
        verdict = runner.Verdict("failed", str(exc.msg)[:300])
    except pytest.skip.Exception as exc:
        verdict = runner.Verdict("error", f"the test skipped itself: {str(exc.msg)[:200]}")
    except Exception as exc:  # noqa: BLE001 - the test's own error, reported as its verdict
        verdict = runner.Verdict("error", f"the test raised {type(exc).__name__} "
                                          f"({_where(exc, test)}): {str(exc)[:200]}")
    function = learner.called[0] if learner.called else exercise.functions[0]
    passed = verdict.status == "passed"
    return TestResult(id=test.id, function=function, tier=test.tier, status=verdict.status,
                      points=test.points if passed else 0.0, max_points=test.points,
                      message=verdict.message, diagnosis=verdict.diagnosis,
                      traceback=verdict.traceback, heatmap=verdict.heatmap,
                      heatmap_shape=verdict.heatmap_shape, heatmap_output=verdict.heatmap_output)


def _where(exc: BaseException, test: ExtraTest) -> str:
    """`test_more.py, line N`: the innermost frame in the instructor's test file."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if f.filename == str(test.path)]
    return f"{test.path.name}, line {lines[-1]}" if lines else test.path.name


def run_extras(exercise: Exercise, session: WorkerSession, deadline: float,
               where: str = "file") -> list[TestResult]:
    return [run_extra(t, exercise, session, deadline, where)
            for t in suites.get(exercise.slug).extras]

