# Correct: both functions loop over the K kernel taps only; each step is one vectorized
# operation over the whole batch, channels and length.
import numpy as np


def convolve1d(a, v, mode="full"):
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or min(a.size, v.size) == 0:
        raise ValueError("convolve1d: a and v must be non-empty and 1-D")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolve1d: bad mode {mode!r}")
    N, M = a.size, v.size
    full = np.zeros(N + M - 1, np.result_type(a, v))
    for m in range(M):
        full[m:m + N] += a * v[m]
    lo, hi = min(N, M), max(N, M)
    return {"full": full, "same": full[(lo - 1) // 2:][:hi], "valid": full[lo - 1:hi]}[mode]


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    if any(a is not None and a.dtype.kind != "f" for a in (x, w, b)):
        raise ValueError("x, w and b must be float32 or float64 arrays")
    N, C, L = x.shape
    F, Cw, K = w.shape
    if Cw != C:
        raise ValueError(f"C mismatch: {C} vs {Cw}")
    if stride < 1 or dilation < 1:
        raise ValueError("stride/dilation < 1")
    ext = dilation * (K - 1)
    if padding == "same" and stride == 1:
        lpad, rpad = ext // 2, ext - ext // 2
    elif padding == "valid":
        lpad = rpad = 0
    elif isinstance(padding, int) and padding >= 0:
        lpad = rpad = padding
    else:
        raise ValueError(f"padding {padding!r} with stride {stride}")
    L_out = (L + lpad + rpad - ext - 1) // stride + 1
    if L_out < 1:
        raise ValueError(f"L_out={L_out} < 1 (L={L}, K={K})")

    xp = np.pad(x, ((0, 0), (0, 0), (lpad, rpad)))
    y = np.zeros((N, F, L_out), np.result_type(x, w))
    for k in range(K):
        tap = xp[:, :, k * dilation:k * dilation + stride * (L_out - 1) + 1:stride]  # (N, C, L_out)
        y += np.matmul(w[:, :, k], tap)  # (F, C) @ (N, C, L_out) -> (N, F, L_out)
    if b is not None:
        y += b[:, None]
    return y.astype(x.dtype)
