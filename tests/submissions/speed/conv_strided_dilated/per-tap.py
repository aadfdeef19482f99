# Correct: a Python loop over the KH*KW kernel taps only, in both passes: one batched matrix
# product per tap over the channels of each group.
import numpy as np


def parse(x, w, stride, padding, dilation, groups):
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    dh, dw = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    if min(sh, sw, dh, dw) < 1:
        raise ValueError(f"stride {stride} and dilation {dilation} must be >= 1")
    if groups < 1 or C % groups or F % groups or Cg != C // groups:
        raise ValueError(f"groups={groups}, C={C}, F={F}, w.shape[1]={Cg} do not agree")
    if isinstance(padding, str):
        if padding not in ("same", "valid") or (padding == "same" and (sh, sw) != (1, 1)):
            raise ValueError(f"padding={padding!r} with stride={stride}")
        th, tw = (dh * (KH - 1), dw * (KW - 1)) if padding == "same" else (0, 0)
        top, left = th // 2, tw // 2
        bottom, right = th - top, tw - left
    else:
        top, left = padding if isinstance(padding, tuple) else (padding, padding)
        if top < 0 or left < 0:
            raise ValueError(f"padding={padding} < 0")
        bottom, right = top, left
    Ho = (H + top + bottom - dh * (KH - 1) - 1) // sh + 1
    Wo = (W + left + right - dw * (KW - 1) - 1) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"empty output ({Ho}, {Wo}) for input ({H}, {W})")
    return (sh, sw), (dh, dw), (top, bottom, left, right), (Ho, Wo)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float arrays, got {x.dtype} and {w.dtype}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    (sh, sw), (dh, dw), (t, bt, le, r), (Ho, Wo) = parse(x, w, stride, padding, dilation, groups)
    N, C = x.shape[:2]
    F, Cg, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (le, r)))
    xp = xp.reshape(N, groups, Cg, *xp.shape[2:])  # (N, G, Cg, Hp, Wp)
    wg = w.reshape(groups, F // groups, Cg, KH, KW)
    y = np.zeros((N, groups, F // groups, Ho * Wo), np.result_type(x, w))
    for u in range(KH):
        for v in range(KW):
            tap = xp[..., u * dh:u * dh + sh * Ho:sh, v * dw:v * dw + sw * Wo:sw]  # (N, G, Cg, Ho, Wo)
            y += wg[..., u, v] @ tap.reshape(N, groups, Cg, Ho * Wo)  # (N, G, Fg, Ho*Wo)
    y = y.reshape(N, F, Ho, Wo)
    if b is not None:
        y += b[:, None, None]
    return y.astype(x.dtype)


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw_), (t, bt, le, r), (Ho, Wo) = parse(x, w, stride, padding, dilation, groups)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout {dout.shape} does not match {(N, F, Ho, Wo)}")
    G, Fg = groups, F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (le, r)))
    Hp, Wp = xp.shape[2:]
    xg = xp.reshape(N, G, Cg, Hp, Wp)
    d = dout.reshape(N, G, Fg, Ho * Wo)
    wg = w.reshape(G, Fg, Cg, KH, KW)
    dw = np.zeros((G, Fg, Cg, KH, KW), dout.dtype)
    dxp = np.zeros((N, G, Cg, Hp, Wp), dout.dtype)
    for u in range(KH):
        for v in range(KW):
            rows = slice(u * dh, u * dh + sh * Ho, sh)
            cols = slice(v * dw_, v * dw_ + sw * Wo, sw)
            tap = xg[..., rows, cols].reshape(N, G, Cg, Ho * Wo)
            dw[..., u, v] = np.einsum("ngfp,ngcp->gfc", d, tap, optimize=True)
            dxp[..., rows, cols] += (wg[..., u, v].transpose(0, 2, 1) @ d).reshape(N, G, Cg, Ho, Wo)
    dx = dxp.reshape(N, C, Hp, Wp)[:, :, t:t + H, le:le + W]
    return dx, dw.reshape(F, Cg, KH, KW), dout.sum(axis=(0, 2, 3))
