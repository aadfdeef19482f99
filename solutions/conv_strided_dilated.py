"""Model answer for exercise 4: general 2-D conv layer, per-axis stride/padding/dilation and groups."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IntOrPair = int | tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


def output_size(size: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0,
                dilation: int = 1) -> int:
    """Outputs along one axis: floor((size + before + after - dilation*(kernel-1) - 1) / stride) + 1.

    `padding` is an int (both ends) or a (before, after) pair. ValueError when no window fits.
    """
    before, after = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    extent = dilation * (kernel - 1) + 1  # the dilated kernel's span
    out = (size + before + after - extent) // stride + 1
    if out < 1:
        raise ValueError(f"output size {out} < 1: input size {size} with padding ({before}, "
                         f"{after}) is smaller than the effective kernel size {extent}")
    return out


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> np.ndarray:
    """x (N, C, H, W), w (F, C // groups, KH, KW), b (F,) or None -> out (N, F, H_out, W_out).

    out[n,f,i,j] = b[f] + sum_{c in group(f),u,v} w[f,c-g0,u,v] * xpad[n,c,i*sh+u*dh,j*sw+v*dw],
    g = f // (F // groups), group(f) = input channels [g*C/groups, (g+1)*C/groups), g0 = g*C/groups.
    """
    check_floats("conv2d", x=x, w=w, b=b)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if b is not None and b.shape != (F,):
        raise ValueError(f"b must have shape (F,) = ({F},) or be None, got {b.shape}")
    s, d, pads, (H_out, W_out) = geometry(x.shape, w.shape, stride, padding, dilation, groups)
    G = groups
    rows = patch_rows(x, (KH, KW), s, d, pads, G)  # (G, N*H_out*W_out, KH*KW*Cg)
    w_g = w.reshape(G, F // G, Cg, KH, KW).transpose(0, 3, 4, 2, 1)  # (G, KH, KW, Cg, F/G)
    out = rows @ w_g.reshape(G, KH * KW * Cg, F // G).astype(x.dtype)  # (G, N*P, F/G): a GEMM per group
    out = out.transpose(1, 0, 2).reshape(N, H_out, W_out, F)  # channels last; a copy only if G > 1
    if b is not None:
        out += b.astype(x.dtype)  # (F,) broadcast over N, H_out, W_out
    return out.transpose(0, 3, 1, 2)  # (N, F, H_out, W_out): a view


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1,
                    padding: IntOrPair | str = 0, dilation: IntOrPair = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of conv2d for dout (N, F, H_out, W_out): dx, dw, db shaped like x, w and (F,).

    db sums dout over every filter (even if the forward had no bias); dw[f, c, u, v] and dx follow
    the forward's index map xpad[n, g0 + c, i*sh + u*dh, j*sw + v*dw], dx with the padding cropped.
    """
    check_floats("conv2d_backward", dout=dout, x=x, w=w)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G = groups
    (sh, sw), (dh, dw_), pads, (H_out, W_out) = geometry(x.shape, w.shape, stride, padding,
                                                         dilation, groups)
    if dout.shape != (N, F, H_out, W_out):  # explicit: a (1, F, ..) dout would broadcast silently
        raise ValueError(f"dout has shape {dout.shape}, expected (N, F, H_out, W_out) = "
                         f"{(N, F, H_out, W_out)}")
    x, w = x.astype(dout.dtype), w.astype(dout.dtype)  # float32 stays float32 throughout
    rows = patch_rows(x, (KH, KW), (sh, sw), (dh, dw_), pads, G)  # (G, N*P, KH*KW*Cg): the forward's
    g = dout.reshape(N, G, F // G, H_out * W_out)  # (N, G, F/G, P)
    db = g.sum(axis=(0, 3)).reshape(F)  # (F,)
    g_rows = g.transpose(1, 0, 3, 2).reshape(G, N * H_out * W_out, F // G)  # (G, N*P, F/G): a copy
    dw = g_rows.transpose(0, 2, 1) @ rows  # (G, F/G, KH*KW*Cg): summed over n and p in the product
    w_t = w.reshape(G, F // G, Cg, KH, KW).transpose(0, 2, 1, 3, 4)  # (G, Cg, F/G, KH, KW)
    (top, bottom), (left, right) = pads
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), dout.dtype)  # (N, C, Hp, Wp)
    for u in range(KH):  # each kernel tap sends dout back onto the cells it read
        for v in range(KW):
            share = (w_t[..., u, v] @ g).reshape(N, C, H_out, W_out)  # (G, Cg, F/G) @ (N, G, F/G, P)
            rows = slice(u * dh, u * dh + sh * H_out, sh)
            dxp[:, :, rows, v * dw_:v * dw_ + sw * W_out:sw] += share  # += : windows overlap
    return dxp[:, :, top:top + H, left:left + W], dw.reshape(F, KH, KW, Cg).transpose(0, 3, 1, 2), db


def patch_rows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
               dilation: tuple[int, int], pads: Pads, groups: int) -> np.ndarray:
    """rows[g, (n, i, j), (u, v, c)] = xpad[n, g*Cg + c, i*sh + u*dh, j*sw + v*dw]: a patch per row."""
    N, C = x.shape[:2]
    (KH, KW), (sh, sw), (dh, dw) = kernel, stride, dilation
    # Channels last: a patch's numbers along a row are then adjacent, so the copy reads runs.
    xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), *pads, (0, 0)))  # (N, Hp, Wp, C)
    extent = (dh * (KH - 1) + 1, dw * (KW - 1) + 1)  # the dilated kernel's span
    win = sliding_window_view(xp, extent, axis=(1, 2))  # (N, Hp - eh + 1, Wp - ew + 1, C, eh, ew)
    win = win[:, ::sh, ::sw, :, ::dh, ::dw]  # (N, H_out, W_out, C, KH, KW): still a view
    H_out, W_out = win.shape[1:3]
    win = win.reshape(N, H_out, W_out, groups, C // groups, KH, KW)  # still a view: C split
    return win.transpose(3, 0, 1, 2, 5, 6, 4).reshape(groups, N * H_out * W_out,
                                                      KH * KW * C // groups)  # the copy


def check_floats(function: str, **arrays: np.ndarray | None) -> None:
    """ValueError unless each array given is a float32 or float64 ndarray (None is let through)."""
    for name, arr in arrays.items():
        if arr is not None and not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"):
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"{function} takes float32 or float64 arrays, got {name} of {got}")


def geometry(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: IntOrPair,
             padding: IntOrPair | str, dilation: IntOrPair, groups: int):
    """Validated (stride, dilation, pads, (H_out, W_out)); ValueError naming what is wrong."""
    (C, H, W), (F, Cg, KH, KW) = x_shape[1:], w_shape
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be an int >= 1, got {groups!r}")
    if C % groups or F % groups:
        raise ValueError(f"groups={groups} must divide both C={C} and F={F}")
    if Cg != C // groups:
        raise ValueError(f"w has {Cg} input channels per group, expected C // groups = "
                         f"{C} // {groups} = {C // groups}")
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    if padding == "same":
        if s != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride={s}")
        th, tw = d[0] * (KH - 1), d[1] * (KW - 1)  # total zeros per axis; the odd one goes after
        pads = (th // 2, th - th // 2), (tw // 2, tw - tw // 2)
    elif padding == "valid":
        pads = (0, 0), (0, 0)
    elif isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        (ph, pw) = pair(padding, "padding", minimum=0)
        pads = (ph, ph), (pw, pw)
    out = output_size(H, KH, s[0], pads[0], d[0]), output_size(W, KW, s[1], pads[1], d[1])
    return s, d, pads, out


def pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """`3` -> `(3, 3)`; an `(h, w)` pair passes through; each an int >= minimum."""
    h, w = tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
           for v in (h, w)):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(h), int(w)
