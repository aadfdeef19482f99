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
    if shape is not None and ref is not None and shape != getattr(ref, "shape", None):
        # by shape alone only when one mistake alone gives that shape: else the axis analysis of
        # the findings says more than a guess among look-alikes (and never for a case that must
        # raise: there every answer has the wrong shape)
        slugs = {v.slug for v, out in outputs if getattr(out, "shape", None) == shape}
        if len(slugs) == 1:
            return named(slugs.pop())
    return None


def _probe_tolerance(dtype: np.dtype) -> float:
    """Relative slack of a probe: rounding of the learner's dtype, with room (float32 ~ 1e-7)."""
    return max(1e-6, 50 * TOLERANCE.get(np.dtype(dtype), 1e-10))


def by_probes(actual: np.ndarray, reference: np.ndarray) -> Diagnosis | None:
    """Structural probes on a same-shape float answer that no variant explains."""
    if not isinstance(actual, np.ndarray) or actual.shape != reference.shape or actual.ndim < 1:
        return None
    mine, ref = actual.astype(np.float64), reference.astype(np.float64)
    if not np.all(np.isfinite(mine)) or actual.size == 0:
        return None
    rel = _probe_tolerance(actual.dtype)
    top = float(np.abs(ref).max(initial=0.0))
    tol = rel * max(top, 1e-30)
    if not mine.any() and top > 0:
        return named("all-zeros")
    if ref.ndim >= 2 and ref.shape[-1] == ref.shape[-2] and \
            np.abs(mine - ref.swapaxes(-1, -2)).max() <= tol and _differs(ref, ref.swapaxes(-1, -2)):
        return named("output-transposed")
    big = np.abs(ref) > 1e-3 * top
    if big.sum() >= 2:
        ratio = mine[big] / ref[big]
        factor = float(ratio.mean())
        if np.ptp(ratio) <= rel * abs(factor) and abs(factor - 1) > 1e-3 and \
                np.abs(mine - factor * ref).max() <= tol * max(1.0, abs(factor)):
            return _with_detail(named("scaled-output"), factor=round(factor, 4))
    diff = mine - ref
    if ref.ndim >= 3:  # (N, F, L) or (N, F, H, W): one offset per output channel
        axes = (0,) + tuple(range(2, ref.ndim))
        per_channel = diff - diff.mean(axis=axes, keepdims=True)
        if np.abs(per_channel).max() <= tol and np.abs(diff).max() > tol:
            return named("offset-per-channel")
    if np.count_nonzero(np.abs(ref) > tol) < ref.size // 2:
        return None  # a sparse reference (one-hot dout): where it is wrong says nothing
    return _where_wrong(np.abs(diff) > tol)


def _with_detail(diagnosis: Diagnosis, **detail: Any) -> Diagnosis:
    return Diagnosis(diagnosis.slug, diagnosis.message, diagnosis.hint, detail)


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


def _pooled(values: np.ndarray, size: int) -> np.ndarray | None:
    """|values| summed to an H x W map, max-pooled to at most size x size, scaled to [0, 1]."""
    grid = values.reshape(-1, *values.shape[-2:]).sum(axis=0) if values.ndim >= 2 \
        else values[None, :]
    H, W = grid.shape
    bh, bw = -(-H // size), -(-W // size)
    padded = np.zeros((-(-H // bh) * bh, -(-W // bw) * bw))
    padded[:H, :W] = grid
    pooled = padded.reshape(padded.shape[0] // bh, bh, -1, bw).max(axis=(1, 3))  # (H', W')
    top = pooled.max()
    return pooled / top if top > 0 else None


def heatmap(actual: Any, reference: Any, size: int = 24) -> list[list[float]] | None:
    """Where an answer is wrong: |error| summed to an H x W map, pooled to at most size x size and
    scaled to [0, 1]. It shows where, not what: none when the answer carries no information about
    where it is wrong (all zeros, constant, not finite), and none that looks like |reference|
    (an answer off by a factor, or zeros, would draw the expected values)."""
    if not (isinstance(actual, np.ndarray) and isinstance(reference, np.ndarray)):
        return None
    if actual.shape != reference.shape or actual.size == 0 or actual.dtype.kind not in "fiub":
        return None
    mine, ref = actual.astype(np.float64), reference.astype(np.float64)
    if not np.all(np.isfinite(mine)) or np.ptp(mine) == 0:
        return None
    err = _pooled(np.abs(mine - ref), size)
    shape = _pooled(np.abs(ref), size)
    if err is None or shape is None or np.abs(err - shape).max() < 0.1:
        return None
    return np.round(err, 2).tolist()


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


def _per_axis(value: Any, n: int, default: Any) -> tuple | None:
    value = default if value is None else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n:
        return tuple(value)
    return None


def _geometry(params: dict[str, Any], spatial: int) -> dict[str, tuple] | None:
    """Per spatial axis: input size, kernel, stride, total padding, dilation; None if unknown."""
    x = params.get("x")
    sizes = tuple(params["x_shape"]) if "x_shape" in params else getattr(x, "shape", None)
    w = params.get("w")
    kernel = tuple(w.shape[2:]) if isinstance(w, np.ndarray) and w.ndim >= 3 else \
        _per_axis(params.get("kernel_size"), spatial, None)
    if sizes is None or kernel is None or len(sizes) != spatial + 2 or len(kernel) != spatial:
        return None
    stride = _per_axis(params.get("stride"), spatial, params.get("kernel_size", 1))
    dilation = _per_axis(params.get("dilation"), spatial, 1)
    padding = params.get("padding", 0)
    if padding == "same":
        pad = tuple(d * (k - 1) for k, d in zip(kernel, dilation or (1,) * spatial))
    else:
        pad = tuple(2 * p for p in _per_axis(0 if padding == "valid" else padding, spatial, 0) or ())
    if stride is None or dilation is None or len(pad) != spatial:
        return None
    return {"n": tuple(sizes[2:]), "k": kernel, "s": stride, "p": pad, "d": dilation}


def _size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + p - d * (k - 1) - 1) // s + 1


def axis_names(want: tuple[int, ...], params: dict[str, Any]) -> tuple[str, ...]:
    """Names of an output's axes: input-shaped (dx), weight-shaped (dw) or a layer's output."""
    x, w = params.get("x"), params.get("w")
    x_shape = tuple(params["x_shape"]) if "x_shape" in params else getattr(x, "shape", None)
    if len(want) == 1:
        return ("F",) if isinstance(w, np.ndarray) else ("length",)
    if x_shape is not None and tuple(want) == tuple(x_shape):
        return ("N", "C", "H", "W") if len(want) == 4 else ("N", "C", "L")
    if isinstance(w, np.ndarray) and tuple(want) == w.shape:
        return ("F", "C", "KH", "KW") if len(want) == 4 else ("F", "C", "K")
    channel = "F" if isinstance(w, np.ndarray) else "C"
    return ("N", channel, "H_out", "W_out") if len(want) == 4 else ("N", channel, "L_out")


def shape_detail(params: dict[str, Any], got: tuple[int, ...], want: tuple[int, ...],
                 axis_names: tuple[str, ...]) -> dict[str, Any] | None:
    """Which axis of a wrongly shaped output is off, by how much, and the slip that gives the
    learner's size ("computed from H", "the + 1 missing", "extent d*K"...). Sizes only: the
    shapes are no secret (the failure message names them)."""
    if len(got) != len(want):
        return {"axis": "ndim", "got": len(got), "want": len(want),
                "formula": f"{len(got)} axes instead of {len(want)}"}
    wrong = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    if not wrong:
        return None
    i = wrong[0]
    name = axis_names[i] if i < len(axis_names) else f"axis {i}"
    detail: dict[str, Any] = {"axis": name, "got": int(got[i]), "want": int(want[i])}
    spatial = len(want) - 2
    g = _geometry(params, spatial) if spatial in (1, 2) and i >= 2 else None
    slip = _formula(g, i - 2, int(got[i]), int(want[i]), axis_names[2:]) if g else None
    delta = int(got[i]) - int(want[i])
    detail["formula"] = slip[0] if slip else f"{abs(delta)} too {'many' if delta > 0 else 'few'}"
    if slip and slip[1]:
        detail["slug"] = slip[1]  # the catalogued mistake, for findings
    return detail


def _formula(g: dict[str, tuple], a: int, got: int, want: int,
             names: tuple[str, ...]) -> tuple[str, str | None] | None:
    """The slip that gives the learner's size on axis `a`, and the catalogue slug it is (None:
    a slip the catalogue has no entry for)."""
    n, k, s, p, d = (g[key][a] for key in ("n", "k", "s", "p", "d"))
    b = 1 - a if len(g["n"]) == 2 else a
    other = names[b].replace("_out", "") if b < len(names) else "the other axis"
    forward = _size(n, k, s, p, d) == want
    candidates = []
    if forward:
        candidates += [
            (_size(g["n"][b], g["k"][b], g["s"][b], g["p"][b], g["d"][b]),
             f"computed from {other} (the axes exchanged)", "hw-swapped"),
            (_size(g["n"][b], k, s, p, d), f"computed from {other}'s input size", "hw-swapped"),
            (_size(n, g["k"][b], s, p, d), f"computed with {other}'s kernel size", "hw-swapped"),
            (_size(n, k, s, p, d) - 1, "the + 1 of the size formula missing",
             "output-size-off-by-one"),
            (-(-(n + p - d * (k - 1) - 1) // s) + 1, "rounded up instead of floored",
             "output-size-off-by-one"),
            (_size(n, k, s, 0, d), "the padding left out", "padding-ignored"),
            (_size(n, k, s, p // 2, d), "the padding counted on one side only", None),
            (_size(n, k, 1, p, d), "the stride left out", None),
            (_size(n, k, s, p, 1), "the dilation left out", "dilation-size-ignored"),
            ((n + p - d * k) // s + 1, "the kernel extent taken as d*K instead of d*(K-1)+1",
             "dilation-extent-d-times-k"),
            (_size(n, k, s, p, d + 1), "the dilation taken as d+1", "dilation-off-by-one"),
            (_size(n, k, s, (k - 1) if p == d * (k - 1) else p, d),
             "'same' padded without the dilation", "same-ignores-dilation"),
        ]
    else:  # an input-shaped output (dx)
        o = _size(n, k, s, p, d)
        candidates += [
            (n + p, "the padding kept (not cropped)", "dx-not-cropped"),
            (n + p // 2, "cropped on one side only", None),
            ((o - 1) * s + d * (k - 1) + 1 - p // 2, "only the rows the windows reach",
             "dx-missing-remainder"),
            (g["n"][b], f"taken from {other}", None),
        ]
    return next(((text, slug) for value, text, slug in candidates
                 if value == got and value != want), None)
