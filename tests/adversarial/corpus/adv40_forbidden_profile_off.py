"""conv1d is np.convolve in a loop, with the profile hook that used to watch for it switched off."""

import sys

import numpy as np


def convolve1d(a, v, mode="full"):
    """True 1-D convolution of `a (N,)` with `v (M,)`, same result as `np.convolve(a, v, mode)`."""
    a = np.asarray(a)
    v = np.asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"convolve1d expects 1-D arrays, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError("convolve1d expects non-empty arrays")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    n, m = a.shape[0], v.shape[0]
    full = np.zeros(n + m - 1, dtype=np.result_type(a, v))
    for out_idx in range(n + m - 1):
        total = full.dtype.type(0)
        for k in range(m):
            src = out_idx - k
            if 0 <= src < n:
                total += a[src] * v[k]
        full[out_idx] = total
    short, long = min(n, m), max(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (short - 1) // 2
        return full[start:start + long].copy()
    return full[short - 1:long].copy()
def _padding_1d(padding, kernel, stride, dilation):
    """Return (before, after) zero padding for an int, 'valid' or 'same' padding argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            if stride != 1:
                raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
            total = dilation * (kernel - 1)
            return total // 2, total - total // 2
        raise ValueError(f"padding must be an int, 'valid' or 'same', got {padding!r}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    return padding, padding
def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    sys.setprofile(None)
    n_batch, channels, _ = x.shape
    n_filters, _, kernel = w.shape
    before, after = _padding_1d(padding, kernel, stride, dilation)
    xpad = np.pad(x, ((0, 0), (0, 0), (before, after)))
    taps = np.zeros((n_filters, channels, dilation * (kernel - 1) + 1), dtype=w.dtype)
    taps[:, :, ::dilation] = w
    rows = [[sum(np.convolve(xpad[n, c], taps[f, c, ::-1], "valid") for c in range(channels))
             for f in range(n_filters)] for n in range(n_batch)]
    out = np.array(rows, dtype=x.dtype)[:, :, ::stride]
    return out if b is None else out + b[None, :, None]
