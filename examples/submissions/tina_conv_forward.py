"""Tina - conv_forward homework."""
import numpy as np

def _pair(v, name):
    # int -> (v, v); (h, w) stays as it is
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _pads(padding, KH, KW, sh, sw):
    """(top, bottom), (left, right) zeros for an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' only works with stride 1")
            # PyTorch: the odd extra zero goes at the bottom / right
            return ((KH - 1) // 2, KH - 1 - (KH - 1) // 2), ((KW - 1) // 2, KW - 1 - (KW - 1) // 2)
        raise ValueError(f"unknown padding {padding!r}")
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    return (ph, ph), (pw, pw)


def _setup(x, w, stride, padding):
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"x has C={C} channels but w has {Cw}")
    sh, sw = _pair(stride, "stride")
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    (pt, pb), (pl, pr) = _pads(padding, KH, KW, sh, sw)
    H_out = (H + pt + pb - KH) // sh + 1
    W_out = (W + pl + pr - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"kernel {KH}x{KW} does not fit in the padded input "
                         f"{H + pt + pb}x{W + pl + pr}")
    return (sh, sw), ((pt, pb), (pl, pr)), (H_out, W_out)

def conv_forward(x, w, b, stride=1, padding=0):
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    (sh, sw), ((pt, pb), (pl, pr)), (H_out, W_out) = _setup(x, w, stride, padding)
    N, C, H, W = x.shape
    F, _, KW, KH = w.shape  # (F, C, width, height)
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    patch = xpad[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out
