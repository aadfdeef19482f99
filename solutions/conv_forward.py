"""Model answer for exercise 2: the 2-D convolution layer forward pass (NCHW, stride, zero padding)."""

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


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: IntOrPair = 1,
                 padding: IntOrPair | str = 0) -> np.ndarray:
    """Cross-correlate x (N, C, H, W) with w (F, C, KH, KW), add b (F,) or None: (N, F, H_out, W_out).

    out[n, f, i, j] = b[f] + sum_{c,u,v} w[f, c, u, v] * xpad[n, c, i*sh + u, j*sw + v]
    """
    for name, arr in (("x", x), ("w", w), ("b", b)):
        if arr is not None and not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"):
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"conv_forward takes float32 or float64 arrays, got {name} of {got}")
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has C = {C}")
    if b is not None and b.shape != (F,):
        raise ValueError(f"b must have shape (F,) = ({F},) or be None, got {b.shape}")
    sh, sw = pair(stride, "stride")
    (top, bottom), (left, right) = pads(padding, (KH, KW), (sh, sw))
    H_out, W_out = output_size(H, KH, sh, (top, bottom)), output_size(W, KW, sw, (left, right))
    # Channels last: a patch's KW*C numbers along a row are then adjacent, so the copy reads runs.
    xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (top, bottom), (left, right), (0, 0)))  # (N, Hp, Wp, C)
    win = sliding_window_view(xp, (KH, KW), axis=(1, 2))[:, ::sh, ::sw]  # (N, H_out, W_out, C, KH, KW)
    rows = win.transpose(0, 1, 2, 4, 5, 3).reshape(N * H_out * W_out, KH * KW * C)  # im2col: the copy
    w_mat = w.transpose(2, 3, 1, 0).reshape(KH * KW * C, F).astype(x.dtype)  # (KH*KW*C, F): same order
    out = rows @ w_mat  # (N*H_out*W_out, F): one GEMM, a linear layer applied to every patch
    if b is not None:
        out += b.astype(x.dtype)  # (F,) broadcast over the rows
    return out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)  # (N, F, H_out, W_out): a view


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
