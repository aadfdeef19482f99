"""Verdicts: one learner answer against the reference answer, per the tolerance rule of the spec.

Everything here runs in the grader's process on values rebuilt from plain data. Messages name
shapes, dtypes and error sizes, never expected values or hidden inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOLERANCE = {np.dtype("float64"): 1e-10, np.dtype("float32"): 2e-5}


@dataclass(frozen=True)
class Mismatch:
    """Why an answer is wrong: a one-line message, the catalog slug when the cause is certain,
    and which output (dx, dw, db...) was wrong."""

    message: str
    slug: str | None = None
    component: str = ""


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """`max|y - y_ref| / max(max|y_ref|, 1e-30)`, computed in float64."""
    ref = expected.astype(np.float64)
    diff = np.abs(actual.astype(np.float64) - ref)
    if diff.size == 0:
        return 0.0
    return float(diff.max() / max(float(np.abs(ref).max()), 1e-30))


def compare(actual: Any, expected: Any, expected_dtypes: Any, names: tuple[str, ...],
            exact: bool) -> Mismatch | None:
    """None when `actual` matches, else the first thing that is wrong.

    `expected` holds float64 reference values; `expected_dtypes` the dtypes the learner must
    return (those of the reference run on the original inputs).
    """
    if isinstance(expected, tuple):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            got = _describe(actual)
            return Mismatch(f"returned {got}, expected a tuple of {len(expected)} arrays "
                            f"({', '.join(names)})", "not-an-array")
        for item, ref, dtype, name in zip(actual, expected, expected_dtypes, names):
            mismatch = _compare_array(item, ref, dtype, name, exact)
            if mismatch:
                return mismatch
        return None
    return _compare_array(actual, expected, expected_dtypes, names[0], exact)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a value of type {getattr(value, 'type_name', type(value).__name__)}"


def _compare_array(actual: Any, ref: np.ndarray, dtype: np.dtype, name: str,
                   exact: bool) -> Mismatch | None:
    if not isinstance(actual, np.ndarray) or actual.ndim == 0:
        return Mismatch(f"{name} is {_describe(actual)}, expected a numpy array", "not-an-array",
                        name)
    if actual.shape != ref.shape:
        return Mismatch(f"{name} has shape {actual.shape}, expected {ref.shape}", component=name)
    if actual.dtype != dtype:
        return Mismatch(f"{name} has dtype {actual.dtype}, expected {dtype}", "wrong-dtype", name)
    if actual.dtype.kind == "f" and not np.all(np.isfinite(actual)):
        return Mismatch(f"{name} contains NaN or inf", "non-finite", name)
    if exact or actual.dtype.kind in "biu":
        if not np.array_equal(actual.astype(np.float64), ref.astype(np.float64)):
            wrong = int(np.count_nonzero(actual.astype(np.float64) != ref))
            return Mismatch(f"{name} is wrong at {wrong} of {ref.size} positions "
                            "(compared exactly)", component=name)
        return None
    err = relative_error(actual, ref)
    tol = TOLERANCE.get(actual.dtype, 1e-10)
    if not err <= tol:
        return Mismatch(f"{name} is wrong: relative error {err:.2g} (tolerance {tol:g})",
                        component=name)
    return None
