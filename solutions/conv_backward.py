"""Reference for exercise 3: gradients dx, dw, db of the 2-D convolution layer (NCHW)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import (
    COLS_BYTES,
    IntOrPair,
    Pads,
    check_channels,
    chunks,
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
    w = w.astype(dout.dtype, copy=False)  # float32 stays float32 throughout
    xp = pad(x.astype(dout.dtype, copy=False), pads)  # (N, C, H + pad_h, W + pad_w)
    grad = dout.reshape(N, F, H_out * W_out)  # (N, F, H_out*W_out)
    dw_t = np.zeros((C * KH * KW, F), dout.dtype)  # dw transposed, (C*KH*KW, F)
    dx = np.empty((N, C, H, W), dout.dtype)
    # a slice of the batch at a time, as in the forward pass: its column matrices stay in cache
    image_cols = KH * KW * (C * H_out * W_out + F * H * W) * xp.itemsize  # x's and dout's columns
    for n in chunks(N, image_cols, COLS_BYTES):
        cols = _im2col(xp[n], (KH, KW), (sh, sw))  # (n, C*KH*KW, H_out*W_out), as in the forward
        # dw^T = cols @ dout^T per image, summed over them: a GEMM with the tall operand on the
        # left, which OpenBLAS runs faster than dout @ cols^T
        dw_t += (cols @ grad[n].transpose(0, 2, 1)).sum(axis=0)  # (n, C*KH*KW, F) -> (C*KH*KW, F)
        del cols  # freed before the next slice's columns are allocated: malloc reuses the memory
        if (sh, sw) == (1, 1):
            dx[n] = _dx_transposed(dout[n], w, pads, (H, W))
        else:
            dx[n] = _dx_by_taps(grad[n], w, pads, (H, W), (sh, sw), (H_out, W_out))
    dw = dw_t.T.reshape(F, C, KH, KW)  # (F, C, KH, KW)
    return dx, dw, grad.sum(axis=(0, 2))  # db (F,)


def _im2col(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every window of xp (N, C, Hp, Wp) as a column: (N, C*KH*KW, H_out*W_out), one copy."""
    (KH, KW), (sh, sw) = kernel, stride
    win = sliding_window_view(xp, kernel, axis=(2, 3))  # (N, C, Hp - KH + 1, Wp - KW + 1, KH, KW)
    win = win[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, KH, KW)
    N, C, H_out, W_out = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, KH, KW, H_out, W_out): rows of W_out copy fast
    return cols.reshape(N, C * KH * KW, H_out * W_out)  # (N, C*KH*KW, H_out*W_out)


def _dx_transposed(dout: np.ndarray, w: np.ndarray, pads: Pads, size: tuple[int, int]) -> np.ndarray:
    """Stride 1: dx is dout correlated with the flipped kernel, in- and out-channels swapped.

    dxpad[r, q] = sum_{u,v} dout[r - u, q - v] w[u, v] = sum_{u,v} D[r + u, q + v] w[KH-1-u, KW-1-v]
    with D = dout zero-padded by KH-1 rows and KW-1 columns on each side: a forward conv again,
    so one im2col and one GEMM, with no scatter-add. Only the rows and columns of x are computed.
    """
    N, F, H_out, W_out = dout.shape
    _, C, KH, KW = w.shape
    (H, W), ((top, _), (left, _)) = size, pads
    dp = pad(dout, ((KH - 1, KH - 1), (KW - 1, KW - 1)))  # (N, F, H_out + 2KH - 2, W_out + 2KW - 2)
    dp = dp[:, :, top:top + H + KH - 1, left:left + W + KW - 1]  # (N, F, H + KH - 1, W + KW - 1)
    dcols = _im2col(dp, (KH, KW), (1, 1))  # (N, F*KH*KW, H*W)
    w_flip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW), taps reversed
    dx = w_flip.reshape(C, F * KH * KW) @ dcols  # (N, C, H*W)
    return dx.reshape(N, C, H, W)


def _dx_by_taps(grad: np.ndarray, w: np.ndarray, pads: Pads, size: tuple[int, int],
                stride: tuple[int, int], out: tuple[int, int]) -> np.ndarray:
    """Stride above 1: one GEMM gives every tap's share, then KH*KW strided slice additions."""
    N = grad.shape[0]
    F, C, KH, KW = w.shape
    (H, W), ((top, bottom), (left, right)) = size, pads
    dcols = w.reshape(F, C * KH * KW).T @ grad  # (N, C*KH*KW, H_out*W_out)
    dcols = dcols.reshape(N, C, KH, KW, *out)  # (N, C, KH, KW, H_out, W_out)
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), grad.dtype)  # (N, C, Hp, Wp)
    for u, v, idx in taps((KH, KW), stride, out):
        dxp[idx] += dcols[:, :, u, v]  # += : overlapping windows (stride < kernel) share cells
    return dxp[:, :, top:top + H, left:left + W]  # (N, C, H, W): padding cropped
