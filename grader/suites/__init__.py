"""The registry of hidden suites: one `Suite` per exercise, in catalogue order.

Each `grader/suites/<slug>.py` module declares `CASES`, `PERFORMANCE`, `EXACT` and `RETURNS`;
`grader/variants/<slug>.py` its `VARIANTS`; `solutions/<slug>.py` is the reference; the
exercise's `extra_tests` are the instructor's pytest files. `get` assembles them, once per process.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from functools import cache
from pathlib import Path
from typing import Any

from grader import exercises
from grader.cases import ExtraTest, Suite
from grader.models import Exercise

FIXTURES = ("learner", "reference", "assert_close")


@cache
def get(slug: str) -> Suite:
    """The exercise's suite; `ExerciseError` (one line) for an unknown slug or a bad extra test."""
    exercise = exercises.resolve(slug)
    module = importlib.import_module(f"grader.suites.{slug}")
    return Suite(
        slug=slug, cases=module.CASES, performance=module.PERFORMANCE,
        exact=frozenset(module.EXACT), returns=dict(module.RETURNS),
        variants=importlib.import_module(f"grader.variants.{slug}").VARIANTS,
        reference=importlib.import_module(f"solutions.{slug}"),
        extras=tuple(t for path in exercise.extra_tests for t in _collect(exercise, path)))


def every() -> tuple[Suite, ...]:
    return tuple(get(e.slug) for e in exercises.discover())


def _collect(exercise: Exercise, path: Path) -> list[ExtraTest]:
    """The `test_*` functions of one extra test file, each parametrization a test of its own."""
    spec = importlib.util.spec_from_file_location(f"convgrade_extras.{exercise.slug}.{path.stem}",
                                                  path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - any error, even pytest's (strict markers): one line
        raise exercises.ExerciseError(f"{path}: cannot import: {type(exc).__name__}: {exc}") from None
    tests = []
    for name, function in vars(module).items():
        if not (name.startswith("test") and inspect.isfunction(function)):
            continue
        marks = {m.name: m for m in [*getattr(module, "pytestmark", []),
                                     *getattr(function, "pytestmark", [])]}
        points = float(marks["points"].args[0]) if "points" in marks else 1.0
        tier = marks["tier"].args[0] if "tier" in marks else "core"
        if tier not in exercises.TIERS or points <= 0:
            raise exercises.ExerciseError(f"{path}::{name}: points must be > 0 and tier one of "
                                          f"{', '.join(exercises.TIERS)}")
        for suffix, params in _parametrizations(marks.get("parametrize")):
            wanted = [p for p in inspect.signature(function).parameters if p not in params]
            unknown = [p for p in wanted if p not in FIXTURES]
            if unknown:
                raise exercises.ExerciseError(
                    f"{path}::{name}: unknown fixture {unknown[0]!r} (extra tests may use "
                    f"{', '.join(FIXTURES)})")
            run = _bind(function, params)
            tests.append(ExtraTest(f"{path.stem}::{name}{suffix}", run, tuple(wanted), points,
                                   tier, path))
    return tests


def _bind(function: Any, params: dict[str, Any]) -> Any:
    return lambda **fixtures: function(**params, **fixtures)


def _parametrizations(mark: Any) -> list[tuple[str, dict[str, Any]]]:
    """`@pytest.mark.parametrize(names, values, ids=...)` as (id suffix, arguments) pairs."""
    if mark is None:
        return [("", {})]
    names, values = mark.args[0], mark.args[1]
    names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    ids = mark.kwargs.get("ids")
    out = []
    for index, value in enumerate(values):
        if hasattr(value, "marks") and hasattr(value, "values"):  # pytest.param(...)
            row, given = tuple(value.values), value.id
        else:
            row, given = (tuple(value) if len(names) > 1 else (value,)), None
        label = given or (ids[index] if ids else "-".join(
            str(v) if isinstance(v, (int, float, str, bool)) else f"{n}{index}"
            for n, v in zip(names, row)))
        out.append((f"[{label}]", dict(zip(names, row))))
    return out
