"""Reference for exercise 4: general 2-D conv layer, per-axis stride/padding/dilation and groups."""

from __future__ import annotations

import numpy as np

from solutions._common import (
    IntOrPair,
    Padding,
    check_channels,
    col2im,
    im2col_slices,
    output_size,
    pair,
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
    w_g = w.reshape(G, F // G, Cg * KH * KW).astype(x.dtype, copy=False)  # (G, F/G, Cg*KH*KW)
    bias = None if b is None else b.astype(x.dtype, copy=False)[:, None, None]  # (F, 1, 1)
    out = np.empty((N, F, H_out, W_out), x.dtype)  # (N, F, H_out, W_out)
    for n, cols in im2col_slices(x, pads, (KH, KW), s, H_out, d):
        # channels are group-major: splitting C into (G, C/G) gives each group its own block of
        # rows. Not the ones row: groups cannot share it, so the bias is added on its own below
        cols = cols[:, :-1].reshape(len(cols), G, Cg * KH * KW, -1)  # (n, G, Cg*KH*KW, H_out*R)
        rows = w_g @ cols  # (G, F/G, Cg*KH*KW) @ (n, G, Cg*KH*KW, H_out*R) -> (n, G, F/G, H_out*R)
        o = out[n]  # (n, F, H_out, W_out)
        o[...] = rows.reshape(len(cols), F, H_out, -1)[..., :W_out]  # filters are group-major too
        if bias is not None:
            o += bias  # while the slice is in cache
    return out


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
    w_g = w.astype(dout.dtype, copy=False).reshape(G, F // G, Cg * KH * KW)  # (G, F/G, Cg*KH*KW)
    x = x.astype(dout.dtype, copy=False)  # float32 stays float32 throughout
    dw_t = np.zeros((G, Cg * KH * KW, F // G), dout.dtype)  # dw transposed, (G, Cg*KH*KW, F/G)
    dx = np.empty((N, C, H, W), dout.dtype)
    work = (F + C * KH * KW) * H_out * W_out * dout.itemsize  # per image: g and the column gradients
    for n, cols in im2col_slices(x, pads, (KH, KW), s, H_out, d, extra_bytes=work):
        m, R = len(cols), cols.shape[-1] // H_out
        g = np.zeros((m, F, H_out, R), dout.dtype)  # dout on the columns' grid: the junk gets 0
        g[..., :W_out] = dout[n]
        g = g.reshape(m, G, F // G, H_out * R)  # (m, G, F/G, H_out*R)
        cols = cols[:, :-1].reshape(m, G, Cg * KH * KW, H_out * R)  # (m, G, Cg*KH*KW, H_out*R)
        # dw^T = cols @ dout^T per image and group, summed over images: the tall operand on the
        # left, which OpenBLAS runs faster than dout @ cols^T
        dw_t += (cols @ g.transpose(0, 1, 3, 2)).sum(axis=0)  # (m, G, Cg*KH*KW, F/G), summed
        dcols = w_g.transpose(0, 2, 1) @ g  # (m, G, Cg*KH*KW, H_out*R): every tap's share of dx
        col2im(dcols.reshape(m, C * KH * KW, H_out * R), dx[n], pads, (KH, KW), s, H_out, d)
    dw = dw_t.transpose(0, 2, 1).reshape(F, Cg, KH, KW)  # (G, F/G, Cg*KH*KW) -> (F, Cg, KH, KW)
    return dx, dw, dout.reshape(N, F, -1).sum(axis=(0, 2))  # db (F,)

