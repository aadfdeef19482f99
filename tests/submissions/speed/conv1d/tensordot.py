# Correct: convolve1d loops over the kernel taps only (one shifted multiply-add of the whole
# signal per tap); conv1d is one np.tensordot of a window view with the filters.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def convolve1d(a, v, mode="full"):
    a = np.asarray(a)
    v = np.asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError("inputs must be 1-D")
    if len(a) == 0 or len(v) == 0:
        raise ValueError("inputs must not be empty")
    if len(v) > len(a):
        a, v = v, a  # convolution commutes: slide the shorter one
    n, m = len(a), len(v)
    out = np.zeros(n + m - 1, dtype=np.result_type(a, v))
    for k in range(m):  # tap k shifts the signal by k
        out[k:k + n] += v[k] * a
    if mode == "full":
        return out
    if mode == "same":
        return out[(m - 1) // 2:(m - 1) // 2 + n]
    if mode == "valid":
        return out[m - 1:n]
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    for arr in (x, w) + (() if b is None else (b,)):
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"expected float arrays, got {arr.dtype}")
    N, C, L = x.shape
    F, C_w, K = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels but w has {C_w}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if dilation < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation}")
    total = dilation * (K - 1)
    if padding == "same":
        if stride != 1:
            raise ValueError("padding='same' is only allowed with stride 1")
        left, right = total // 2, total - total // 2
    elif padding == "valid":
        left = right = 0
    elif isinstance(padding, int) and padding >= 0:
        left = right = padding
    else:
        raise ValueError(f"padding must be an int >= 0, 'same' or 'valid', got {padding!r}")
    L_out = (L + left + right - total - 1) // stride + 1
    if L_out < 1:
        raise ValueError(f"no output: L={L}, padding={left}+{right}, dilated kernel {total + 1}")

    xp = np.pad(x, ((0, 0), (0, 0), (left, right)))
    win = sliding_window_view(xp, total + 1, axis=-1)[:, :, ::stride, ::dilation]
    win = win[:, :, :L_out]  # (N, C, L_out, K)
    y = np.tensordot(win, w, axes=((1, 3), (1, 2)))  # (N, L_out, F)
    y = np.moveaxis(y, 2, 1)  # (N, F, L_out)
    return (y if b is None else y + b[:, None]).astype(x.dtype)
