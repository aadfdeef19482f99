"""Reference for exercise 4: general 2-D conv layer, per-axis stride/padding/dilation and groups."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import (
    COLS_BYTES,
    IntOrPair,
    Padding,
    Pads,
    check_channels,
    chunks,
    im2col_slices,
    output_size,
    pad,
    pair,
    resolve_padding,
    taps,
)


def _windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int]) -> np.ndarray:
    """All dilated windows of the padded input, one per output position, as a view (no copy)."""
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    win = sliding_window_view(xp, extent, axis=(2, 3))  # (N, C, Hp - eh + 1, Wp - ew + 1, eh, ew)
    (sh, sw), (dh, dw) = stride, dilation
    return win[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, H_out, W_out, KH, KW)


def _im2col(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int], G: int) -> np.ndarray:
    """Every window of xp (N, C, Hp, Wp) as a column, per group: (N, G, C/G*KH*KW, H_out*W_out).

    Channels are group-major, so splitting C into (G, C/G) gives each group its own block.
    """
    win = _windows(xp, kernel, stride, dilation)  # (N, C, H_out, W_out, KH, KW)
    N, C, H_out, W_out, KH, KW = win.shape
    cols = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, KH, KW, H_out, W_out): rows of W_out copy fast
    return cols.reshape(N, G, C // G * KH * KW, H_out * W_out)  # the one copy


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
    out = np.empty((N, F, H_out, W_out), x.dtype)  # (N, F, H_out, W_out)
    for n, cols in im2col_slices(x, pads, (KH, KW), s, (H_out, W_out), d):
        # channels are group-major: splitting C into (G, C/G) gives each group its own block of
        # rows (the ones row is left out: the bias is added below, as a group has no ones row)
        cols = cols[:, :-1].reshape(len(cols), G, Cg * KH * KW, -1)  # (n, G, Cg*KH*KW, H_out*R)
        rows = w_g @ cols  # (G, F/G, Cg*KH*KW) @ (n, G, Cg*KH*KW, H_out*R) -> (n, G, F/G, H_out*R)
        out[n] = rows.reshape(len(cols), F, H_out, -1)[..., :W_out]  # filters are group-major too
    if b is not None:
        out += b.astype(x.dtype, copy=False)[:, None, None]
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
    w = w.astype(dout.dtype, copy=False)  # float32 stays float32 throughout
    xp = pad(x.astype(dout.dtype, copy=False), pads)  # (N, C, H + pad_h, W + pad_w)
    grad = dout.reshape(N, G, F // G, H_out * W_out)  # (N, G, F/G, H_out*W_out)
    dw_t = np.zeros((G, Cg * KH * KW, F // G), dout.dtype)  # dw transposed, (G, Cg*KH*KW, F/G)
    dx = np.empty((N, C, H, W), dout.dtype)
    # a slice of the batch at a time, as in the forward pass: its column matrices stay in cache
    image_cols = KH * KW * (C * H_out * W_out + F * H * W) * xp.itemsize  # x's and dout's columns
    for n in chunks(N, image_cols, COLS_BYTES):
        cols = _im2col(xp[n], (KH, KW), s, d, G)  # (n, G, Cg*KH*KW, H_out*W_out), as forward
        # dw^T = cols @ dout^T per image and group, summed over images: the tall operand on the
        # left, which OpenBLAS runs faster than dout @ cols^T
        dw_t += (cols @ grad[n].transpose(0, 1, 3, 2)).sum(axis=0)  # (n, G, Cg*KH*KW, F/G), summed
        del cols  # freed before the next slice's columns are allocated: malloc reuses the memory
        if s == (1, 1):
            dx[n] = _dx_transposed(dout[n], w, pads, (H, W), d, G)
        else:
            dx[n] = _dx_by_taps(grad[n], w, pads, (H, W), s, d, (H_out, W_out))
    dw = dw_t.transpose(0, 2, 1).reshape(F, Cg, KH, KW)  # (G, F/G, Cg*KH*KW) -> (F, Cg, KH, KW)
    return dx, dw, grad.sum(axis=(0, 3)).reshape(F)  # db (F,)


def _dx_transposed(dout: np.ndarray, w: np.ndarray, pads: Pads, size: tuple[int, int],
                   dilation: tuple[int, int], G: int) -> np.ndarray:
    """Stride 1: dx is dout correlated with the flipped kernel, in- and out-channels swapped.

    dxpad[r] = sum_u dout[r - u*d] w[u] = sum_u D[r + u*d] w[K-1-u] per axis, with D = dout
    zero-padded by the dilated extent d*(K-1) on each side: a forward conv again, so one im2col
    and one GEMM per group, with no scatter-add. Only the rows and columns of x are computed.
    """
    N, F, H_out, W_out = dout.shape
    _, Cg, KH, KW = w.shape
    (H, W), ((top, _), (left, _)) = size, pads
    eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)
    dp = pad(dout, ((eh, eh), (ew, ew)))  # (N, F, H_out + 2eh, W_out + 2ew)
    dp = dp[:, :, top:top + H + eh, left:left + W + ew]  # (N, F, H + eh, W + ew)
    dcols = _im2col(dp, (KH, KW), (1, 1), dilation, G)  # (N, G, F/G*KH*KW, H*W)
    w_flip = w[:, :, ::-1, ::-1].reshape(G, F // G, Cg, KH, KW)  # (G, F/G, Cg, KH, KW), reversed
    w_flip = w_flip.transpose(0, 2, 1, 3, 4).reshape(G, Cg, F // G * KH * KW)  # (G, Cg, F/G*KH*KW)
    dx = w_flip @ dcols  # (N, G, Cg, H*W)
    return dx.reshape(N, G * Cg, H, W)


def _dx_by_taps(grad: np.ndarray, w: np.ndarray, pads: Pads, size: tuple[int, int],
                stride: tuple[int, int], dilation: tuple[int, int],
                out: tuple[int, int]) -> np.ndarray:
    """Stride above 1: one GEMM per group gives every tap's share, then KH*KW strided additions."""
    N, G, Fg, _ = grad.shape
    _, Cg, KH, KW = w.shape
    (H, W), ((top, bottom), (left, right)) = size, pads
    w_g = w.reshape(G, Fg, Cg * KH * KW)  # (G, F/G, Cg*KH*KW)
    dcols = w_g.transpose(0, 2, 1) @ grad  # (N, G, Cg*KH*KW, H_out*W_out)
    dcols = dcols.reshape(N, G * Cg, KH, KW, *out)  # (N, C, KH, KW, H_out, W_out)
    dxp = np.zeros((N, G * Cg, H + top + bottom, W + left + right), grad.dtype)  # (N, C, Hp, Wp)
    for u, v, idx in taps((KH, KW), stride, out, dilation):
        dxp[idx] += dcols[:, :, u, v]  # += : windows overlap when stride < dilated kernel extent
    return dxp[:, :, top:top + H, left:left + W]  # (N, C, H, W): padding cropped
