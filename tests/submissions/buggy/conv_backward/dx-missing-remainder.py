# dx via the transposed convolution, without the rows/columns a non-dividing stride leaves over.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv_backward(dout, x, w, stride=1, padding=0):
    """dout (N, F, H_out, W_out), x (N, C, H, W), w (F, C, KH, KW) -> dx, dw, db."""
    N, C, H, W = x.shape
    F, C_w, KH, KW = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels, w has {C_w}")
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
    Hp, Wp = H + top + bottom, W + left + right
    H_out, W_out = (Hp - KH) // sh + 1, (Wp - KW) // sw + 1
    if H_out < 1 or W_out < 1 or dout.shape != (N, F, H_out, W_out):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, F, H_out, W_out)}")
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    db = dout.sum(axis=(0, 2, 3))
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :H_out, :W_out]
    dw = np.einsum("nfij,ncijuv->fcuv", dout, win)
    # dx: dout spread by the stride, padded by K-1, correlated with the rotated kernel
    up = np.zeros((N, F, (H_out - 1) * sh + 1, (W_out - 1) * sw + 1), dout.dtype)
    up[:, :, :(H_out - 1) * sh + 1:sh, :(W_out - 1) * sw + 1:sw] = dout
    up = np.pad(up, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    rot = w[:, :, ::-1, ::-1]
    dxp = np.einsum("nfijuv,fcuv->ncij", sliding_window_view(up, (KH, KW), axis=(2, 3)), rot)
    dx = dxp[:, :, top:top + H, left:left + W]
    return dx.astype(dout.dtype), dw.astype(dout.dtype), db.astype(dout.dtype)
