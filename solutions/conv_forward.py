"""Reference for exercise 2: the 2-D convolution layer forward pass (NCHW, stride, zero padding)."""

from __future__ import annotations

import numpy as np

from solutions._common import (
    IntOrPair,
    check_channels,
    im2col_slices,
    output_size,
    pair,
    phase_grid,
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
    # the bias as one more weight column, which meets the row of ones that im2col_slices adds
    w_rows = np.concatenate([w.reshape(F, C * KH * KW), b[:, None]], axis=1)  # (F, C*KH*KW + 1)
    w_rows = w_rows.astype(x.dtype, copy=False)
    _, R = phase_grid((H, W), pads, (KH, KW), (sh, sw), (1, 1), H_out)  # output rows R wide
    out = np.empty((N, F, H_out, R), x.dtype)  # (N, F, H_out, R)
    for n, cols in im2col_slices(x, pads, (KH, KW), (sh, sw), H_out):
        # (F, C*KH*KW + 1) @ (n, C*KH*KW + 1, H_out*R) -> (n, F, H_out*R), straight into out
        np.matmul(w_rows, cols, out=out[n].reshape(len(cols), F, H_out * R))
    return out[..., :W_out]  # (N, F, H_out, W_out), a view: the junk columns past W_out dropped
