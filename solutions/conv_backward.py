"""Reference for exercise 3: gradients dx, dw, db of the 2-D convolution layer (NCHW)."""

from __future__ import annotations

import numpy as np

from solutions._common import (
    IntOrPair,
    Pads,
    check_channels,
    col2im,
    im2col_slices,
    output_size,
    pair,
    phase_grid,
    resolve_padding,
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
    x = x.astype(dout.dtype, copy=False)
    w_cols = w.reshape(F, C * KH * KW).T  # (C*KH*KW, F)
    dwb = np.zeros((C * KH * KW + 1, F), dout.dtype)  # dw transposed, and db as its last row
    strided = (sh, sw) != (1, 1)
    if strided:  # dx: summed by col2im in the loop below
        dx = np.empty((N, C, H, W), dout.dtype)
    else:  # dx: at stride 1, a forward pass again
        dx = _dx_transposed(dout, w, pads, (H, W))
    _, R = phase_grid((H, W), pads, (KH, KW), (sh, sw), (1, 1), H_out)  # the columns' rows are R wide
    grad = np.zeros((N, F, H_out, R), dout.dtype)  # dout on the columns' grid: the junk gets 0
    grad[..., :W_out] = dout
    grad = grad.reshape(N, F, H_out * R)  # (N, F, H_out*R)
    work = (F + C * KH * KW * strided) * H_out * W_out * dout.itemsize  # per image, besides cols
    for n, cols in im2col_slices(x, pads, (KH, KW), (sh, sw), H_out, extra_bytes=work):
        g = grad[n]  # (m, F, H_out*R)
        # [dw^T; db] = cols @ dout^T per image, summed over images (the ones row of cols gives db):
        # the tall operand on the left, which OpenBLAS runs faster than dout @ cols^T
        dwb += (cols @ g.transpose(0, 2, 1)).sum(axis=0)  # (m, C*KH*KW + 1, F), summed
        if strided:
            # every tap's share of dx, (m, C*KH*KW, H_out*R), summed back onto x's cells
            col2im(w_cols @ g, dx[n], pads, (KH, KW), (sh, sw), H_out)
    dw = dwb[:-1].T.reshape(F, C, KH, KW)  # (C*KH*KW, F) -> (F, C, KH, KW)
    return dx, dw, dwb[-1]  # db (F,)


def _dx_transposed(dout: np.ndarray, w: np.ndarray, pads: Pads,
                   size: tuple[int, int]) -> np.ndarray:
    """Stride 1: dx is dout correlated with the flipped kernel, in- and out-channels swapped.

    dxpad[r] = sum_u dout[r - u] w[u] = sum_u D[r + u] w[K-1-u] per axis, with D = dout
    zero-padded by K-1 on each side: a forward pass again, with padding K-1-p per side, and no
    scatter-add. Where p > K-1, dout's outer rows only ever met xpad's padding: they are cropped.
    """
    N, F, H_out, W_out = dout.shape
    _, C, KH, KW = w.shape
    (top, bottom), (left, right) = pads
    crop = dout[:, :, max(top - KH + 1, 0):H_out - max(bottom - KH + 1, 0),
                max(left - KW + 1, 0):W_out - max(right - KW + 1, 0)]
    dpads = ((max(KH - 1 - top, 0), max(KH - 1 - bottom, 0)),
             (max(KW - 1 - left, 0), max(KW - 1 - right, 0)))
    H, W = size  # x's: the correlation of crop, padded by dpads, with a KH x KW kernel
    w_flip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, F * KH * KW)  # (C, F*KH*KW)
    _, R = phase_grid(crop.shape[2:], dpads, (KH, KW), (1, 1), (1, 1), H)  # rows of dx R wide
    dx = np.empty((N, C, H, R), dout.dtype)  # (N, C, H, R)
    for n, cols in im2col_slices(crop, dpads, (KH, KW), (1, 1), H):
        # (C, F*KH*KW) @ (n, F*KH*KW, H*R), no ones row (no bias): straight into dx
        np.matmul(w_flip, cols[:, :-1], out=dx[n].reshape(len(cols), C, H * R))
    return dx[..., :W]  # (N, C, H, W), a view: the junk columns past W dropped
