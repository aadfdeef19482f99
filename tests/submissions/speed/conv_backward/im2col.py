# Correct: the forward's im2col matrix; dw and dcols are one matrix product each, db a sum, and
# col2im adds the columns back with one strided += per kernel tap.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_backward(dout, x, w, stride=1, padding=0):
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if C != Cw:
        raise ValueError(f"x has C={C} but w has {Cw} input channels")
    sh, sw = (stride,) * 2 if np.isscalar(stride) else tuple(stride)
    if min(sh, sw) < 1:
        raise ValueError(f"stride {stride} < 1")
    if isinstance(padding, str):
        if padding == "valid":
            pads = [0, 0, 0, 0]
        elif padding == "same" and sh == sw == 1:
            pads = [(KH - 1) // 2, KH // 2, (KW - 1) // 2, KW // 2]
        else:
            raise ValueError(f"padding={padding!r} with stride={stride}")
    else:
        ph, pw = (padding,) * 2 if np.isscalar(padding) else tuple(padding)
        if min(ph, pw) < 0:
            raise ValueError(f"padding {padding} < 0")
        pads = [ph, ph, pw, pw]
    t, bo, le, r = pads
    Hp, Wp = H + t + bo, W + le + r
    Ho, Wo = (Hp - KH) // sh + 1, (Wp - KW) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"kernel {KH}x{KW} larger than padded input {Hp}x{Wp}")
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout is {dout.shape}, should be {(N, F, Ho, Wo)}")

    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (le, r)))
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, N * Ho * Wo)  # im2col
    d = dout.transpose(1, 0, 2, 3).reshape(F, N * Ho * Wo)  # (F, N*Ho*Wo)
    dw = (d @ cols.T).reshape(F, C, KH, KW)
    db = d.sum(axis=1)
    dcols = (w.reshape(F, -1).T @ d).reshape(C, KH, KW, N, Ho, Wo)
    dxp = np.zeros((N, C, Hp, Wp), dout.dtype)
    for u in range(KH):  # col2im
        for v in range(KW):
            dxp[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += dcols[:, u, v].transpose(1, 0, 2, 3)
    return dxp[:, :, t:t + H, le:le + W], dw.astype(dout.dtype), db.astype(dout.dtype)
