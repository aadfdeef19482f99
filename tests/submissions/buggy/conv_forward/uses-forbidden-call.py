# Each (sample, filter) pair is one scipy.signal.correlate call in 'valid' mode.
import numpy as np
from scipy import signal


def _pair(value):
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_forward(x, w, b, stride=1, padding=0):
    """Conv layer forward: x (N, C, H, W), w (F, C, KH, KW), b (F,) -> out (N, F, H_out, W_out)."""
    N, C, H, W = x.shape
    F, C_w, KH, KW = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels but w has {C_w}")
    sh, sw = _pair(stride)
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if padding == "valid":
        top = bottom = left = right = 0
    elif padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        top, left = (KH - 1) // 2, (KW - 1) // 2
        bottom, right = KH - 1 - top, KW - 1 - left
    else:
        ph, pw = _pair(padding)
        if ph < 0 or pw < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        top = bottom = ph
        left = right = pw
    H_out = (H + top + bottom - KH) // sh + 1
    W_out = (W + left + right - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"output size {H_out}x{W_out} < 1")
    xpad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            out[n, f] = signal.correlate(xpad[n], w[f], mode="valid")[0, ::sh, ::sw] + b[f]
    return out
