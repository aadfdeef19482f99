# im2col rows are built tap by tap (KH, KW, then C), but w is flattened C first: each weight
# multiplies another channel's tap.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv_forward(x, w, b, stride=1, padding=0):
    """x (N, C, H, W), w (F, C, KH, KW), b (F,) -> (N, F, H_out, W_out), via im2col."""
    N, C, H, W = x.shape
    F, C_w, KH, KW = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels, w has {C_w}")
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError("x and w must be float arrays")
    if b is None:
        b = np.zeros(F, dtype=x.dtype)
    sh, sw = _pair(stride)
    if sh < 1 or sw < 1:
        raise ValueError("stride must be >= 1")
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        top, left = (KH - 1) // 2, (KW - 1) // 2
        bottom, right = KH - 1 - top, KW - 1 - left
    elif padding == "valid":
        top = bottom = left = right = 0
    else:
        ph, pw = _pair(padding)
        if ph < 0 or pw < 0:
            raise ValueError("padding must be >= 0")
        top, bottom, left, right = ph, ph, pw, pw
    H_out = (H + top + bottom - KH) // sh + 1
    W_out = (W + left + right - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"output {H_out}x{W_out} is empty")
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :H_out, :W_out]
    rows = win.transpose(0, 2, 3, 4, 5, 1).reshape(N * H_out * W_out, KH * KW * C)
    out = rows @ w.reshape(F, -1).T + b  # (N*H_out*W_out, F)
    return out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)
