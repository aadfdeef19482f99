"""Naive learner solution for conv_strided_dilated: plain Python loops, slow but correct."""

import numpy as np


def _pair(value, name):
    """Turn an int or an (h, w) pair into a tuple of two ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _setup(x, w, stride, padding, dilation, groups):
    """Check the arguments; return the sizes and pads every loop below needs."""
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"expected x (N, C, H, W) and w (F, C/G, KH, KW): {x.shape}, {w.shape}")
    channels = x.shape[1]
    n_filters, group_channels, kernel_h, kernel_w = w.shape
    if groups < 1 or channels % groups != 0 or n_filters % groups != 0:
        raise ValueError(f"groups={groups} must divide C={channels} and F={n_filters}")
    if group_channels != channels // groups:
        raise ValueError(f"w has {group_channels} channels per group, not {channels // groups}")
    stride_h, stride_w = _pair(stride, "stride")
    dil_h, dil_w = _pair(dilation, "dilation")
    if min(stride_h, stride_w) < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    if min(dil_h, dil_w) < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation!r}")
    ext_h = dil_h * (kernel_h - 1) + 1
    ext_w = dil_w * (kernel_w - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            pads_h, pads_w = (0, 0), (0, 0)
        elif padding == "same":
            if (stride_h, stride_w) != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {stride!r}")
            pads_h = ((ext_h - 1) // 2, ext_h - 1 - (ext_h - 1) // 2)
            pads_w = ((ext_w - 1) // 2, ext_w - 1 - (ext_w - 1) // 2)
        else:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same': {padding!r}")
    else:
        pad_h, pad_w = _pair(padding, "padding")
        if pad_h < 0 or pad_w < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}")
        pads_h, pads_w = (pad_h, pad_h), (pad_w, pad_w)
    padded_h = x.shape[2] + sum(pads_h)
    padded_w = x.shape[3] + sum(pads_w)
    if padded_h < ext_h or padded_w < ext_w:
        raise ValueError(
            f"dilated kernel {ext_h}x{ext_w} is larger than the padded input {padded_h}x{padded_w}"
        )
    out_h = (padded_h - ext_h) // stride_h + 1
    out_w = (padded_w - ext_w) // stride_w + 1
    pads = ((0, 0), (0, 0), pads_h, pads_w)
    return pads, (out_h, out_w), (stride_h, stride_w), (dil_h, dil_w), (ext_h, ext_w)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """General 2-D convolution (cross-correlation) with stride, padding, dilation and groups.

    x (N, C, H, W), w (F, C // groups, KH, KW), b (F,) or None -> out (N, F, H_out, W_out).
    """
    x = np.asarray(x)
    w = np.asarray(w)
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float arrays, got {x.dtype} and {w.dtype}")
    if b is not None and np.shape(b) != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {np.shape(b)}")
    pads, (out_h, out_w), (sh, sw), (dh, dw_), (eh, ew) = _setup(
        x, w, stride, padding, dilation, groups
    )
    cg, fg = w.shape[1], w.shape[0] // groups  # channels per group, filters per group
    xpad = np.pad(x, pads)
    out = np.zeros((x.shape[0], w.shape[0], out_h, out_w), dtype=x.dtype)
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            c0 = (f // fg) * cg
            for i in range(out_h):
                for j in range(out_w):
                    window = xpad[n, c0:c0 + cg, i * sh:i * sh + eh:dh, j * sw:j * sw + ew:dw_]
                    value = np.sum(window * w[f])
                    if b is not None:
                        value += b[f]
                    out[n, f, i, j] = value
    return out


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of `conv2d`: dout (N, F, H_out, W_out) -> dx, dw, db (dtype of dout)."""
    dout = np.asarray(dout)
    x = np.asarray(x)
    w = np.asarray(w)
    pads, (out_h, out_w), (sh, sw), (dh, dw_), (eh, ew) = _setup(
        x, w, stride, padding, dilation, groups
    )
    cg, fg = w.shape[1], w.shape[0] // groups  # channels per group, filters per group
    expected = (x.shape[0], w.shape[0], out_h, out_w)
    if dout.shape != expected:
        raise ValueError(f"dout has shape {dout.shape}, expected {expected}")
    xpad = np.pad(x, pads)
    dxpad = np.zeros(xpad.shape, dtype=dout.dtype)
    dw = np.zeros(w.shape, dtype=dout.dtype)
    db = np.zeros(w.shape[0], dtype=dout.dtype)
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            c0 = (f // fg) * cg
            for i in range(out_h):
                for j in range(out_w):
                    grad = dout[n, f, i, j]
                    rows = slice(i * sh, i * sh + eh, dh)
                    cols = slice(j * sw, j * sw + ew, dw_)
                    dw[f] += grad * xpad[n, c0:c0 + cg, rows, cols]
                    dxpad[n, c0:c0 + cg, rows, cols] += grad * w[f]
                    db[f] += grad
    top, left = pads[2][0], pads[3][0]
    dx = dxpad[:, :, top:top + x.shape[2], left:left + x.shape[3]].copy()
    return dx, dw, db
