# Correct and loop-free: im2col columns per group and one batched matrix product (over the
# groups) for the forward and for dw; dx by the transposed correlation: dout spread out by the
# stride, padded by the dilated extent, correlated (dilated) with the flipped kernel.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _ints(v, name, minimum):
    a, c = (v, v) if isinstance(v, int) else v
    if a < minimum or c < minimum:
        raise ValueError(f"{name}={v}: each must be >= {minimum}")
    return a, c


def geometry(x_shape, w_shape, stride, padding, dilation, groups):
    N, C, H, W = x_shape
    F, Cg, KH, KW = w_shape
    sh, sw = _ints(stride, "stride", 1)
    dh, dw = _ints(dilation, "dilation", 1)
    if groups < 1 or C % groups != 0 or F % groups != 0:
        raise ValueError(f"groups={groups} does not divide C={C} and F={F}")
    if Cg * groups != C:
        raise ValueError(f"w has {Cg} channels per group, x has C={C} for {groups} groups")
    th, tw = dh * (KH - 1), dw * (KW - 1)  # total 'same' padding
    if padding == "same" and (sh, sw) == (1, 1):
        pad = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif padding == "valid":
        pad = (0, 0, 0, 0)
    elif isinstance(padding, str):
        raise ValueError(f"padding {padding!r} is not allowed with stride {stride}")
    else:
        ph, pw = _ints(padding, "padding", 0)
        pad = (ph, ph, pw, pw)
    Ho = (H + pad[0] + pad[1] - th - 1) // sh + 1
    Wo = (W + pad[2] + pad[3] - tw - 1) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"H_out={Ho}, W_out={Wo}: the dilated kernel does not fit {H}x{W}")
    return (sh, sw), (dh, dw), pad, (Ho, Wo)


def im2col(x, k, s, d, pad, out, groups):
    """(G, N*Ho*Wo, Cg*KH*KW) columns of the padded input, one matrix per group."""
    N, C = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), pad[:2], pad[2:]))
    ext = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    win = sliding_window_view(xp, ext, axis=(2, 3))[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]
    win = win[:, :, :out[0], :out[1]].reshape(N, groups, C // groups, *out, *k)
    return win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(groups, N * out[0] * out[1], -1)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float arrays, got {x.dtype} and {w.dtype}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    s, d, pad, (Ho, Wo) = geometry(x.shape, w.shape, stride, padding, dilation, groups)
    N, F = x.shape[0], w.shape[0]
    cols = im2col(x, w.shape[2:], s, d, pad, (Ho, Wo), groups)  # (G, N*Ho*Wo, Cg*KH*KW)
    wm = w.reshape(groups, F // groups, -1)  # (G, Fg, Cg*KH*KW)
    y = cols @ wm.transpose(0, 2, 1)  # (G, N*Ho*Wo, Fg)
    y = y.reshape(groups, N, Ho, Wo, F // groups).transpose(1, 0, 4, 2, 3).reshape(N, F, Ho, Wo)
    if b is not None:
        y = y + b[:, None, None]
    return y.astype(x.dtype)


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw_), pad, (Ho, Wo) = geometry(x.shape, w.shape, stride, padding, dilation,
                                                   groups)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout.shape={dout.shape} but (N, F, H_out, W_out)={(N, F, Ho, Wo)}")
    G, Fg = groups, F // groups
    cols = im2col(x, (KH, KW), (sh, sw), (dh, dw_), pad, (Ho, Wo), G)
    dm = dout.reshape(N, G, Fg, Ho * Wo).transpose(1, 2, 0, 3).reshape(G, Fg, -1)  # (G, Fg, N*Ho*Wo)
    dw = (dm @ cols).reshape(F, Cg, KH, KW)
    db = dout.sum(axis=(0, 2, 3))

    spread = np.zeros((N, F, (Ho - 1) * sh + 1, (Wo - 1) * sw + 1), dout.dtype)
    spread[:, :, ::sh, ::sw] = dout
    eh, ew = dh * (KH - 1), dw_ * (KW - 1)
    spread = np.pad(spread, ((0, 0), (0, 0), (eh, eh), (ew, ew)))
    wf = w[:, :, ::-1, ::-1].reshape(G, Fg, Cg, KH, KW)
    win = sliding_window_view(spread, (eh + 1, ew + 1), axis=(2, 3))[..., ::dh, ::dw_]
    win = win.reshape(N, G, Fg, *win.shape[2:])  # (N, G, Fg, Hr, Wr, KH, KW)
    dxr = np.einsum("ngfhwuv,gfcuv->ngchw", win, wf, optimize=True).reshape(N, C, *win.shape[3:5])
    Hp, Wp = H + pad[0] + pad[1], W + pad[2] + pad[3]
    dxp = np.zeros((N, C, Hp, Wp), dout.dtype)  # rows past the last window get 0
    dxp[:, :, :dxr.shape[2], :dxr.shape[3]] = dxr
    return dxp[:, :, pad[0]:pad[0] + H, pad[2]:pad[2] + W], dw.astype(dout.dtype), db
