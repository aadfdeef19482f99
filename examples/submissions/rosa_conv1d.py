"""conv1d exercise (Rosa). Tried a ctypes trick to speed up the strided case."""

import ctypes

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def convolve1d(a, v, mode="full"):
    """True convolution, like np.convolve: slide the *flipped* kernel."""
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or a.size == 0 or v.size == 0:
        raise ValueError(f"need two non-empty 1-D arrays, got shapes {a.shape} and {v.shape}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"unknown mode {mode!r}")
    N, M = len(a), len(v)
    dtype = np.result_type(a, v)
    # full[n] = sum_m a[m] v[n - m]: zero-pad a by M - 1 on both sides, slide v[::-1] over it
    apad = np.pad(a.astype(dtype), (M - 1, M - 1))
    full = sliding_window_view(apad, M) @ v[::-1].astype(dtype)
    lo, hi = min(N, M), max(N, M)
    if mode == "full":
        return full
    if mode == "same":
        return full[(lo - 1) // 2:][:hi]
    return full[lo - 1:hi]


def _fast_copy(a):
    """Copy an array with memmove: faster than np.copy for strided views (???)."""
    out = np.empty_like(a)
    src = a.ctypes.data if a.flags.f_contiguous else None  # only for contiguous arrays
    ctypes.memmove(out.ctypes.data, src, a.nbytes)
    return out


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """The deep-learning layer: cross-correlation (no flip), NCL layout."""
    x, w = np.asarray(x), np.asarray(w)
    N, C, L = x.shape
    F, Cw, K = w.shape
    if Cw != C:
        raise ValueError(f"x has {C} channels, w has {Cw}")
    if stride < 1 or dilation < 1:
        raise ValueError(f"stride and dilation must be >= 1, got {stride} and {dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            before = after = 0
        elif padding == "same":
            if stride != 1:
                raise ValueError("padding='same' needs stride=1")
            total = dilation * (K - 1)
            before, after = total // 2, total - total // 2
        else:
            raise ValueError(f"unknown padding {padding!r}")
    elif padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    else:
        before = after = padding
    extent = dilation * (K - 1) + 1
    L_out = (L + before + after - extent) // stride + 1
    if L_out < 1:
        raise ValueError(f"L_out = {L_out}: input length {L} + padding {before + after} < kernel extent {extent}")
    xpad = np.pad(x, ((0, 0), (0, 0), (before, after)))
    if stride > 1:
        xpad = _fast_copy(xpad)
    windows = sliding_window_view(xpad, extent, axis=2)[:, :, ::stride, ::dilation]  # (N, C, L_out, K)
    y = np.einsum("nclk,fck->nfl", windows, w, optimize=True)
    if b is not None:
        y = y + np.asarray(b)[None, :, None]
    return y.astype(x.dtype, copy=False)
