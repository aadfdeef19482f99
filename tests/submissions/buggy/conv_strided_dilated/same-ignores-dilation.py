# 'same' pads K-1 in total per axis, as for a dense kernel, whatever the dilation.
import numpy as np


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, H, W), w (F, C // groups, KH, KW), b (F,) or None -> (N, F, H_out, W_out)."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if groups < 1 or C % groups or F % groups or Cg != C // groups:
        raise ValueError(f"groups={groups} does not fit C={C}, F={F}, w {w.shape}")
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    if min(sh, sw, dh, dw) < 1:
        raise ValueError("stride and dilation must be >= 1")
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        th, tw = KH - 1, KW - 1
        top, bottom, left, right = th // 2, th - th // 2, tw // 2, tw - tw // 2
    elif padding == "valid":
        top = bottom = left = right = 0
    else:
        ph, pw = _pair(padding)
        if ph < 0 or pw < 0:
            raise ValueError("padding must be >= 0")
        top, bottom, left, right = ph, ph, pw, pw
    ext_h, ext_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    H_out = (H + top + bottom - ext_h) // sh + 1
    W_out = (W + left + right - ext_w) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"output {H_out}x{W_out} is empty")
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    Fg = F // groups
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for g in range(groups):
        xg = xp[:, g * Cg:(g + 1) * Cg]  # this group's input channels
        wg = w[g * Fg:(g + 1) * Fg]
        for u in range(KH):
            for v in range(KW):
                r0, c0 = u * dh, v * dw
                patch = xg[:, :, r0:r0 + (H_out - 1) * sh + 1:sh, c0:c0 + (W_out - 1) * sw + 1:sw]
                out[:, g * Fg:(g + 1) * Fg] += np.einsum("nchw,fc->nfhw", patch, wg[:, :, u, v])
    if b is not None:
        out += b[None, :, None, None]
    return out
