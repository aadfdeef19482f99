# Correct and loop-free: dw one tensordot over a window view of xpad, db a sum, and dx the
# transposed correlation: dout spread out by the stride, padded by K - 1 and correlated with
# the flipped kernel (its F and C axes swapped).
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pads(x_shape, w_shape, stride, padding):
    H, W = x_shape[2:]
    KH, KW = w_shape[2:]
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be >= 1: {stride}")
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("'same' padding needs stride 1")
        return (sh, sw), ((KH - 1) // 2, KH // 2), ((KW - 1) // 2, KW // 2)
    if padding == "valid":
        padding = 0
    if isinstance(padding, str):
        raise ValueError(f"unknown padding {padding!r}")
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be >= 0: {padding}")
    return (sh, sw), (ph, ph), (pw, pw)


def conv_backward(dout, x, w, stride=1, padding=0):
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} channels, x has {C}")
    (sh, sw), (pt, pb), (pl, pr) = _pads(x.shape, w.shape, stride, padding)
    H_out, W_out = (H + pt + pb - KH) // sh + 1, (W + pl + pr - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"empty output {H_out}x{W_out}")
    if dout.shape != (N, F, H_out, W_out):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, F, H_out, W_out)}")

    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))  # (N, C, Hp, Wp)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :H_out, :W_out]
    dw = np.tensordot(dout, win, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, KH, KW)
    db = dout.sum(axis=(0, 2, 3))  # (F,)

    spread = np.zeros((N, F, (H_out - 1) * sh + 1, (W_out - 1) * sw + 1), dout.dtype)
    spread[:, :, ::sh, ::sw] = dout
    spread = np.pad(spread, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    wt = w[:, :, ::-1, ::-1]  # (F, C, KH, KW), flipped
    dwin = sliding_window_view(spread, (KH, KW), axis=(2, 3))  # (N, F, Hr, Wr, KH, KW)
    dxr = np.tensordot(dwin, wt, axes=([1, 4, 5], [0, 2, 3])).transpose(0, 3, 1, 2)  # (N, C, Hr, Wr)
    Hp, Wp = H + pt + pb, W + pl + pr
    dxp = np.zeros((N, C, Hp, Wp), dout.dtype)  # rows past the last window stay 0
    dxp[:, :, :dxr.shape[2], :dxr.shape[3]] = dxr
    return dxp[:, :, pt:pt + H, pl:pl + W], dw.astype(dout.dtype), db
