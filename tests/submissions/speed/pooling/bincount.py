# Correct and loop-free: window views reduced over their last two axes (max, sum), and both
# backward passes as one np.bincount scatter over flat indices of the padded input (the max
# one at each window's first maximum, found by argmax).
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _params(shape, kernel_size, stride, padding):
    k = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    s = k if stride is None else tuple(stride) if isinstance(stride, (tuple, list)) else (stride,) * 2
    p = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * 2
    if min(k) < 1 or min(s) < 1:
        raise ValueError(f"kernel_size={kernel_size}, stride={stride}: must be >= 1")
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding={padding} must be between 0 and half the kernel {k}")
    out = tuple((n + 2 * q - kk) // ss + 1 for n, q, kk, ss in zip(shape[2:], p, k, s))
    if min(out) < 1:
        raise ValueError(f"output size {out} for input {shape[2:]}, kernel {k}, padding {p}")
    return k, s, p, out


def _cells(shape, k, s, p, out):
    """Flat index into the padded input of every window cell: (N, C, Ho, Wo, KH, KW)."""
    N, C, H, W = shape
    Hp, Wp = H + 2 * p[0], W + 2 * p[1]
    grid = np.arange(N * C * Hp * Wp).reshape(N, C, Hp, Wp)
    return sliding_window_view(grid, k, axis=(2, 3))[:, :, ::s[0], ::s[1]][:, :, :out[0], :out[1]]


def _scatter(cells, weights, shape, p):
    N, C, H, W = shape
    Hp, Wp = H + 2 * p[0], W + 2 * p[1]
    flat = np.bincount(cells.ravel(), weights.ravel(), minlength=N * C * Hp * Wp)
    return flat.reshape(N, C, Hp, Wp)[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


def _padded_windows(x, k, s, p, out, fill):
    xp = np.pad(x, ((0, 0), (0, 0), (p[0],) * 2, (p[1],) * 2), constant_values=fill)
    return sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]][:, :, :out[0], :out[1]]


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    k, s, p, out = _params(x.shape, kernel_size, stride, padding)
    return _padded_windows(x, k, s, p, out, -np.inf).max(axis=(-2, -1))


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    k, s, p, out = _params(x.shape, kernel_size, stride, padding)
    if dout.shape != x.shape[:2] + out:
        raise ValueError(f"dout shape {dout.shape} is not {x.shape[:2] + out}")
    win = _padded_windows(x, k, s, p, out, -np.inf)
    first = win.reshape(*win.shape[:4], -1).argmax(axis=-1)[..., None]  # (N, C, Ho, Wo, 1)
    cells = _cells(x.shape, k, s, p, out)
    where = np.take_along_axis(cells.reshape(*cells.shape[:4], -1), first, axis=-1)
    return _scatter(where, dout, x.shape, p).astype(dout.dtype)


def _count(shape, k, s, p, out, include_pad, dtype):
    if include_pad:
        return k[0] * k[1]
    ones = np.ones((1, 1) + tuple(shape[2:]), dtype)
    return _padded_windows(ones, k, s, p, out, 0).sum(axis=(-2, -1))[0, 0]  # (Ho, Wo)


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    k, s, p, out = _params(x.shape, kernel_size, stride, padding)
    total = _padded_windows(x, k, s, p, out, 0).sum(axis=(-2, -1))
    return (total / _count(x.shape, k, s, p, out, count_include_pad, x.dtype)).astype(x.dtype)


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    k, s, p, out = _params(x_shape, kernel_size, stride, padding)
    if dout.shape != tuple(x_shape[:2]) + out:
        raise ValueError(f"dout shape {dout.shape} is not {tuple(x_shape[:2]) + out}")
    share = dout / _count(x_shape, k, s, p, out, count_include_pad, dout.dtype)  # (N, C, Ho, Wo)
    cells = _cells(x_shape, k, s, p, out)
    spread = np.broadcast_to(share[..., None, None], cells.shape)
    return _scatter(cells, spread, x_shape, p).astype(dout.dtype)
