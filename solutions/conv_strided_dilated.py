"""Reference for exercise 4: general 2-D conv layer, per-axis stride/padding/dilation and groups."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import (
    IntOrPair,
    Padding,
    check_channels,
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
    win = _windows(pad(x, pads), (KH, KW), s, d)  # (N, C, H_out, W_out, KH, KW)
    # channels are group-major, so splitting C into (G, Cg) gives each group its own im2col block
    cols = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, KH, KW, H_out, W_out)
    cols = cols.reshape(N, G, Cg * KH * KW, H_out * W_out)  # (N, G, Cg*KH*KW, H_out*W_out)
    w_g = w.reshape(G, F // G, Cg * KH * KW).astype(x.dtype, copy=False)  # (G, F/G, Cg*KH*KW)
    out = (w_g @ cols).reshape(N, F, H_out * W_out)  # (N, G, F/G, H_out*W_out) -> (N, F, ...)
    if b is not None:
        out += b.astype(x.dtype, copy=False)[:, None]
    return out.reshape(N, F, H_out, W_out)  # (N, F, H_out, W_out)


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
    xp = pad(x.astype(dout.dtype, copy=False), pads)  # (N, C, H + pad_h, W + pad_w)
    win = _windows(xp, (KH, KW), s, d)  # (N, C, H_out, W_out, KH, KW)
    # batch and positions side by side: per group, each gradient is one GEMM
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(G, Cg * KH * KW, -1)  # (G, Cg*KH*KW, N*Ho*Wo)
    dout_g = dout.transpose(1, 0, 2, 3).reshape(G, F // G, -1)  # (G, F/G, N*Ho*Wo)
    dw = (dout_g @ cols.transpose(0, 2, 1)).reshape(F, Cg, KH, KW)  # (F, Cg, KH, KW)
    w_g = w.reshape(G, F // G, Cg * KH * KW).astype(dout.dtype, copy=False)  # (G, F/G, Cg*KH*KW)
    dcols = w_g.transpose(0, 2, 1) @ dout_g  # (G, Cg*KH*KW, N*Ho*Wo)
    dcols = dcols.reshape(C, KH, KW, N, H_out, W_out)  # (C, KH, KW, N, H_out, W_out)
    dxp = np.zeros((C, N) + xp.shape[2:], dout.dtype)  # channel-major like dcols: no copy per tap
    for u, v, idx in taps((KH, KW), s, (H_out, W_out), d):
        dxp[idx] += dcols[:, u, v]  # += : windows overlap when stride < dilated kernel extent
    (top, _), (left, _) = pads
    dx = dxp[:, :, top:top + H, left:left + W].transpose(1, 0, 2, 3)  # (N, C, H, W)
    return dx, dw, dout_g.sum(axis=2).reshape(F)  # db (F,)
