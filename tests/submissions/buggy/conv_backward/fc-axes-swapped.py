# dx uses w rotated but not transposed: F and C are swapped (it crashes when F != C).
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
    db = dout.sum(axis=(0, 2, 3))
    # dw[f, c, u, v]: dout against the input cells that tap (u, v) met, one tap at a time
    dw = np.zeros(w.shape, dtype=dout.dtype)
    for u in range(KH):
        for v in range(KW):
            patch = xpad[:, :, u:u + sh * (H_out - 1) + 1:sh, v:v + sw * (W_out - 1) + 1:sw]
            dw[:, :, u, v] = np.einsum("nfij,ncij->fc", dout, patch)
    # dx: full correlation of dout, spread out by the stride, with the rotated kernel (C and F swapped)
    spread = np.zeros((N, F, (H_out - 1) * sh + 1, (W_out - 1) * sw + 1), dtype=dout.dtype)
    spread[:, :, ::sh, ::sw] = dout
    spread = np.pad(spread, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    kernel = w[:, :, ::-1, ::-1]
    full_h, full_w = spread.shape[2] - KH + 1, spread.shape[3] - KW + 1
    full = np.zeros((N, C, full_h, full_w), dtype=dout.dtype)
    for u in range(KH):
        for v in range(KW):
            full += np.einsum("nfhw,cf->nchw", spread[:, :, u:u + full_h, v:v + full_w], kernel[:, :, u, v])
    dxpad = np.zeros(xpad.shape, dtype=dout.dtype)
    dxpad[:, :, :full_h, :full_w] = full  # rows a non-dividing stride never reaches stay 0
    dx = dxpad[:, :, top:top + H, left:left + W]
    return dx, dw, db
