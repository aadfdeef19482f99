# Correct and loop-free forwards: one reduction over the window axes of a sliding_window_view
# (win.max(axis=(4, 5)), win.mean). Max backward: the first maximum of each window by argmax,
# scattered with np.add.at; average backward: one strided += per kernel tap.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v, name, low):
    a, b = v if isinstance(v, (tuple, list)) else (v, v)
    if a < low or b < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return int(a), int(b)


def _geometry(shape, kernel_size, stride, padding):
    N, C, H, W = shape
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"padding {padding} is more than half the kernel {kernel_size}")
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"output {Ho}x{Wo} is empty for input {H}x{W}, kernel {kh}x{kw}")
    return (kh, kw), (sh, sw), (ph, pw), (Ho, Wo)


def _windows(x, k, s, p, fill):
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    return sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]]  # (N, C, Ho', Wo', kh, kw)


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    k, s, p, (Ho, Wo) = _geometry(x.shape, kernel_size, stride, padding)
    win = _windows(x, k, s, p, -np.inf)[:, :, :Ho, :Wo]
    return win.max(axis=(4, 5))


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x.shape, kernel_size, stride, padding)
    N, C, H, W = x.shape
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, C, Ho, Wo)}")
    win = _windows(x, (kh, kw), (sh, sw), (ph, pw), -np.inf)[:, :, :Ho, :Wo]
    first = win.reshape(N, C, Ho, Wo, kh * kw).argmax(axis=-1)  # first maximum, row-major
    rows = np.arange(Ho)[:, None] * sh + first // kw  # (N, C, Ho, Wo) in padded coordinates
    cols = np.arange(Wo) * sw + first % kw
    n, c = np.arange(N)[:, None, None, None], np.arange(C)[:, None, None]
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dout.dtype)
    np.add.at(dxp, (n, c, rows, cols), dout)  # overlapping windows add up
    return dxp[:, :, ph:ph + H, pw:pw + W]


def _divisor(shape, k, s, p, out, count_include_pad, dtype):
    if count_include_pad:
        return np.asarray(k[0] * k[1], dtype)
    ones = np.ones((1, 1) + tuple(shape[2:]), dtype)
    return _windows(ones, k, s, p, 0)[0, 0, :out[0], :out[1]].sum(axis=(-2, -1))


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    k, s, p, out = _geometry(x.shape, kernel_size, stride, padding)
    win = _windows(x, k, s, p, 0)[:, :, :out[0], :out[1]]
    if count_include_pad:
        return win.mean(axis=(-2, -1)).astype(x.dtype)
    return (win.sum(axis=(-2, -1)) / _divisor(x.shape, k, s, p, out, False, x.dtype)).astype(x.dtype)


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x_shape, kernel_size, stride, padding)
    N, C, H, W = x_shape
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, C, Ho, Wo)}")
    share = dout / _divisor(x_shape, (kh, kw), (sh, sw), (ph, pw), (Ho, Wo), count_include_pad,
                            dout.dtype)
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dout.dtype)
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += share
    return dxp[:, :, ph:ph + H, pw:pw + W].astype(dout.dtype)
