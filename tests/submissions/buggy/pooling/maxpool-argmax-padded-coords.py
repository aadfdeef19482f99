# The gradient goes to the window's argmax in padded coordinates, and dx keeps the top-left H x W.
import numpy as np


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    """dout (N, C, H_out, W_out), x (N, C, H, W) -> dx: each window's dout to its first maximum."""
    N, C, H, W = x.shape
    KH, KW = _pair(kernel_size)
    sh, sw = (KH, KW) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    if ph > KH // 2 or pw > KW // 2:
        raise ValueError("padding must be at most half the kernel size")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    H_out, W_out = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, c, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    u, v = divmod(int(np.argmax(window)), KW)
                    r, q = i * sh + u, j * sw + v  # a cell of xp
                    if r < H and q < W:
                        dx[n, c, r, q] += dout[n, c, i, j]
    return dx
