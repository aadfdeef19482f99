"""Reference for exercise 3: gradients dx, dw, db of the 2-D convolution layer (NCHW)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import (
    IntOrPair,
    check_channels,
    output_size,
    pad,
    pair,
    resolve_padding,
    taps,
)


def conv_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1,
                  padding: IntOrPair = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of conv_forward for dout (N, F, H_out, W_out): dx, dw, db shaped like x, w, (F,).

    db[f] = sum_{n,i,j} dout[n,f,i,j]
    dw[f,c,u,v] = sum_{n,i,j} dout[n,f,i,j] * xpad[n,c,i*sh+u,j*sw+v]
    dxpad[n,c,i*sh+u,j*sw+v] += sum_f dout[n,f,i,j] * w[f,c,u,v], then the padding is cropped.
    """
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    check_channels(C, w.shape)
    sh, sw = pair(stride, "stride")
    pads = resolve_padding(padding, (KH, KW), (sh, sw), (1, 1))
    H_out, W_out = output_size((H, W), pads, (KH, KW), (sh, sw), (1, 1))
    xp = pad(x.astype(dout.dtype, copy=False), pads)  # (N, C, H + pad_h, W + pad_w)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))  # (N, C, H + pad_h - KH + 1, ..., KH, KW)
    win = win[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, KH, KW)
    # batch and positions side by side, so each gradient is one GEMM over F or N*H_out*W_out
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, -1)  # (C*KH*KW, N*H_out*W_out)
    dout_t = dout.transpose(1, 0, 2, 3).reshape(F, -1)  # (F, N*H_out*W_out)
    dw = (dout_t @ cols.T).reshape(F, C, KH, KW)  # (F, C, KH, KW)
    w_t = w.reshape(F, C * KH * KW).T.astype(dout.dtype, copy=False)  # (C*KH*KW, F)
    dcols = (w_t @ dout_t).reshape(C, KH, KW, N, H_out, W_out)  # (C, KH, KW, N, H_out, W_out)
    dxp = np.zeros((C, N) + xp.shape[2:], dout.dtype)  # channel-major like dcols: no copy per tap
    for u, v, idx in taps((KH, KW), (sh, sw), (H_out, W_out)):
        dxp[idx] += dcols[:, u, v]  # += : overlapping windows (stride < kernel) share input cells
    (top, _), (left, _) = pads
    dx = dxp[:, :, top:top + H, left:left + W].transpose(1, 0, 2, 3)  # (N, C, H, W)
    return dx, dw, dout_t.sum(axis=1)  # db (F,)
