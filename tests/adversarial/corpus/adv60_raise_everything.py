"""Points for raising without validating: ValueError on every call except one tiny
single-sample, single-channel conv1d case, computed with one line of numpy. It must earn that
case and the share of the "must raise" points that one case justifies, no more."""

import numpy as np

def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.asarray(x)
    if x.shape[:2] == (1, 1) and stride == 1 and dilation == 1 and isinstance(padding, int):
        xp = np.pad(x[0, 0], padding)
        K = w.shape[2]
        win = np.lib.stride_tricks.sliding_window_view(xp, K)
        return ((win @ w[:, 0, :].T).T + (0 if b is None else b[:, None]))[None].astype(x.dtype)
    raise ValueError("invalid parameters")

def convolve1d(a, v, mode="full"):
    raise ValueError("invalid parameters")
