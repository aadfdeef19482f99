"""Model answer for exercise 5: max and average pooling, forward and backward (NCHW)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IntOrPair = int | tuple[int, int]
Geometry = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]


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


def max_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out), the maximum of each window; padding is -inf."""
    check_floats("max_pool_forward", x=x)
    (KH, KW), s, p, _ = geometry(x.shape, kernel_size, stride, padding)
    win = windows(x, (KH, KW), s, p, -np.inf)  # (N, C, H_out, W_out, KH, KW): -inf never wins
    # one elementwise maximum per tap: numpy reduces long rows far faster than 2x2 windows
    out = np.full(win.shape[:4], -np.inf, x.dtype)  # (N, C, H_out, W_out), the running maximum
    for u in range(KH):
        for v in range(KW):
            out = np.maximum(out, win[..., u, v])  # (N, C, H_out, W_out)
    return out


def max_pool_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair,
                      stride: IntOrPair | None = None, padding: IntOrPair = 0) -> np.ndarray:
    """dx (N, C, H, W): each window's dout goes wholly to its first maximum in row-major order."""
    check_floats("max_pool_backward", dout=dout, x=x)
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw), (H_out, W_out) = geometry(x.shape, kernel_size, stride, padding)
    check_dout(dout, (N, C, H_out, W_out))
    win = windows(x, (KH, KW), (sh, sw), (ph, pw), -np.inf)  # (N, C, H_out, W_out, KH, KW)
    first = win.reshape(N, C, H_out, W_out, KH * KW).argmax(axis=4)  # (N, C, H_out, W_out)
    u, v = np.divmod(first, KW)  # (N, C, H_out, W_out) each: the tap of the first maximum
    rows = np.arange(H_out)[:, None] * sh + u  # (N, C, H_out, W_out) row in xpad
    cols = np.arange(W_out) * sw + v  # (N, C, H_out, W_out) column in xpad
    Hp, Wp = H + 2 * ph, W + 2 * pw
    plane = np.arange(N * C).reshape(N, C, 1, 1)  # (N, C, 1, 1) which (n, c) plane
    cells = (plane * Hp + rows) * Wp + cols  # (N, C, H_out, W_out) flat index into xpad
    dxp = np.zeros(N * C * Hp * Wp, dout.dtype)  # xpad's gradient, flat
    np.add.at(dxp, cells.ravel(), dout.ravel())  # unbuffered: overlapping windows add up
    return dxp.reshape(N, C, Hp, Wp)[:, :, ph:ph + H, pw:pw + W]  # (N, C, H, W): padding cropped


def avg_pool_forward(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                     padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """x (N, C, H, W) -> out (N, C, H_out, W_out): window sum over zero padding / divisor."""
    check_floats("avg_pool_forward", x=x)
    (KH, KW), s, p, _ = geometry(x.shape, kernel_size, stride, padding)
    win = windows(x, (KH, KW), s, p, 0)  # (N, C, H_out, W_out, KH, KW)
    total = np.zeros(win.shape[:4], x.dtype)  # (N, C, H_out, W_out)
    for u in range(KH):  # one addition per tap, in row-major order whatever x's memory layout
        for v in range(KW):
            total += win[..., u, v]
    return total / divisor(x.shape, (KH, KW), s, p, count_include_pad, x.dtype)


def avg_pool_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int],
                      kernel_size: IntOrPair, stride: IntOrPair | None = None,
                      padding: IntOrPair = 0, count_include_pad: bool = True) -> np.ndarray:
    """dx of shape x_shape (N, C, H, W): each window spreads dout / divisor over its cells."""
    check_floats("avg_pool_backward", dout=dout)
    N, C, H, W = x_shape
    (KH, KW), (sh, sw), (ph, pw), (H_out, W_out) = geometry(x_shape, kernel_size, stride, padding)
    check_dout(dout, (N, C, H_out, W_out))
    share = dout / divisor(x_shape, (KH, KW), (sh, sw), (ph, pw), count_include_pad,
                           dout.dtype)  # (N, C, H_out, W_out): what each cell of a window gets
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dout.dtype)  # (N, C, Hp, Wp)
    for u in range(KH):  # every tap of every window gets the window's share
        for v in range(KW):
            dxp[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] += share  # += : overlaps add up
    return dxp[:, :, ph:ph + H, pw:pw + W]  # (N, C, H, W): the padding cropped


def windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
            fill: float) -> np.ndarray:
    """All pooling windows of x padded with `fill`: a view (N, C, H_out, W_out, KH, KW)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)  # (N, C, Hp, Wp)
    return sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]]


def divisor(x_shape: tuple[int, ...], k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
            count_include_pad: bool, dtype: np.dtype) -> np.ndarray:
    """How many cells each window averages, (H_out, W_out): KH*KW, or its in-image cells only."""
    ones = np.ones((1, 1, *x_shape[2:]), dtype)  # (1, 1, H, W)
    fill = 1 if count_include_pad else 0  # count the padding cells too, or not
    return windows(ones, k, s, p, fill).sum(axis=(4, 5))[0, 0]  # (H_out, W_out)


def check_floats(function: str, **arrays: np.ndarray) -> None:
    """ValueError unless each array given is a float32 or float64 ndarray."""
    for name, arr in arrays.items():
        if not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"):
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"{function} takes float32 or float64 arrays, got {name} of {got}")


def check_dout(dout: np.ndarray, expected: tuple[int, int, int, int]) -> None:
    """ValueError unless dout is exactly (N, C, H_out, W_out): a reshape would hide a transpose."""
    if dout.shape != expected:
        raise ValueError(f"dout has shape {dout.shape}, expected (N, C, H_out, W_out) = {expected}")


def geometry(x_shape: tuple[int, ...], kernel_size: IntOrPair, stride: IntOrPair | None,
             padding: IntOrPair) -> Geometry:
    """Validated kernel, stride (default: the kernel), padding and output size of a 2-D pool."""
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding", minimum=0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half the kernel size {k} on each axis")
    H, W = x_shape[2:]
    return k, s, p, (output_size(H, k[0], s[0], p[0]), output_size(W, k[1], s[1], p[1]))


def pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """`3` -> `(3, 3)`; an `(h, w)` pair passes through; each an int >= minimum."""
    h, w = tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
           for v in (h, w)):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(h), int(w)
