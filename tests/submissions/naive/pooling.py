"""Naive learner solution for pooling: plain Python loops, slow but correct."""

import numpy as np


def _pair(value, name):
    """Turn an int or an (h, w) pair into a tuple of two ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _setup(x_shape, kernel_size, stride, padding):
    """Check the pooling parameters; return kernel, stride, padding pairs and the output size."""
    if len(x_shape) != 4:
        raise ValueError(f"expected an (N, C, H, W) input, got shape {tuple(x_shape)}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if kh < 1 or kw < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size!r}")
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    if ph < 0 or pw < 0 or ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"padding {padding!r} must be in [0, kernel // 2], kernel {kernel_size!r}")
    height, width = x_shape[2], x_shape[3]
    if height + 2 * ph < kh or width + 2 * pw < kw:
        raise ValueError(
            f"kernel {kh}x{kw} is larger than the padded input {height + 2 * ph}x{width + 2 * pw}"
        )
    out_h = (height + 2 * ph - kh) // sh + 1
    out_w = (width + 2 * pw - kw) // sw + 1
    return (kh, kw), (sh, sw), (ph, pw), (out_h, out_w)


def _check_dout(dout, x_shape, out_size):
    """dout must have the pooled shape (N, C, H_out, W_out)."""
    expected = (x_shape[0], x_shape[1], out_size[0], out_size[1])
    if dout.shape != expected:
        raise ValueError(f"dout has shape {dout.shape}, expected {expected}")


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling: x (N, C, H, W) -> out (N, C, H_out, W_out); the padding is -inf."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = _setup(x.shape, kernel_size, stride, padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    out = np.zeros((x.shape[0], x.shape[1], out_h, out_w), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    out[n, c, i, j] = xpad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].max()
    return out


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    """Max pooling gradient: the first maximum (row-major) of each window gets all of dout."""
    dout = np.asarray(dout)
    x = np.asarray(x)
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = _setup(x.shape, kernel_size, stride, padding)
    _check_dout(dout, x.shape, (out_h, out_w))
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    dxpad = np.zeros(xpad.shape, dtype=dout.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    window = xpad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    row, col = divmod(int(np.argmax(window)), kw)
                    dxpad[n, c, i * sh + row, j * sw + col] += dout[n, c, i, j]
    return dxpad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]].copy()


def _divisors(x_shape, kernel, stride, pad, out_size, count_include_pad):
    """The divisor of every output window: KH*KW, or the number of in-image cells."""
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = kernel, stride, pad, out_size
    if count_include_pad:
        return np.full((out_h, out_w), kh * kw)
    inside = np.pad(np.ones(x_shape[2:]), ((ph, ph), (pw, pw)))
    counts = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            counts[i, j] = inside[i * sh:i * sh + kh, j * sw:j * sw + kw].sum()
    return counts


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Average pooling with zero padding: x (N, C, H, W) -> out (N, C, H_out, W_out)."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    kernel, strides, pads, out_size = _setup(x.shape, kernel_size, stride, padding)
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = kernel, strides, pads, out_size
    divisors = _divisors(x.shape, kernel, strides, pads, out_size, count_include_pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((x.shape[0], x.shape[1], out_h, out_w), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    window = xpad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[n, c, i, j] = window.sum() / divisors[i, j]
    return out


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Average pooling gradient: each window spreads dout / divisor over its cells."""
    dout = np.asarray(dout)
    x_shape = tuple(int(size) for size in x_shape)
    kernel, strides, pads, out_size = _setup(x_shape, kernel_size, stride, padding)
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = kernel, strides, pads, out_size
    _check_dout(dout, x_shape, out_size)
    divisors = _divisors(x_shape, kernel, strides, pads, out_size, count_include_pad)
    n_batch, channels, height, width = x_shape
    dxpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw), dtype=dout.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    share = dout[n, c, i, j] / divisors[i, j]
                    dxpad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw] += share
    return dxpad[:, :, ph:ph + height, pw:pw + width].copy()
