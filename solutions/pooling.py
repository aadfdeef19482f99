"""Reference for exercise 5: max and average pooling, forward and backward (NCHW)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from solutions._common import PLANES_BYTES, IntOrPair, Pads, chunks, output_size, pad, pair, taps

Params = tuple[tuple[int, int], tuple[int, int], Pads, tuple[int, int]]


def _params(x_shape: tuple[int, ...], kernel_size: IntOrPair, stride: IntOrPair | None,
            padding: IntOrPair) -> Params:
    """Validated kernel, stride (default: the kernel), pads and output size of a 2-D pool."""
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding", minimum=0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half the kernel size {k} on each axis")
    pads = ((p[0], p[0]), (p[1], p[1]))
    return k, s, pads, output_size(tuple(x_shape[2:]), pads, k, s, (1, 1))


def _divisor(x_shape: tuple[int, ...], params: Params, count_include_pad: bool,
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


def _blocks(planes: np.ndarray) -> Iterator[slice]:
    """Runs of whole planes of `planes` (P, Hp, Wp) of about PLANES_BYTES.

    Each pool below sweeps its input once per kernel tap. Sweeping one cache-sized block at a
    time reads memory once and serves the other KH*KW - 1 sweeps from the cache.
    """
    return chunks(len(planes), planes[0:1].nbytes, PLANES_BYTES)


def _planes(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Padded x as a stack of independent planes: (N, C, H, W) -> (N*C, H + 2ph, W + 2pw)."""
    xp = pad(x, pads, value)  # (N, C, Hp, Wp)
    return xp.reshape((-1,) + xp.shape[2:])  # (N*C, Hp, Wp)


def max_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out), the maximum of each window; padding is -inf."""
    k, s, pads, out_hw = _params(x.shape, kernel_size, stride, padding)
    xp = _planes(x, pads, value=-np.inf)  # (N*C, Hp, Wp): -inf never wins a max
    out = np.full((len(xp),) + out_hw, -np.inf, dtype=x.dtype)  # (N*C, H_out, W_out)
    for b in _blocks(xp):
        for _, _, idx in taps(k, s, out_hw):  # KH*KW strided maxima beat reducing a window view
            np.maximum(out[b], xp[b][idx], out=out[b])
    return out.reshape(x.shape[:2] + out_hw)


def max_pool_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair,
                      stride: IntOrPair | None = None, padding: IntOrPair = 0) -> np.ndarray:
    """dx (N, C, H, W): each window's dout goes wholly to its first maximum in row-major order."""
    k, s, pads, out_hw = _params(x.shape, kernel_size, stride, padding)
    xp = _planes(x, pads, value=-np.inf)  # (N*C, Hp, Wp)
    grad = dout.reshape((-1,) + out_hw)  # (N*C, H_out, W_out)
    dxp = np.empty(xp.shape, dout.dtype)  # (N*C, Hp, Wp)
    for b in _blocks(xp):
        # one scatter-add of every window's dout onto its maximum: overlapping windows add up
        cells = _first_max_cells(xp[b], k, s, out_hw).ravel()  # (B*H_out*W_out,) flat in xp[b]
        dxp[b] = np.bincount(cells, grad[b].ravel(), xp[b].size).reshape(xp[b].shape)
    (top, _), (left, _) = pads
    dx = dxp[:, top:top + x.shape[2], left:left + x.shape[3]]  # (N*C, H, W): padding cropped
    return dx.reshape(x.shape)


def _first_max_cells(xp: np.ndarray, k: tuple[int, int], s: tuple[int, int],
                     out_hw: tuple[int, int]) -> np.ndarray:
    """Flat index into xp (B, Hp, Wp) of each window's first maximum: (B, H_out, W_out)."""
    B, Hp, Wp = xp.shape
    (_, _, idx0), *later = taps(k, s, out_hw)  # taps in row-major order
    best = xp[idx0].copy()  # (B, H_out, W_out) running maximum, from the first tap on
    first = np.zeros(best.shape, dtype=np.min_scalar_type(k[0] * k[1]))  # the tap that holds it
    for t, (_, _, idx) in enumerate(later, start=1):
        better = xp[idx] > best  # strictly greater: a tie keeps the earlier tap (the PyTorch rule)
        np.maximum(best, xp[idx], out=best)
        first -= better * (first - t)  # first[better] = t, without a mispredicted branch per cell
    tap_offset = np.array([u * Wp + v for u, v, _ in taps(k, s, out_hw)])  # (KH*KW,) in a plane
    plane = np.arange(B)[:, None, None] * (Hp * Wp)  # (B, 1, 1) start of each plane
    row = np.arange(out_hw[0])[:, None] * (s[0] * Wp)  # (H_out, 1) top row of each window
    col = np.arange(out_hw[1]) * s[1]  # (W_out,) left column of each window
    return tap_offset[first] + plane + row + col  # (B, H_out, W_out)


def avg_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out): window sum over zero padding / divisor."""
    params = _params(x.shape, kernel_size, stride, padding)
    (KH, KW), (sh, sw), pads, (H_out, W_out) = params
    xp = _planes(x, pads)  # (N*C, Hp, Wp)
    Hp = xp.shape[1]
    out = np.empty((len(xp), H_out, W_out), dtype=x.dtype)  # (N*C, H_out, W_out)
    for b in _blocks(xp):
        # a box sum is separable: sum KW columns, then KH rows of those sums (KH + KW sweeps)
        rows = _box_sum(xp[b], (1, KW), (1, sw), (Hp, W_out))  # (B, Hp, W_out)
        out[b] = _box_sum(rows, (KH, 1), (sh, 1), (H_out, W_out))  # (B, H_out, W_out)
    out = out / _divisor(x.shape, params, count_include_pad, x.dtype)  # a new array: ints -> float
    return out.reshape(x.shape[:2] + (H_out, W_out))


def avg_pool_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int],
                      kernel_size: IntOrPair, stride: IntOrPair | None = None,
                      padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """dx of shape x_shape (N, C, H, W): each window spreads dout / divisor over its cells."""
    N, C, H, W = x_shape
    params = _params(tuple(x_shape), kernel_size, stride, padding)
    (KH, KW), (sh, sw), ((top, bottom), (left, right)), out_hw = params
    share = dout / _divisor(tuple(x_shape), params, count_include_pad, dout.dtype)  # (N, C, Ho, Wo)
    share = share.reshape((N * C,) + out_hw)  # (N*C, H_out, W_out)
    Hp, Wp = H + top + bottom, W + left + right
    dxp = np.empty((N * C, Hp, Wp), dtype=share.dtype)  # (N*C, Hp, Wp)
    for b in _blocks(dxp):
        # the transpose of the separable sum: spread down KH rows, then across KW columns
        rows = _box_spread(share[b], (KH, 1), (sh, 1), (Hp, out_hw[1]))  # (B, Hp, W_out)
        dxp[b] = _box_spread(rows, (1, KW), (1, sw), (Hp, Wp))  # (B, Hp, Wp)
    return dxp[:, top:top + H, left:left + W].reshape(N, C, H, W)


def _box_sum(a: np.ndarray, k: tuple[int, int], s: tuple[int, int],
             out_hw: tuple[int, int]) -> np.ndarray:
    """Window sums of a (..., Hp, Wp): (..., H_out, W_out), one strided addition per kernel tap."""
    total = np.zeros(a.shape[:-2] + out_hw, dtype=a.dtype)
    for _, _, idx in taps(k, s, out_hw):
        total += a[idx]
    return total


def _box_spread(g: np.ndarray, k: tuple[int, int], s: tuple[int, int],
                size: tuple[int, int]) -> np.ndarray:
    """The transpose of _box_sum: each g[..., i, j] added to every cell of its window in `size`."""
    total = np.zeros(g.shape[:-2] + size, dtype=g.dtype)
    for _, _, idx in taps(k, s, g.shape[-2:]):
        total[idx] += g  # += : overlapping windows both feed a cell
    return total
