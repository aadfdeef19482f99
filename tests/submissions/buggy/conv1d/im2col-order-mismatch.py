# im2col columns are laid out tap-major (K, then C) while w is flattened channel-major (C, K).
import numpy as np


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """x (N, C, L), w (F, C, K), b (F,) or None -> (N, F, L_out)."""
    N, C, L = x.shape
    F, C_w, K = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels, w has {C_w}")
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError("x and w must be float arrays")
    if stride < 1 or dilation < 1:
        raise ValueError("stride and dilation must be >= 1")
    if padding == "same":
        if stride != 1:
            raise ValueError("padding='same' needs stride 1")
        total = dilation * (K - 1)
        left, right = total // 2, total - total // 2
    elif padding == "valid":
        left = right = 0
    else:
        if padding < 0:
            raise ValueError("padding must be >= 0")
        left = right = padding
    extent = dilation * (K - 1) + 1
    L_out = (L + left + right - extent) // stride + 1
    if L_out < 1:
        raise ValueError(f"output length {L_out} < 1")
    xp = np.pad(x, ((0, 0), (0, 0), (left, right)))
    taps = [xp[:, :, k * dilation:k * dilation + (L_out - 1) * stride + 1:stride] for k in range(K)]
    cols = np.stack(taps, axis=1).reshape(N, K * C, L_out)  # rows ordered (k, c)
    out = w.reshape(F, C * K) @ cols  # w rows ordered (c, k)
    if b is not None:
        out += b[None, :, None]
    return out.astype(x.dtype)
