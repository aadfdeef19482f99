# Correct and loop-free: sliding_window_view for both functions; convolve1d is one
# matrix-vector product with the reversed kernel, conv1d one matrix product over (C, K).
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def convolve1d(a, v, mode="full"):
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or a.size == 0 or v.size == 0:
        raise ValueError(f"a and v must be non-empty 1-D, got shapes {a.shape} and {v.shape}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"unknown mode {mode!r}")
    N, M = len(a), len(v)
    dtype = np.result_type(a, v)
    ap = np.pad(a.astype(dtype), M - 1)  # (N + 2M - 2,)
    full = sliding_window_view(ap, M) @ v[::-1].astype(dtype)  # (N + M - 1,)
    lo, hi = min(N, M), max(N, M)
    if mode == "same":
        return full[(lo - 1) // 2:][:hi]
    if mode == "valid":
        return full[lo - 1:hi]
    return full


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    if x.dtype.kind != "f" or w.dtype.kind != "f" or (b is not None and b.dtype.kind != "f"):
        raise ValueError("x, w and b must be float arrays")
    N, C, L = x.shape
    F, Cw, K = w.shape
    if Cw != C:
        raise ValueError(f"w.shape[1] = {Cw} but x has C = {C}")
    if stride < 1 or dilation < 1:
        raise ValueError(f"stride {stride} and dilation {dilation} must be >= 1")
    span = dilation * (K - 1) + 1
    if padding == "same":
        if stride != 1:
            raise ValueError("padding='same' needs stride 1")
        before, after = (span - 1) // 2, span - 1 - (span - 1) // 2
    elif padding == "valid":
        before = after = 0
    elif isinstance(padding, str) or padding < 0:
        raise ValueError(f"bad padding {padding!r}")
    else:
        before = after = padding
    L_out = (L + before + after - span) // stride + 1
    if L_out < 1:
        raise ValueError(f"L_out = {L_out}: L = {L}, padding {before}+{after}, kernel extent {span}")

    xp = np.pad(x, ((0, 0), (0, 0), (before, after)))  # (N, C, Lp)
    win = sliding_window_view(xp, span, axis=2)[:, :, ::stride][:, :, :L_out, ::dilation]
    cols = win.transpose(0, 2, 1, 3).reshape(N, L_out, C * K)  # (N, L_out, C*K)
    out = (cols @ w.reshape(F, C * K).T).transpose(0, 2, 1)  # (N, F, L_out)
    if b is not None:
        out = out + b[:, None]
    return out.astype(x.dtype)
