# Correct and loop-free: an explicit im2col matrix built with index arrays (CS231n style), then
# one matrix product with the flattened filters.
import numpy as np


def im2col_indices(C, Hp, Wp, KH, KW, sh, sw, H_out, W_out):
    # row index k = (c, u, v) in C-major order, column index = (i, j)
    c = np.repeat(np.arange(C), KH * KW)[:, None]  # (C*KH*KW, 1)
    u = np.tile(np.repeat(np.arange(KH), KW), C)[:, None]
    v = np.tile(np.arange(KW), C * KH)[:, None]
    i = np.repeat(np.arange(H_out) * sh, W_out)[None, :]  # (1, H_out*W_out)
    j = np.tile(np.arange(W_out) * sw, H_out)[None, :]
    return c, u + i, v + j  # each broadcasts to (C*KH*KW, H_out*W_out)


def conv_forward(x, w, b, stride=1, padding=0):
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype.kind != "f" or w.dtype.kind != "f" or (b is not None and np.asarray(b).dtype.kind != "f"):
        raise ValueError("inputs must be float arrays")
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    if w.shape[1] != C:
        raise ValueError(f"w.shape[1]={w.shape[1]} but C={C}")
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    if sh < 1 or sw < 1:
        raise ValueError("stride < 1")
    if padding == "valid":
        padding = 0
    if padding == "same":
        if sh != 1 or sw != 1:
            raise ValueError("same padding requires stride 1")
        ph0, ph1, pw0, pw1 = (KH - 1) // 2, KH // 2, (KW - 1) // 2, KW // 2
    elif isinstance(padding, str):
        raise ValueError("unknown padding " + padding)
    else:
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        if ph < 0 or pw < 0:
            raise ValueError("negative padding")
        ph0 = ph1 = ph
        pw0 = pw1 = pw
    Hp, Wp = H + ph0 + ph1, W + pw0 + pw1
    H_out, W_out = (Hp - KH) // sh + 1, (Wp - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"H_out={H_out}, W_out={W_out}: kernel {KH}x{KW} larger than {Hp}x{Wp}")

    xp = np.pad(x, ((0, 0), (0, 0), (ph0, ph1), (pw0, pw1)))
    c, r, q = im2col_indices(C, Hp, Wp, KH, KW, sh, sw, H_out, W_out)
    cols = xp[:, c, r, q]  # (N, C*KH*KW, H_out*W_out)
    out = w.reshape(F, -1) @ cols  # (N, F, H_out*W_out)
    if b is not None:
        out = out + b[:, None]
    return out.reshape(N, F, H_out, W_out).astype(x.dtype)
