# Each window's share of the gradient is written with = instead of +=: overlapping windows overwrite.
import numpy as np


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    """dout (N, C, H_out, W_out) -> dx of shape x_shape: dout / divisor spread over each window."""
    N, C, H, W = x_shape
    KH, KW = _pair(kernel_size)
    sh, sw = (KH, KW) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    if ph > KH // 2 or pw > KW // 2:
        raise ValueError("padding must be at most half the kernel size")
    H_out, W_out = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * sh, j * sw
            if count_include_pad:
                count = KH * KW
            else:
                rows = min(r + KH, H + ph) - max(r, ph)
                cols = min(c + KW, W + pw) - max(c, pw)
                count = rows * cols
            dxp[:, :, r:r + KH, c:c + KW] = (dout[:, :, i, j] / count)[:, :, None, None]
    return dxp[:, :, ph:ph + H, pw:pw + W]
