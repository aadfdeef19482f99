# Correct and loop-free: an explicit im2col with an index array (column i reads
# xpad[..., i*stride + k*dilation]), then one matrix product; convolve1d the same way.
import numpy as np


def convolve1d(a, v, mode="full"):
    a = np.asarray(a)
    v = np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"need non-empty 1-D arrays, got {a.shape}, {v.shape}")
    N, M = a.shape[0], v.shape[0]
    if mode == "full":
        start, length = 0, N + M - 1
    elif mode == "same":
        start, length = (min(N, M) - 1) // 2, max(N, M)
    elif mode == "valid":
        start, length = min(N, M) - 1, max(N, M) - min(N, M) + 1
    else:
        raise ValueError(f"unknown mode {mode}")
    ap = np.concatenate([np.zeros(M - 1, a.dtype), a, np.zeros(M - 1, a.dtype)])
    idx = (start + np.arange(length))[:, None] + np.arange(M)[None, :]  # (length, M)
    return (ap[idx] @ v[::-1]).astype(np.result_type(a, v))


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    if not (np.issubdtype(x.dtype, np.floating) and np.issubdtype(w.dtype, np.floating)):
        raise ValueError("x and w must be floating point")
    if b is not None and not np.issubdtype(b.dtype, np.floating):
        raise ValueError("b must be floating point")
    N, C, L = x.shape
    F, C_in, K = w.shape
    if C_in != C:
        raise ValueError(f"in channels: x {C}, w {C_in}")
    if stride < 1 or dilation < 1:
        raise ValueError(f"stride={stride}, dilation={dilation}: both must be >= 1")
    if padding == "valid":
        padding = 0
    if padding == "same":
        if stride > 1:
            raise ValueError("same padding with stride > 1")
        pad = (dilation * (K - 1) // 2, dilation * (K - 1) - dilation * (K - 1) // 2)
    elif isinstance(padding, str) or padding < 0:
        raise ValueError(f"padding {padding!r} not allowed")
    else:
        pad = (padding, padding)
    L_out = (L + sum(pad) - dilation * (K - 1) - 1) // stride + 1
    if L_out < 1:
        raise ValueError(f"L_out={L_out}: L={L}, K={K}, pad={pad}, dilation={dilation}")

    xp = np.pad(x, ((0, 0), (0, 0), pad))  # (N, C, L + pads)
    idx = np.arange(L_out)[None, :] * stride + np.arange(K)[:, None] * dilation  # (K, L_out)
    cols = xp[:, :, idx].reshape(N, C * K, L_out)  # (N, C*K, L_out)
    y = w.reshape(F, C * K) @ cols  # (N, F, L_out)
    if b is not None:
        y = y + b[None, :, None]
    return y.astype(x.dtype)
