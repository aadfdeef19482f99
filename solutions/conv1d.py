"""Reference for exercise 1: true 1-D convolution (np.convolve) and the 1-D conv layer (NCL)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions._common import COLS_BYTES, check_channels, chunks, ntuple, output_size, pad, resolve_padding


def convolve1d(a: np.ndarray, v: np.ndarray, mode: str = "full") -> np.ndarray:
    """True convolution y[n] = sum_m a[m] v[n-m] of a (N,) and v (M,), as np.convolve(a, v, mode).

    Lengths: full N+M-1, same max(N, M), valid max(N, M) - min(N, M) + 1; dtype result_type(a, v).
    """
    dtype = np.result_type(a, v)
    a, v = np.asarray(a, dtype=dtype), np.asarray(v, dtype=dtype)
    if a.ndim != 1 or v.ndim != 1 or a.size == 0 or v.size == 0:
        raise ValueError(f"a and v must be non-empty 1-D arrays, got shapes {a.shape}, {v.shape}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    if v.size > a.size:
        a, v = v, a  # convolution commutes; numpy slides the shorter array
    N, M = a.size, v.size
    ap = np.pad(a, M - 1)  # (N + 2*(M-1),)
    # correlating with the reversed kernel is convolution; integer matmul stays exact
    full = sliding_window_view(ap, M) @ v[::-1]  # (N+M-1, M) @ (M,) -> (N+M-1,)
    if mode == "same":
        return full[(M - 1) // 2:][:N]
    return full if mode == "full" else full[M - 1:N]


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
           stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
           dilation: int | tuple[int] = 1) -> np.ndarray:
    """1-D layer: x (N, C, L), w (F, C, K), b (F,) or None -> y (N, F, L_out), cross-correlation.

    y[n, f, i] = b[f] + sum_{c,k} w[f, c, k] * xpad[n, c, i*s + k*d]; padding int, 'valid', 'same'.
    """
    N, C, _ = x.shape
    F, _, K = w.shape
    check_channels(C, w.shape)
    s, d = ntuple(stride, "stride", 1), ntuple(dilation, "dilation", 1)
    pads = resolve_padding(padding, (K,), s, d)
    (L_out,) = output_size(x.shape[2:], pads, (K,), s, d)
    xp = pad(x, pads)  # (N, C, L + pad_before + pad_after)
    w_rows = w.reshape(F, C * K).astype(x.dtype, copy=False)  # (F, C*K)
    out = np.empty((N, F, L_out), x.dtype)  # (N, F, L_out)
    # im2col + GEMM, a slice of the batch at a time: its columns (K times the input) stay in cache
    for n in chunks(N, C * K * L_out * x.itemsize, COLS_BYTES):
        win = sliding_window_view(xp[n], d[0] * (K - 1) + 1, axis=2)  # (n, C, L_p - d*(K-1), d*(K-1)+1)
        win = win[:, :, ::s[0], ::d[0]]  # (n, C, L_out, K)
        cols = win.transpose(0, 1, 3, 2).reshape(-1, C * K, L_out)  # (n, C*K, L_out): the copy
        np.matmul(w_rows, cols, out=out[n])  # (F, C*K) @ (n, C*K, L_out)
        del cols  # freed before the next slice's columns are allocated: malloc reuses the memory
    if b is not None:
        out += b.astype(x.dtype, copy=False)[:, None]  # cast first: no float64 pass on float32 data
    return out
