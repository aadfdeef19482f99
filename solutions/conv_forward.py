"""Reference for exercise 2: the 2-D convolution layer forward pass (NCHW, stride, zero padding)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import (
    COLS_BYTES,
    IntOrPair,
    check_channels,
    chunks,
    output_size,
    pad,
    pair,
    resolve_padding,
)


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: IntOrPair = 1,
                 padding: IntOrPair = 0) -> np.ndarray:
    """Cross-correlate x (N, C, H, W) with w (F, C, KH, KW), add b (F,): out (N, F, H_out, W_out).

    out[n, f, i, j] = b[f] + sum_{c,u,v} w[f, c, u, v] * xpad[n, c, i*sh + u, j*sw + v]
    """
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    check_channels(C, w.shape)
    sh, sw = pair(stride, "stride")
    pads = resolve_padding(padding, (KH, KW), (sh, sw), (1, 1))
    H_out, W_out = output_size((H, W), pads, (KH, KW), (sh, sw), (1, 1))
    xp = pad(x, pads)  # (N, C, H + pad_h, W + pad_w)
    w_rows = w.reshape(F, C * KH * KW).astype(x.dtype, copy=False)  # (F, C*KH*KW)
    out = np.empty((N, F, H_out * W_out), x.dtype)  # (N, F, H_out*W_out)
    # im2col + GEMM, a slice of the batch at a time: its columns (KH*KW times the input) stay in cache
    for n in chunks(N, C * KH * KW * H_out * W_out * x.itemsize, COLS_BYTES):
        cols = _im2col(xp[n], (KH, KW), (sh, sw))  # (n, C*KH*KW, H_out*W_out)
        np.matmul(w_rows, cols, out=out[n])  # (F, C*KH*KW) @ (n, C*KH*KW, H_out*W_out)
        del cols  # freed before the next slice's columns are allocated: malloc reuses the memory
    out += b.astype(x.dtype, copy=False)[:, None]  # one bias per filter, over every position
    return out.reshape(N, F, H_out, W_out)  # (N, F, H_out, W_out)


def _im2col(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every window of xp (N, C, Hp, Wp) as a column: (N, C*KH*KW, H_out*W_out), in one copy."""
    (KH, KW), (sh, sw) = kernel, stride
    win = sliding_window_view(xp, kernel, axis=(2, 3))  # (N, C, Hp - KH + 1, Wp - KW + 1, KH, KW)
    win = win[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, KH, KW)
    N, C, H_out, W_out = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, KH, KW, H_out, W_out): copies W_out-long rows
    return cols.reshape(N, C * KH * KW, H_out * W_out)  # (N, C*KH*KW, H_out*W_out): the copy
