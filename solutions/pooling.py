"""Reference for exercise 5: max and average pooling, forward and backward (NCHW)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from solutions._common import IntOrPair, Pads, output_size, pad, pair, taps

Params = tuple[tuple[int, int], tuple[int, int], Pads, tuple[int, int]]

BLOCK_BYTES = 1 << 19  # about a quarter of a 2 MiB L2 cache: a block and its outputs stay in it


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
    """Runs of whole planes of `planes` (P, Hp, Wp), about BLOCK_BYTES each.

    Every pool below sweeps its input KH*KW times, once per kernel tap. Sweeping one cache-sized
    block at a time reads memory once and serves the other sweeps from the L2 cache.
    """
    step = max(1, BLOCK_BYTES // (planes[0].size * planes.itemsize))
    return (slice(i, i + step) for i in range(0, len(planes), step))


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
    best = np.full((B,) + out_hw, -np.inf, dtype=xp.dtype)  # (B, H_out, W_out)
    offset = np.zeros((B,) + out_hw, dtype=np.intp)  # (B, H_out, W_out): u*Wp + v of the max
    for u, v, idx in taps(k, s, out_hw):  # row-major, and strictly greater: ties keep the first
        better = xp[idx] > best  # the PyTorch CPU rule
        np.copyto(best, xp[idx], where=better)
        np.copyto(offset, u * Wp + v, where=better)
    plane = np.arange(B)[:, None, None] * (Hp * Wp)  # (B, 1, 1)
    row = np.arange(out_hw[0])[:, None] * (s[0] * Wp)  # (H_out, 1) top row of each window
    col = np.arange(out_hw[1]) * s[1]  # (W_out,) left column of each window
    return offset + plane + row + col  # (B, H_out, W_out)


def avg_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out): window sum over zero padding / divisor."""
    params = _params(x.shape, kernel_size, stride, padding)
    k, s, pads, out_hw = params
    xp = _planes(x, pads)  # (N*C, Hp, Wp)
    out = np.zeros((len(xp),) + out_hw, dtype=x.dtype)  # (N*C, H_out, W_out)
    for b in _blocks(xp):
        for _, _, idx in taps(k, s, out_hw):
            out[b] += xp[b][idx]
    out = out / _divisor(x.shape, params, count_include_pad, x.dtype)  # a new array: ints -> float
    return out.reshape(x.shape[:2] + out_hw)


def avg_pool_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int],
                      kernel_size: IntOrPair, stride: IntOrPair | None = None,
                      padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """dx of shape x_shape (N, C, H, W): each window spreads dout / divisor over its cells."""
    N, C, H, W = x_shape
    params = _params(tuple(x_shape), kernel_size, stride, padding)
    k, s, ((top, bottom), (left, right)), out_hw = params
    share = dout / _divisor(tuple(x_shape), params, count_include_pad, dout.dtype)  # (N, C, Ho, Wo)
    share = share.reshape((N * C,) + out_hw)  # (N*C, H_out, W_out)
    dxp = np.zeros((N * C, H + top + bottom, W + left + right), dtype=dout.dtype)  # (N*C, Hp, Wp)
    for b in _blocks(dxp):
        for _, _, idx in taps(k, s, out_hw):
            dxp[b][idx] += share[b]  # += : overlapping windows both feed a cell
    return dxp[:, top:top + H, left:left + W].reshape(N, C, H, W)
