"""Naming the mistake behind a wrong answer, in the grader's process, without revealing the answer.

For a failing case: (1) the exercise's mistaken variants (the reference with one thing done wrong)
run on the same inputs, and a variant whose output matches the learner's names the mistake, by
values or, where the shape is already wrong, by shape; (2) where none matches, structural probes
look at the error itself: transposed, scaled, offset per channel, wrong only at the border or only
in the last rows. Diagnoses carry the catalog's sentence and hint, never arrays or inputs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import numpy as np

from grader.cases import Variant
from grader.compare import TOLERANCE, relative_error
from grader.models import Diagnosis

CATALOG_PATH = Path(__file__).with_name("mistakes.toml")
_MATCH_SLACK = 10.0


@cache
def catalog() -> dict[str, dict[str, str]]:
    return tomllib.loads(CATALOG_PATH.read_text())


def named(slug: str) -> Diagnosis:
    row = catalog()[slug]
    return Diagnosis(slug=slug, message=row["message"], hint=row["hint"])


def component(value: Any, index: int | None) -> Any:
    if index is None:
        return value
    if isinstance(value, (tuple, list)) and index < len(value):
        return value[index]
    return None


def _matches(actual: Any, candidate: Any) -> bool:
    if not (isinstance(actual, np.ndarray) and isinstance(candidate, np.ndarray)):
        return False
    if actual.shape != candidate.shape or actual.dtype.kind not in "fiub":
        return False
    if not np.all(np.isfinite(actual.astype(np.float64))):
        return False
    tol = TOLERANCE.get(actual.dtype, 1e-10) * _MATCH_SLACK
    return relative_error(actual, candidate) <= tol


def _differs(a: Any, b: Any) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
        return True
    return relative_error(a, b) > 1e-6


def by_variants(variants: list[tuple[Variant, Any]], actual: Any, reference: Any,
                index: int | None) -> Diagnosis | None:
    """The first variant whose output matches the learner's, by values, else by shape alone.

    `variants` pairs each variant with its output on this case (None where it did not apply);
    `index` picks the tuple component that was wrong (dx, dw or db), None for a plain array.
    """
    mine = component(actual, index)
    ref = component(reference, index)
    outputs = [(v, component(out, index)) for v, out in variants if out is not None]
    outputs = [(v, out) for v, out in outputs if _differs(out, ref)]
    for variant, out in outputs:
        if _matches(mine, out):
            return named(variant.slug)
    shape = getattr(mine, "shape", None)
    if shape is not None and shape != getattr(ref, "shape", None):
        for variant, out in outputs:
            if getattr(out, "shape", None) == shape:
                return named(variant.slug)
    return None


def by_probes(actual: np.ndarray, reference: np.ndarray) -> Diagnosis | None:
    """Structural probes on a same-shape float answer that no variant explains."""
    if not isinstance(actual, np.ndarray) or actual.shape != reference.shape or actual.ndim < 1:
        return None
    mine, ref = actual.astype(np.float64), reference.astype(np.float64)
    if not np.all(np.isfinite(mine)):
        return None
    tol = 1e-6 * max(float(np.abs(ref).max(initial=0.0)), 1e-30)
    if ref.ndim >= 2 and ref.shape[-1] == ref.shape[-2] and \
            np.abs(mine - ref.swapaxes(-1, -2)).max() <= tol and _differs(ref, ref.swapaxes(-1, -2)):
        return named("output-transposed")
    big = np.abs(ref) > 1e-3 * np.abs(ref).max(initial=0.0)
    if big.sum() >= 2:
        ratio = mine[big] / ref[big]
        if np.ptp(ratio) <= 1e-6 * abs(ratio.mean()) and abs(ratio.mean() - 1) > 1e-3:
            return named("scaled-output")
    diff = mine - ref
    if ref.ndim == 4:
        per_channel = diff - diff.mean(axis=(0, 2, 3), keepdims=True)
        if np.abs(per_channel).max() <= tol:
            return named("offset-per-channel")
    return _where_wrong(np.abs(diff) > tol)


def _where_wrong(wrong: np.ndarray) -> Diagnosis | None:
    if wrong.ndim < 2 or not wrong.any():
        return None
    spatial = wrong.reshape(-1, *wrong.shape[-2:]).any(axis=0)  # (H, W)
    rows, cols = np.nonzero(spatial)
    H, W = spatial.shape
    if H > 2 and W > 2:
        border = np.ones_like(spatial)
        border[1:-1, 1:-1] = False
        if not (spatial & ~border).any():
            return named("wrong-at-border")
    if rows.min() >= H - 2 and H > 2 or cols.min() >= W - 2 and W > 2:
        return named("wrong-in-last-rows")
    return None


def heatmap(actual: Any, reference: Any, size: int = 24) -> list[list[float]] | None:
    """Where an answer is wrong: |error| summed to an H x W map, pooled to at most size x size and
    scaled to [0, 1]. It shows where, not what: no value of the answer can be read back from it."""
    if not (isinstance(actual, np.ndarray) and isinstance(reference, np.ndarray)):
        return None
    if actual.shape != reference.shape or actual.size == 0:
        return None
    with np.errstate(all="ignore"):
        err = np.abs(actual.astype(np.float64) - reference.astype(np.float64))
        finite = np.isfinite(err)
        scale = err[finite].max(initial=0.0)
        err = np.where(finite, err / scale if scale > 0 else 0.0, 1.0)  # NaN/inf: worst
    grid = err.reshape(-1, *err.shape[-2:]).sum(axis=0) if err.ndim >= 2 else err[None, :]
    H, W = grid.shape
    bh, bw = -(-H // size), -(-W // size)
    padded = np.zeros((-(-H // bh) * bh, -(-W // bw) * bw))
    padded[:H, :W] = grid
    pooled = padded.reshape(padded.shape[0] // bh, bh, -1, bw).max(axis=(1, 3))  # (H', W')
    top = pooled.max()
    if top <= 0:
        return None
    return np.round(pooled / top, 2).tolist()


def by_shape(actual: Any, reference: Any) -> Diagnosis | None:
    """H and W exchanged: the answer transposed, or sizes computed with H and W swapped."""
    if not (isinstance(actual, np.ndarray) and isinstance(reference, np.ndarray)):
        return None
    if reference.ndim < 2 or actual.shape != reference.swapaxes(-1, -2).shape \
            or actual.shape == reference.shape:
        return None
    if _matches(actual, reference.swapaxes(-1, -2)):
        return named("output-transposed")
    return named("hw-swapped")


def diagnose(variants: list[tuple[Variant, Any]], actual: Any, reference: Any,
             index: int | None) -> Diagnosis | None:
    """Variants first, then shape and structural probes; None when nothing explains the failure."""
    found = by_variants(variants, actual, reference, index)
    mine, ref = component(actual, index), component(reference, index)
    if found is None and isinstance(mine, np.ndarray) and isinstance(ref, np.ndarray):
        found = by_shape(mine, ref) or by_probes(mine, ref)
    return found
