"""Naive learner solution for conv_forward: plain Python loops, slow but correct."""

import numpy as np


def _pair(value, name):
    """Turn an int or an (h, w) pair into a tuple of two ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_forward(x, w, b, stride=1, padding=0):
    """2-D convolution layer forward pass (cross-correlation, zero padding).

    x (N, C, H, W), w (F, C, KH, KW), b (F,) or None -> out (N, F, H_out, W_out), dtype of x.
    """
    x = np.asarray(x)
    w = np.asarray(w)
    b = np.zeros(w.shape[0], dtype=x.dtype) if b is None else np.asarray(b)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"expected x (N, C, H, W) and w (F, C, KH, KW), got {x.shape}, {w.shape}")
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float arrays, got {x.dtype} and {w.dtype}")
    n_batch, channels, height, width = x.shape
    n_filters, w_channels, kernel_h, kernel_w = w.shape
    if w_channels != channels:
        raise ValueError(f"x has {channels} channels but w expects {w_channels}")
    stride_h, stride_w = _pair(stride, "stride")
    if stride_h < 1 or stride_w < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    if isinstance(padding, str):
        if padding == "valid":
            pads_h, pads_w = (0, 0), (0, 0)
        elif padding == "same":
            if (stride_h, stride_w) != (1, 1):
                raise ValueError("padding='same' needs stride 1")
            pads_h = ((kernel_h - 1) // 2, kernel_h - 1 - (kernel_h - 1) // 2)
            pads_w = ((kernel_w - 1) // 2, kernel_w - 1 - (kernel_w - 1) // 2)
        else:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same': {padding!r}")
    else:
        pad_h, pad_w = _pair(padding, "padding")
        if pad_h < 0 or pad_w < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}")
        pads_h, pads_w = (pad_h, pad_h), (pad_w, pad_w)

    padded_h = height + sum(pads_h)
    padded_w = width + sum(pads_w)
    if padded_h < kernel_h or padded_w < kernel_w:
        raise ValueError(
            f"kernel {kernel_h}x{kernel_w} is larger than the padded input {padded_h}x{padded_w}"
        )
    out_h = (padded_h - kernel_h) // stride_h + 1
    out_w = (padded_w - kernel_w) // stride_w + 1

    xpad = np.pad(x, ((0, 0), (0, 0), pads_h, pads_w))
    out = np.zeros((n_batch, n_filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    top = i * stride_h
                    left = j * stride_w
                    window = xpad[n, :, top:top + kernel_h, left:left + kernel_w]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
