"""Reference for exercise 4: general 2-D conv layer, per-axis stride/padding/dilation and groups."""

from __future__ import annotations

import numpy as np

from solutions._common import (
    IntOrPair,
    Padding,
    Pads,
    check_channels,
    col2im,
    im2col_slices,
    output_size,
    pair,
    phase_grid,
    resolve_padding,
)


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: IntOrPair = 1,
           padding: Padding = 0, dilation: IntOrPair = 1, groups: int = 1) -> np.ndarray:
    """x (N, C, H, W), w (F, C // groups, KH, KW), b (F,) or None -> out (N, F, H_out, W_out).

    out[n,f,i,j] = b[f] + sum_{c in group(f),u,v} w[f,c-g0,u,v] * xpad[n,c,i*sh+u*dh,j*sw+v*dw],
    g = f // (F // groups), group(f) = input channels [g*C/groups, (g+1)*C/groups), g0 = g*C/groups.
    """
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G = check_channels(C, w.shape, groups)
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, (KH, KW), s, d)
    H_out, W_out = output_size((H, W), pads, (KH, KW), s, d)
    return _correlate(x, w, b, pads, s, d, G, (H_out, W_out))


def _correlate(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pads: Pads,
               stride: tuple[int, int], dilation: tuple[int, int], G: int,
               out_size: tuple[int, int]) -> np.ndarray:
    """conv2d on validated arguments, with explicit (before, after) pads per axis."""
    N = len(x)
    F, Cg, KH, KW = w.shape
    H_out, W_out = out_size
    bias = np.zeros(F) if b is None else b
    # the bias as one more weight column per group, which meets its group's row of ones in cols
    w_g = np.concatenate([w.reshape(G, F // G, Cg * KH * KW), bias.reshape(G, F // G, 1)], axis=2)
    w_g = w_g.astype(x.dtype, copy=False)  # (G, F/G, Cg*KH*KW + 1)
    _, R = phase_grid(x.shape[2:], pads, (KH, KW), stride, dilation, H_out)  # output rows R wide
    out = np.empty((N, F, H_out, R), x.dtype)  # (N, F, H_out, R)
    for n, cols in im2col_slices(x, pads, (KH, KW), stride, H_out, dilation, G):
        m = len(cols)
        # channels are group-major: splitting C into (G, C/G) gives each group its own block of
        # rows, and the filters are group-major too
        cols = cols.reshape(m, G, Cg * KH * KW + 1, H_out * R)  # (m, G, Cg*KH*KW + 1, H_out*R)
        # (G, F/G, Cg*KH*KW + 1) @ cols -> (m, G, F/G, H_out*R), straight into out
        np.matmul(w_g, cols, out=out[n].reshape(m, G, F // G, H_out * R))
    return out[..., :W_out]  # (N, F, H_out, W_out), a view: the junk columns past W_out dropped


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1,
                    padding: Padding = 0, dilation: IntOrPair = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of conv2d for dout (N, F, H_out, W_out): dx, dw, db shaped like x, w and (F,).

    db sums dout over every filter (even if the forward had no bias); dw[f, c, u, v] and dx follow
    the forward's index map xpad[n, g0 + c, i*sh + u*dh, j*sw + v*dw], dx with the padding cropped.
    """
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G = check_channels(C, w.shape, groups)
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    pads = resolve_padding(padding, (KH, KW), s, d)
    H_out, W_out = output_size((H, W), pads, (KH, KW), s, d)
    w = w.astype(dout.dtype, copy=False)  # float32 stays float32 throughout
    x = x.astype(dout.dtype, copy=False)
    w_g = w.reshape(G, F // G, Cg * KH * KW)  # (G, F/G, Cg*KH*KW)
    dwb = np.zeros((G, Cg * KH * KW + 1, F // G), dout.dtype)  # dw transposed, db its last row
    strided = s != (1, 1)
    if strided:  # dx: summed by col2im in the loop below
        dx = np.empty((N, C, H, W), dout.dtype)
    else:  # dx: at stride 1, a forward pass again
        dx = _dx_transposed(dout, w, pads, d, G, (H, W))
    _, R = phase_grid((H, W), pads, (KH, KW), s, d, H_out)  # the columns' rows are R wide
    grad = np.zeros((N, F, H_out, R), dout.dtype)  # dout on the columns' grid: the junk gets 0
    grad[..., :W_out] = dout
    grad = grad.reshape(N, G, F // G, H_out * R)  # (N, G, F/G, H_out*R)
    work = (F + C * KH * KW * strided) * H_out * W_out * dout.itemsize  # per image, besides cols
    for n, cols in im2col_slices(x, pads, (KH, KW), s, H_out, d, G, extra_bytes=work):
        m, g = len(cols), grad[n]  # g: (m, G, F/G, H_out*R)
        cols = cols.reshape(m, G, Cg * KH * KW + 1, H_out * R)  # (m, G, Cg*KH*KW + 1, H_out*R)
        # [dw^T; db] = cols @ dout^T per image and group, summed over images (each group's row of
        # ones gives its db): the tall operand on the left, which OpenBLAS runs faster
        dwb += (cols @ g.transpose(0, 1, 3, 2)).sum(axis=0)  # (m, G, Cg*KH*KW + 1, F/G), summed
        if strided:
            dcols = w_g.transpose(0, 2, 1) @ g  # (m, G, Cg*KH*KW, H_out*R): each tap's share of dx
            col2im(dcols.reshape(m, C * KH * KW, H_out * R), dx[n], pads, (KH, KW), s, H_out, d)
    dw = dwb[:, :-1].transpose(0, 2, 1).reshape(F, Cg, KH, KW)  # (G, F/G, Cg*KH*KW) -> (F, Cg, KH, KW)
    return dx, dw, dwb[:, -1].reshape(F)  # db (F,), group-major like the filters


def _dx_transposed(dout: np.ndarray, w: np.ndarray, pads: Pads, dilation: tuple[int, int],
                   G: int, size: tuple[int, int]) -> np.ndarray:
    """Stride 1: dx is dout correlated with the flipped kernel, in- and out-channels swapped.

    dxpad[r] = sum_u dout[r - u*d] w[u] = sum_u D[r + u*d] w[K-1-u] per axis, with D = dout
    zero-padded by the dilated extent e = d*(K-1) on each side: the forward pass again, with
    padding e - p per side, and no scatter-add. Where p > e, dout's outer rows only ever met
    xpad's padding: they are cropped instead.
    """
    N, F, H_out, W_out = dout.shape
    _, Cg, KH, KW = w.shape
    eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)
    (top, bottom), (left, right) = pads
    crop = dout[:, :, max(top - eh, 0):H_out - max(bottom - eh, 0),
                max(left - ew, 0):W_out - max(right - ew, 0)]  # (N, F, H + eh - .., W + ew - ..)
    dpads = ((max(eh - top, 0), max(eh - bottom, 0)), (max(ew - left, 0), max(ew - right, 0)))
    w_flip = w[:, :, ::-1, ::-1].reshape(G, F // G, Cg, KH, KW)  # (G, F/G, Cg, KH, KW), reversed
    w_flip = w_flip.transpose(0, 2, 1, 3, 4).reshape(G * Cg, F // G, KH, KW)  # (C, F/G, KH, KW)
    return _correlate(crop, w_flip, None, dpads, (1, 1), dilation, G, size)  # (N, C, H, W)
