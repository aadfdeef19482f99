# Correct: dw one np.einsum(optimize=True) over every window, db a sum, dx a scatter over the
# KH*KW kernel taps (one strided += per tap, vectorized over N, C, H and W).
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_backward(dout, x, w, stride=1, padding=0):
    N, C, H, W = x.shape
    F, C_w, KH, KW = w.shape
    if C_w != C:
        raise ValueError(f"w.shape[1]={C_w} != C={C}")
    sh, sw = stride if isinstance(stride, (tuple, list)) else (stride, stride)
    if sh < 1 or sw < 1:
        raise ValueError(f"bad stride {stride}")
    if padding == "same" and (sh, sw) == (1, 1):
        top, left = (KH - 1) // 2, (KW - 1) // 2
        bottom, right = KH - 1 - top, KW - 1 - left
    elif padding == "valid":
        top = bottom = left = right = 0
    elif isinstance(padding, str):
        raise ValueError(f"padding {padding!r} is invalid with stride {stride}")
    else:
        top, left = padding if isinstance(padding, (tuple, list)) else (padding, padding)
        if top < 0 or left < 0:
            raise ValueError(f"bad padding {padding}")
        bottom, right = top, left
    H_out = (H + top + bottom - KH) // sh + 1
    W_out = (W + left + right - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"no output for a {KH}x{KW} kernel on {H}x{W} with this padding")
    if dout.shape != (N, F, H_out, W_out):
        raise ValueError(f"dout shape {dout.shape} != {(N, F, H_out, W_out)}")

    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, :sh * H_out:sh, :sw * W_out:sw]
    dw = np.einsum("nfhw,nchwuv->fcuv", dout, win, optimize=True)
    db = dout.sum(axis=(0, 2, 3))
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    for u in range(KH):
        for v in range(KW):
            dxp[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] += \
                np.einsum("nfhw,fc->nchw", dout, w[:, :, u, v], optimize=True)
    dx = dxp[:, :, top:top + H, left:left + W]
    return dx, dw.astype(dout.dtype), db
