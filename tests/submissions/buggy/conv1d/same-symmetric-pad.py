# convolve1d's 'same' pads (m - 1) // 2 on both sides and slides: one short for even m.
import numpy as np


def convolve1d(a, v, mode="full"):
    """True 1-D convolution of a (N,) and v (M,), like np.convolve(a, v, mode)."""
    a = np.asarray(a)
    v = np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or len(a) == 0 or len(v) == 0:
        raise ValueError("a and v must be non-empty 1-D arrays")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"unknown mode {mode!r}")
    if len(v) > len(a):
        a, v = v, a  # slide the shorter one
    n, m = len(a), len(v)
    dtype = np.result_type(a, v)
    kernel = v[::-1]
    padded = np.zeros(n + 2 * (m - 1), dtype=dtype)
    padded[m - 1:m - 1 + n] = a
    full = np.zeros(n + m - 1, dtype=dtype)
    for i in range(n + m - 1):
        full[i] = np.sum(padded[i:i + m] * kernel)
    if mode == "full":
        return full
    if mode == "same":
        p = (m - 1) // 2
        same_padded = np.pad(a, p)
        return np.array([np.sum(same_padded[i:i + m] * kernel)
                         for i in range(len(same_padded) - m + 1)], dtype=dtype)
    return full[m - 1:n]


def _pads(padding, kernel, stride, dilation):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != 1:
            raise ValueError("padding='same' needs stride 1")
        total = dilation * (kernel - 1)
        return total // 2, total - total // 2
    if isinstance(padding, str) or padding < 0:
        raise ValueError(f"bad padding {padding!r}")
    return padding, padding


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """1-D conv layer (cross-correlation): x (N, C, L), w (F, C, K), b (F,) -> (N, F, L_out)."""
    N, C, L = x.shape
    F, C_w, K = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels, w has {C_w}")
    if stride < 1 or dilation < 1:
        raise ValueError("stride and dilation must be >= 1")
    before, after = _pads(padding, K, stride, dilation)
    span = dilation * (K - 1) + 1
    L_out = (L + before + after - span) // stride + 1
    if L_out < 1:
        raise ValueError(f"output length {L_out} < 1")
    xpad = np.pad(x, ((0, 0), (0, 0), (before, after)))
    out = np.zeros((N, F, L_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(L_out):
                start = i * stride
                window = xpad[n, :, start:start + span:dilation]  # (C, K)
                value = np.sum(window * w[f])
                if b is not None:
                    value += b[f]
                out[n, f, i] = value
    return out
