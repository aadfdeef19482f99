"""The vocabulary of hidden suites: a `Case` row, seeded input generators, and the `Suite`.

A suite module (`grader/suites/<slug>.py`) has a `CASES` tuple of `Case` rows. Each row names
the learner function to call, its inputs and its points; the expected value is never stored here:
the runner computes it from the reference solution in the grader's own process. The registry
(`grader.suites.get`) assembles each exercise's `Suite` from that module, its variants, its
reference and its extra tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np

Tier = Literal["core", "edge", "extended"]
Layout = Literal["C", "F", "strided"]


@dataclass(frozen=True)
class Case:
    """One hidden test: call `function(*args, **kwargs)` in the learner's worker.

    `args` hold numpy arrays and plain values (int, float, str, tuple, None). `layout` and
    `readonly` are applied by the worker to every array argument before the call, so a case can
    check that the learner copes with Fortran-ordered, non-contiguous or read-only inputs.
    `raises` names the exception the call must raise (e.g. "ValueError"); then no value is compared.
    """

    id: str
    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    points: float = 1.0
    tier: Tier = "core"
    raises: str | None = None
    layout: Layout = "C"
    readonly: bool = False


def randn(shape: tuple[int, ...], seed: int, dtype: str = "float64") -> np.ndarray:
    """Standard-normal values: no ties, no symmetry, signs mixed."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def ties(shape: tuple[int, ...], seed: int, dtype: str = "float64") -> np.ndarray:
    """Values drawn from {0, 1, 2}: most pooling windows contain tied maxima."""
    return np.random.default_rng(seed).integers(0, 3, size=shape).astype(dtype)


def negative(shape: tuple[int, ...], seed: int, dtype: str = "float64") -> np.ndarray:
    """Strictly negative values, so zero padding in a max pool shows up at the border."""
    return (-1.0 - np.random.default_rng(seed).random(shape)).astype(dtype)


def randint(shape: tuple[int, ...], seed: int, low: int = -5, high: int = 6,
            dtype: str = "int64") -> np.ndarray:
    """Small integers in [low, high): for exact integer convolution."""
    return np.random.default_rng(seed).integers(low, high, size=shape).astype(dtype)


def onehot(shape: tuple[int, ...], index: tuple[int, ...], dtype: str = "float64") -> np.ndarray:
    """All zeros but a single 1 at `index`: probes where one output's gradient lands."""
    out = np.zeros(shape, dtype=dtype)
    out[index] = 1.0
    return out


@dataclass(frozen=True)
class Variant:
    """The reference with one thing done wrong: what a learner who made mistake `slug` returns.

    `compute` has the learner function's signature and receives the case's inputs in float64. It
    may raise when the mistake does not apply to a case; it is then skipped for that case. The
    explanation and hint live in the mistake catalog (`grader/mistakes.toml`) under `slug`.
    """

    slug: str
    function: str
    compute: Callable[..., Any]


@dataclass(frozen=True)
class ExtraTest:
    """An instructor's hidden pytest test (`extra_tests` in exercise.toml): a plain function whose
    parameters name the fixtures it wants (`learner`, `reference`, `assert_close`), with the points
    and tier of its `@pytest.mark.points(n)` and `@pytest.mark.tier(...)` marks."""

    id: str  # "<file stem>::<function name>", stable as long as the instructor keeps the names
    run: Callable[..., Any] = field(compare=False)
    fixtures: tuple[str, ...]
    points: float
    tier: Tier
    path: Path


@dataclass(frozen=True)
class Suite:
    """Everything hidden about one exercise, in one object.

    `exact` names the functions compared exactly (not within the tolerance); `returns` the names
    of the arrays a function returns as a tuple (for messages); `variants` the mistaken versions
    the diagnosis runs; `reference` the solution module; `extras` the instructor's tests.
    """

    slug: str
    cases: tuple[Case, ...]
    performance: tuple[Case, ...]
    exact: frozenset[str]
    returns: Mapping[str, tuple[str, ...]] = field(hash=False)
    variants: tuple[Variant, ...]
    reference: ModuleType = field(compare=False)
    extras: tuple[ExtraTest, ...] = ()

    def case(self, case_id: str) -> Case:
        return next(c for c in (*self.cases, *self.performance) if c.id == case_id)

    def output_names(self, function: str) -> tuple[str, ...]:
        return self.returns.get(function, ("output",))
