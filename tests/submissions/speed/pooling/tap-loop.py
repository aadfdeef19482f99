# Correct: every function loops over the KH*KW kernel taps only, each step one vectorized
# operation on a strided slice of the padded input (N, C, H_out, W_out at once). Max backward
# keeps the first maximum of each window: a later tap wins only when strictly greater.
import numpy as np


def check(x_shape, kernel_size, stride, padding):
    kh, kw = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
    if stride is None:
        stride = (kh, kw)
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    if min(kh, kw, sh, sw) < 1:
        raise ValueError(f"kernel_size {kernel_size} and stride {stride} must be >= 1")
    if not (0 <= ph <= kh // 2 and 0 <= pw <= kw // 2):
        raise ValueError(f"padding {padding} must be in [0, kernel // 2] for kernel {kernel_size}")
    H, W = x_shape[2:]
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"H_out={Ho}, W_out={Wo} for H={H}, W={W}, kernel {kh}x{kw}")
    return kh, kw, sh, sw, ph, pw, Ho, Wo


def taps(kh, kw, sh, sw, Ho, Wo):
    """(u, v, the slice of the padded input that tap (u, v) of every window reads)."""
    for u in range(kh):
        for v in range(kw):
            yield u, v, (Ellipsis, slice(u, u + sh * Ho, sh), slice(v, v + sw * Wo, sw))


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    kh, kw, sh, sw, ph, pw, Ho, Wo = check(x.shape, kernel_size, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    out = np.full(x.shape[:2] + (Ho, Wo), -np.inf, x.dtype)
    for _, _, at in taps(kh, kw, sh, sw, Ho, Wo):
        out = np.maximum(out, xp[at])
    return out


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    kh, kw, sh, sw, ph, pw, Ho, Wo = check(x.shape, kernel_size, stride, padding)
    N, C, H, W = x.shape
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout {dout.shape} != {(N, C, Ho, Wo)}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    best = np.full((N, C, Ho, Wo), -np.inf, x.dtype)
    winner = np.zeros((N, C, Ho, Wo), int)  # index u * kw + v of each window's first maximum
    for u, v, at in taps(kh, kw, sh, sw, Ho, Wo):
        later = xp[at] > best
        best = np.where(later, xp[at], best)
        winner = np.where(later, u * kw + v, winner)
    dxp = np.zeros(xp.shape, dout.dtype)
    for u, v, at in taps(kh, kw, sh, sw, Ho, Wo):
        dxp[at] += np.where(winner == u * kw + v, dout, 0)
    return dxp[:, :, ph:ph + H, pw:pw + W]


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got {x.dtype}")
    kh, kw, sh, sw, ph, pw, Ho, Wo = check(x.shape, kernel_size, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    inside = np.pad(np.ones(x.shape[2:], x.dtype), ((ph, ph), (pw, pw)))  # 1 on image cells
    total = np.zeros(x.shape[:2] + (Ho, Wo), x.dtype)
    count = np.zeros((Ho, Wo), x.dtype)
    for _, _, at in taps(kh, kw, sh, sw, Ho, Wo):
        total += xp[at]
        count += inside[at[1:]]
    return total / (kh * kw if count_include_pad else count)


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    kh, kw, sh, sw, ph, pw, Ho, Wo = check(x_shape, kernel_size, stride, padding)
    N, C, H, W = x_shape
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout {dout.shape} != {(N, C, Ho, Wo)}")
    inside = np.pad(np.ones((H, W), dout.dtype), ((ph, ph), (pw, pw)))
    count = sum(inside[at[1:]] for _, _, at in taps(kh, kw, sh, sw, Ho, Wo))  # (Ho, Wo)
    share = dout / (kh * kw if count_include_pad else count)
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dout.dtype)
    for _, _, at in taps(kh, kw, sh, sw, Ho, Wo):
        dxp[at] += share
    return dxp[:, :, ph:ph + H, pw:pw + W]
