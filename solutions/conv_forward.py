"""Reference for exercise 2: the 2-D convolution layer forward pass (NCHW, stride, zero padding)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import IntOrPair, check_channels, output_size, pad, pair, resolve_padding


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
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))  # (N, C, H + pad_h - KH + 1, ..., KH, KW)
    win = win[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, KH, KW)
    # im2col: one copy lays every window out as a column, so a single matmul does all the work
    cols = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, KH, KW, H_out, W_out)
    cols = cols.reshape(N, C * KH * KW, H_out * W_out)  # (N, C*KH*KW, H_out*W_out)
    w_rows = w.reshape(F, C * KH * KW).astype(x.dtype, copy=False)  # (F, C*KH*KW)
    out = w_rows @ cols  # (N, F, H_out*W_out)
    out += b.astype(x.dtype, copy=False)[:, None]  # one bias per filter, over every position
    return out.reshape(N, F, H_out, W_out)  # (N, F, H_out, W_out)
