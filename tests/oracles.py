"""Naive loop oracles, written straight from the definitions in float64: the truth for solutions/.

Every sum is an explicit Python loop over every index (d2l `corr2d` style, only slower): no window
views, no GEMM, nothing shared with solutions/. Inputs are assumed valid; no validation here.
"""

from __future__ import annotations

import numpy as np


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _pads(padding, kernel, dilation) -> list[tuple[int, int]]:
    """(before, after) per axis. 'same' pads d*(K-1) in total, the odd extra cell after."""
    if padding == "valid":
        return [(0, 0) for _ in kernel]
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return [(t // 2, t - t // 2) for t in totals]
    values = [padding] * len(kernel) if isinstance(padding, int) else list(padding)
    return [(p, p) for p in values]


def _padded(x, pads, fill=0.0) -> np.ndarray:
    """float64 copy of x with its trailing axes padded by `fill`."""
    x = np.asarray(x, dtype=np.float64)
    lead = x.shape[: x.ndim - len(pads)]
    sizes = x.shape[x.ndim - len(pads):]
    out = np.full(lead + tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pads, strict=True)), fill)
    out[(...,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pads, strict=True))] = x
    return out


def _out(n, pads, k, s, d) -> int:
    return (n + pads[0] + pads[1] - d * (k - 1) - 1) // s + 1


# ---------------------------------------------------------------- exercise 1

def convolve1d(a, v, mode="full"):
    """y[n] = sum_m a[m] v[n-m], then np.convolve's slice for 'same' and 'valid'."""
    a, v = np.asarray(a, dtype=np.float64), np.asarray(v, dtype=np.float64)
    N, M = len(a), len(v)
    full = np.zeros(N + M - 1)
    for n in range(N + M - 1):
        for m in range(N):
            if 0 <= n - m < M:
                full[n] += a[m] * v[n - m]
    longer, shorter = max(N, M), min(N, M)
    if mode == "full":
        return full
    if mode == "same":
        start = (shorter - 1) // 2
        return full[start:start + longer]
    return full[shorter - 1:longer]


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """y[n, f, i] = b[f] + sum_{c,k} w[f, c, k] * xpad[n, c, i*s + k*d]."""
    s = stride if isinstance(stride, int) else stride[0]
    d = dilation if isinstance(dilation, int) else dilation[0]
    N, C, L = x.shape
    F, _, K = w.shape
    pads = _pads(padding, [K], [d])
    xp = _padded(x, pads)
    L_out = _out(L, pads[0], K, s, d)
    y = np.zeros((N, F, L_out))
    for n in range(N):
        for f in range(F):
            for i in range(L_out):
                total = 0.0 if b is None else float(b[f])
                for c in range(C):
                    for k in range(K):
                        total += float(w[f, c, k]) * xp[n, c, i * s + k * d]
                y[n, f, i] = total
    return y


# ---------------------------------------------------------------- exercises 2-4

def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n,f,i,j] = b[f] + sum_{c in group(f),u,v} w[f,c,u,v] xpad[n,g0+c,i*sh+u*dh,j*sw+v*dw]."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    pads = _pads(padding, [KH, KW], [dh, dw])
    xp = _padded(x, pads)
    H_out, W_out = _out(H, pads[0], KH, sh, dh), _out(W, pads[1], KW, sw, dw)
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            g0 = (f // (F // groups)) * Cg  # first input channel of f's group
            for i in range(H_out):
                for j in range(W_out):
                    total = 0.0 if b is None else float(b[f])
                    for c in range(Cg):
                        for u in range(KH):
                            for v in range(KW):
                                total += float(w[f, c, u, v]) * xp[n, g0 + c, i * sh + u * dh,
                                                                   j * sw + v * dw]
                    out[n, f, i, j] = total
    return out


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Every forward product w[f,c,u,v] * xpad[...] sends dout[n,f,i,j] back to both factors."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    pads = _pads(padding, [KH, KW], [dh, dw])
    xp = _padded(x, pads)
    dxp, dW, db = np.zeros(xp.shape), np.zeros(w.shape), np.zeros(F)
    for n in range(N):
        for f in range(F):
            g0 = (f // (F // groups)) * Cg
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    g = float(dout[n, f, i, j])
                    db[f] += g
                    for c in range(Cg):
                        for u in range(KH):
                            for v in range(KW):
                                r, q = i * sh + u * dh, j * sw + v * dw
                                dW[f, c, u, v] += g * xp[n, g0 + c, r, q]
                                dxp[n, g0 + c, r, q] += g * float(w[f, c, u, v])
    top, left = pads[0][0], pads[1][0]
    return dxp[:, :, top:top + H, left:left + W], dW, db


def conv_forward(x, w, b, stride=1, padding=0):
    return conv2d(x, w, b, stride, padding)


def conv_backward(dout, x, w, stride=1, padding=0):
    return conv2d_backward(dout, x, w, stride, padding)


# ---------------------------------------------------------------- exercise 5

def _windows(x_shape, kernel_size, stride, padding):
    """Yield (n, c, i, j, cells): cells are a window's (row, col) in x order, None when padding."""
    (KH, KW) = _pair(kernel_size)
    (sh, sw) = (KH, KW) if stride is None else _pair(stride)
    (ph, pw) = _pair(padding)
    N, C, H, W = x_shape
    H_out, W_out = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    cells = []
                    for u in range(KH):
                        for v in range(KW):
                            r, q = i * sh + u - ph, j * sw + v - pw
                            cells.append((r, q) if 0 <= r < H and 0 <= q < W else None)
                    yield n, c, i, j, cells


def _pool_shape(x_shape, kernel_size, stride, padding):
    (KH, KW), (ph, pw) = _pair(kernel_size), _pair(padding)
    (sh, sw) = (KH, KW) if stride is None else _pair(stride)
    N, C, H, W = x_shape
    return N, C, (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def _first_max(x, n, c, cells):
    """The first in-image cell holding the window maximum (padding counts as -inf)."""
    best, where = -np.inf, None
    for cell in cells:
        if cell is not None and (where is None or x[n, c, cell[0], cell[1]] > best):
            best, where = x[n, c, cell[0], cell[1]], cell
    return best, where


def max_pool_forward(x, kernel_size, stride=None, padding=0):
    out = np.zeros(_pool_shape(x.shape, kernel_size, stride, padding))
    for n, c, i, j, cells in _windows(x.shape, kernel_size, stride, padding):
        out[n, c, i, j] = _first_max(x, n, c, cells)[0]
    return out


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    dx = np.zeros(x.shape)
    for n, c, i, j, cells in _windows(x.shape, kernel_size, stride, padding):
        r, q = _first_max(x, n, c, cells)[1]
        dx[n, c, r, q] += dout[n, c, i, j]
    return dx


def _divisor(cells, count_include_pad):
    return len(cells) if count_include_pad else sum(cell is not None for cell in cells)


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    out = np.zeros(_pool_shape(x.shape, kernel_size, stride, padding))
    for n, c, i, j, cells in _windows(x.shape, kernel_size, stride, padding):
        total = 0.0
        for cell in cells:
            if cell is not None:
                total += float(x[n, c, cell[0], cell[1]])
        out[n, c, i, j] = total / _divisor(cells, count_include_pad)
    return out


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    dx = np.zeros(tuple(x_shape))
    for n, c, i, j, cells in _windows(tuple(x_shape), kernel_size, stride, padding):
        share = float(dout[n, c, i, j]) / _divisor(cells, count_include_pad)
        for cell in cells:
            if cell is not None:
                dx[n, c, cell[0], cell[1]] += share
    return dx
