"""Model answer for exercise 3: gradients dx, dw, db of the 2-D convolution layer (NCHW)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IntOrPair = int | tuple[int, int]


def output_size(size: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0,
                dilation: int = 1) -> int:
    """Outputs along one axis: floor((size + before + after - dilation*(kernel-1) - 1) / stride) + 1.

    `padding` is an int (both ends) or a (before, after) pair. ValueError when no window fits.
    """
    before, after = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    extent = dilation * (kernel - 1) + 1  # the dilated kernel's span
    out = (size + before + after - extent) // stride + 1
    if out < 1:
        raise ValueError(f"output size {out} < 1: input size {size} with padding ({before}, "
                         f"{after}) is smaller than the effective kernel size {extent}")
    return out


def conv_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1,
                  padding: IntOrPair | str = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of conv_forward for dout (N, F, H_out, W_out): dx, dw, db shaped like x, w, (F,).

    db[f] = sum_{n,i,j} dout[n,f,i,j]
    dw[f,c,u,v] = sum_{n,i,j} dout[n,f,i,j] * xpad[n,c,i*sh+u,j*sw+v]
    dxpad[n,c,i*sh+u,j*sw+v] += sum_f dout[n,f,i,j] * w[f,c,u,v], then the padding is cropped.
    """
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has C = {C}")
    sh, sw = pair(stride, "stride")
    (top, bottom), (left, right) = pads(padding, (KH, KW), (sh, sw))
    H_out, W_out = output_size(H, KH, sh, (top, bottom)), output_size(W, KW, sw, (left, right))
    if dout.shape != (N, F, H_out, W_out):  # explicit: a (1, F, ..) dout would broadcast silently
        raise ValueError(f"dout has shape {dout.shape}, expected (N, F, H_out, W_out) = "
                         f"{(N, F, H_out, W_out)}")
    x, w = x.astype(dout.dtype), w.astype(dout.dtype)  # float32 stays float32 throughout
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))  # (N, C, Hp, Wp)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, KH, KW)
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, H_out * W_out)  # (N, C*KH*KW, P): im2col
    g = dout.reshape(N, F, H_out * W_out)  # (N, F, P), P = H_out*W_out
    db = g.sum(axis=(0, 2))  # (F,)
    dw = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(F, C, KH, KW)  # (F, C, KH, KW): n, p summed
    dxp = np.zeros_like(xp)  # (N, C, Hp, Wp)
    for u in range(KH):  # each kernel tap sends dout back onto the cells it read
        for v in range(KW):
            share = (w[:, :, u, v].T @ g).reshape(N, C, H_out, W_out)  # (C, F) @ (N, F, P)
            dxp[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] += share  # += : windows overlap
    return dxp[:, :, top:top + H, left:left + W], dw, db  # dx (N, C, H, W): the padding cropped


def pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """`3` -> `(3, 3)`; an `(h, w)` pair passes through; each an int >= minimum."""
    h, w = tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
           for v in (h, w)):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(h), int(w)


def pads(padding: IntOrPair | str, kernel: tuple[int, int],
         stride: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) for an int, a pair, 'valid' or 'same' (stride 1 only)."""
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
        (th, tw) = (kernel[0] - 1, kernel[1] - 1)  # total zeros per axis; the odd one goes after
        return (th // 2, th - th // 2), (tw // 2, tw - tw // 2)
    if padding == "valid":
        return (0, 0), (0, 0)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = pair(padding, "padding", minimum=0)
    return (ph, ph), (pw, pw)
