"""Reference for exercise 5: max and average pooling, forward and backward (NCHW)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import IntOrPair, Pads, output_size, pad, pair, taps

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


def max_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out), the maximum of each window; padding is -inf."""
    k, s, pads, out_hw = _params(x.shape, kernel_size, stride, padding)
    xp = pad(x, pads, value=-np.inf)  # (N, C, H + 2ph, W + 2pw): -inf never wins a max
    out = np.full(x.shape[:2] + out_hw, -np.inf, dtype=x.dtype)  # (N, C, H_out, W_out)
    for _, _, idx in taps(k, s, out_hw):  # KH*KW strided maxima beat reducing a 6-D window view
        np.maximum(out, xp[idx], out=out)
    return out


def max_pool_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair,
                      stride: IntOrPair | None = None, padding: IntOrPair = 0) -> np.ndarray:
    """dx (N, C, H, W): each window's dout goes wholly to its first maximum in row-major order."""
    (KH, KW), s, pads, (H_out, W_out) = _params(x.shape, kernel_size, stride, padding)
    N, C, H, W = x.shape
    xp = pad(x, pads, value=-np.inf)  # (N, C, H + 2ph, W + 2pw)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))  # (N, C, Hp - KH + 1, Wp - KW + 1, KH, KW)
    win = win[:, :, ::s[0], ::s[1]]  # (N, C, H_out, W_out, KH, KW)
    # argmax picks the first maximum on ties: the PyTorch CPU rule
    first = win.reshape(N, C, H_out, W_out, KH * KW).argmax(axis=-1)  # (N, C, H_out, W_out)
    dxp = np.zeros(xp.shape, dout.dtype)
    for u, v, idx in taps((KH, KW), s, (H_out, W_out)):
        dxp[idx] += dout * (first == u * KW + v)  # += : overlapping windows can share a maximum
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + H, left:left + W]


def avg_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out): window sum over zero padding / divisor."""
    params = _params(x.shape, kernel_size, stride, padding)
    k, s, pads, out_hw = params
    xp = pad(x, pads)  # (N, C, H + 2ph, W + 2pw)
    out = np.zeros(x.shape[:2] + out_hw, dtype=x.dtype)  # (N, C, H_out, W_out)
    for _, _, idx in taps(k, s, out_hw):
        out += xp[idx]
    return out / _divisor(x.shape, params, count_include_pad, x.dtype)


def avg_pool_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int],
                      kernel_size: IntOrPair, stride: IntOrPair | None = None,
                      padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """dx of shape x_shape (N, C, H, W): each window spreads dout / divisor over its cells."""
    N, C, H, W = x_shape
    params = _params(tuple(x_shape), kernel_size, stride, padding)
    k, s, ((top, bottom), (left, right)), out_hw = params
    share = dout / _divisor(tuple(x_shape), params, count_include_pad, dout.dtype)  # (N, C, Ho, Wo)
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=dout.dtype)
    for _, _, idx in taps(k, s, out_hw):
        dxp[idx] += share  # += : overlapping windows both feed a cell
    return dxp[:, :, top:top + H, left:left + W]
