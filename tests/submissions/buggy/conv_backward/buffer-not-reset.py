# The per-sample gradient buffer is allocated once, before the loop over samples, and never zeroed.
import numpy as np


def _pair(value):
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_backward(dout, x, w, stride=1, padding=0):
    """Conv layer gradients: dout (N, F, H_out, W_out), x (N, C, H, W), w (F, C, KH, KW) -> dx, dw, db."""
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
    if dout.shape != (N, F, H_out, W_out):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, F, H_out, W_out)}")
    xpad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))).astype(dout.dtype)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dw = np.zeros(w.shape, dtype=dout.dtype)
    db = np.zeros(F, dtype=dout.dtype)
    buf = np.zeros(xpad.shape[1:], dtype=dout.dtype)  # one sample's padded gradient
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, f, i, j]
                    rows = slice(i * sh, i * sh + KH)
                    cols = slice(j * sw, j * sw + KW)
                    dw[f] += g * xpad[n, :, rows, cols]
                    buf[:, rows, cols] += g * w[f]
                    db[f] += g
        dx[n] = buf[:, top:top + H, left:left + W]
    return dx, dw, db
