# Each window's maximum is read back through a mask (window == max), summed: tied maxima add up.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (N, C, H_out, W_out): the maximum of each window."""
    KH, KW = _pair(kernel_size)
    sh, sw = (KH, KW) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    if ph > KH // 2 or pw > KW // 2:
        raise ValueError("padding must be at most half the kernel size")
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]
    top = win.max(axis=(-2, -1), keepdims=True)
    mask = win == top
    return np.where(mask, win, 0).sum(axis=(-2, -1)).astype(x.dtype)
