# Correct: a dilated window view split by group, one np.einsum(optimize=True) for the forward
# and for dw; dx scattered back with one strided += per kernel tap.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v, name, low=1):
    p = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if p[0] < low or p[1] < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return p


def _setup(x_shape, w_shape, stride, padding, dilation, groups):
    N, C, H, W = x_shape
    F, Cg, KH, KW = w_shape
    (sh, sw), (dh, dw) = _pair(stride, "stride"), _pair(dilation, "dilation")
    if groups < 1 or C % groups or F % groups:
        raise ValueError(f"groups={groups} must be >= 1 and divide C={C} and F={F}")
    if Cg != C // groups:
        raise ValueError(f"w.shape[1]={Cg}, expected C // groups = {C // groups}")
    eh, ew = dh * (KH - 1) + 1, dw * (KW - 1) + 1  # dilated kernel extent
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        pads = ((eh - 1) // 2, eh - 1 - (eh - 1) // 2, (ew - 1) // 2, ew - 1 - (ew - 1) // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    elif isinstance(padding, str):
        raise ValueError(f"unknown padding {padding!r}")
    else:
        ph, pw = _pair(padding, "padding", 0)
        pads = (ph, ph, pw, pw)
    Ho = (H + pads[0] + pads[1] - eh) // sh + 1
    Wo = (W + pads[2] + pads[3] - ew) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"output {Ho}x{Wo} is empty: dilated kernel {eh}x{ew}, input {H}x{W}")
    return (sh, sw), (dh, dw), (eh, ew), pads, (Ho, Wo)


def _windows(x, s, d, e, pads, out, groups):
    N, C = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    win = sliding_window_view(xp, e, axis=(2, 3))[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]
    win = win[:, :, :out[0], :out[1]]  # (N, C, Ho, Wo, KH, KW)
    return xp, win.reshape(N, groups, C // groups, *win.shape[2:])  # (N, G, Cg, Ho, Wo, KH, KW)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float arrays, got {x.dtype} and {w.dtype}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    s, d, e, pads, out = _setup(x.shape, w.shape, stride, padding, dilation, groups)
    _, win = _windows(x, s, d, e, pads, out, groups)
    F = w.shape[0]
    wg = w.reshape(groups, F // groups, *w.shape[1:])  # (G, Fg, Cg, KH, KW)
    y = np.einsum("ngchwuv,gfcuv->ngfhw", win, wg, optimize=True).reshape(x.shape[0], F, *out)
    if b is not None:
        y = y + b[None, :, None, None]
    return y.astype(x.dtype)


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dwl), e, pads, (Ho, Wo) = _setup(x.shape, w.shape, stride, padding, dilation,
                                                      groups)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout shape {dout.shape}, expected {(N, F, Ho, Wo)}")
    xp, win = _windows(x, (sh, sw), (dh, dwl), e, pads, (Ho, Wo), groups)
    dg = dout.reshape(N, groups, F // groups, Ho, Wo)
    wg = w.reshape(groups, F // groups, Cg, KH, KW)
    dw = np.einsum("ngfhw,ngchwuv->gfcuv", dg, win, optimize=True).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3))
    dxp = np.zeros((N, groups, Cg) + xp.shape[2:], dout.dtype)
    for u in range(KH):
        for v in range(KW):
            r, q = u * dh, v * dwl
            dxp[..., r:r + sh * Ho:sh, q:q + sw * Wo:sw] += \
                np.einsum("ngfhw,gfc->ngchw", dg, wg[..., u, v], optimize=True)
    dx = dxp.reshape(N, C, *xp.shape[2:])[:, :, pads[0]:pads[0] + H, pads[2]:pads[2] + W]
    return dx, dw.astype(dout.dtype), db
