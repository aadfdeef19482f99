"""Geometry helpers for the mistaken variants: parameter normalisation, padding, window taps.

The grader's own copy: the variants build their wrong answers from these and from the public
reference functions, never from a reference's private names (each solution is standalone).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

IntOrPair = int | tuple[int, int]
Padding = int | tuple[int, int] | str
Pads = tuple[tuple[int, int], ...]  # (before, after) for each spatial axis
Params = tuple[tuple[int, int], tuple[int, int], Pads, tuple[int, int]]


def ntuple(value: int | tuple[int, ...], name: str, n: int, minimum: int = 1) -> tuple[int, ...]:
    """`3` -> `(3,) * n`; a length-`n` sequence passes through; every entry an int >= `minimum`."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    is_int = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values]
    if len(values) != n or not all(is_int) or min(values) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} or {n} such ints, got {value!r}")
    return tuple(int(v) for v in values)


def pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """`3` -> `(3, 3)`; `(h, w)` passes through after validation."""
    return ntuple(value, name, 2, minimum)  # type: ignore[return-value]


def resolve_padding(padding: Padding | tuple[int, ...], kernel: tuple[int, ...],
                    stride: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
    """Turn an int, a tuple, 'valid' or 'same' into explicit (before, after) pads per axis."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in ntuple(padding, "padding", len(kernel), minimum=0))
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding != "same":
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)  # odd extra cell after, as in PyTorch


def output_size(sizes: tuple[int, ...], pads: Pads, kernel: tuple[int, ...],
                stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """floor((n + before + after - d*(k-1) - 1) / s) + 1 per axis; ValueError if any is below 1."""
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, (lo, hi), k, s, d in zip(sizes, pads, kernel, stride, dilation, strict=True))
    if min(out) < 1:
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
        raise ValueError(f"output size {out} < 1: input size {tuple(sizes)} with padding {pads} "
                         f"is smaller than the effective kernel size {extent}")
    return out


def pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the trailing spatial axes of x (a new array); x itself when there is nothing to pad."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return np.pad(x, ((0, 0),) * (x.ndim - len(pads)) + tuple(pads), constant_values=value)


def taps(kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int],
         dilation: tuple[int, int] = (1, 1)) -> Iterator[tuple[int, int, tuple]]:
    """Yield (u, v, idx) per kernel tap in row-major order.

    `xp[idx]` has shape (..., H_out, W_out): the padded-input cell xp[..., i*sh + u*dh, j*sw + v*dw]
    that tap (u, v) meets at every output position (i, j), as one strided slice.
    """
    (KH, KW), (sh, sw), (H_out, W_out), (dh, dw) = kernel, stride, out, dilation
    for u in range(KH):
        for v in range(KW):
            rows = slice(u * dh, u * dh + sh * (H_out - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (W_out - 1) + 1, sw)
            yield u, v, (..., rows, cols)


def pool_params(x_shape: tuple[int, ...], kernel_size: IntOrPair, stride: IntOrPair | None,
            padding: IntOrPair) -> Params:
    """Validated kernel, stride (default: the kernel), pads and output size of a 2-D pool."""
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding", minimum=0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half the kernel size {k} on each axis")
    pads = ((p[0], p[0]), (p[1], p[1]))
    return k, s, pads, output_size(tuple(x_shape[2:]), pads, k, s, (1, 1))


def pool_divisor(x_shape: tuple[int, ...], params: Params, count_include_pad: bool,
             dtype: np.dtype) -> int | np.ndarray:
    """How many cells each window averages: KH*KW, or only its in-image cells (H_out, W_out)."""
    k, s, pads, out = params
    if count_include_pad:
        return k[0] * k[1]
    counts = []
    for n, kk, ss, (p, _), m in zip(x_shape[2:], k, s, pads, out, strict=True):  # two axes
        start = np.arange(m) * ss - p  # (m,) first cell of each window, -p .. in padded coords
        counts.append(np.minimum(start + kk, n) - np.maximum(start, 0))  # (m,) in-image cells
    return np.outer(*counts).astype(dtype)  # (H_out, W_out)
