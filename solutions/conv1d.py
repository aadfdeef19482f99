"""Model answer for exercise 1: true 1-D convolution (np.convolve) and the 1-D conv layer (NCL)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def output_size(size: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0,
                dilation: int = 1) -> int:
    """Outputs along one axis: floor((size + before + after - dilation*(kernel-1) - 1) / stride) + 1.

    `padding` is an int (both ends) or a (before, after) pair. ValueError when no window fits.
    """
    before, after = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    extent = dilation * (kernel - 1) + 1  # the dilated kernel's span
    out = (size + before + after - extent) // stride + 1
    if out < 1:
        raise ValueError(f"output size {out} < 1: input size {size} with padding ({before}, "
                         f"{after}) is smaller than the effective kernel size {extent}")
    return out


def convolve1d(a: np.ndarray, v: np.ndarray, mode: str = "full") -> np.ndarray:
    """True convolution y[n] = sum_m a[m] v[n-m] of a (N,) and v (M,), as np.convolve(a, v, mode).

    Lengths: full N+M-1, same max(N, M), valid max(N, M) - min(N, M) + 1; dtype result_type(a, v).
    """
    a, v = np.asarray(a), np.asarray(v)  # (N,), (M,): Python lists too, as np.convolve takes them
    if a.ndim != 1 or v.ndim != 1 or a.size == 0 or v.size == 0:
        raise ValueError(f"a and v must be non-empty 1-D arrays, got shapes {a.shape}, {v.shape}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    dtype = np.result_type(a, v)
    if v.size > a.size:
        a, v = v, a  # convolution commutes; numpy slides the shorter array
    N, M = a.size, v.size
    ap = np.pad(a.astype(dtype), M - 1)  # (N + 2*(M-1),)
    # correlating with the reversed kernel is convolution; an integer product stays exact
    full = sliding_window_view(ap, M) @ v[::-1].astype(dtype)  # (N+M-1, M) @ (M,) -> (N+M-1,)
    if mode == "same":
        return full[(M - 1) // 2:][:N]
    return full if mode == "full" else full[M - 1:N]


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
           stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
           dilation: int | tuple[int] = 1) -> np.ndarray:
    """1-D layer: x (N, C, L), w (F, C, K), b (F,) or None -> y (N, F, L_out), cross-correlation.

    y[n, f, i] = b[f] + sum_{c,k} w[f, c, k] * xpad[n, c, i*s + k*d]; padding int, 'valid', 'same'.
    """
    for name, arr in (("x", x), ("w", w), ("b", b)):
        if arr is not None and not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"):
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"conv1d takes float32 or float64 arrays, got {name} of {got}")
    N, C, L = x.shape
    F, Cw, K = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has C = {C}")
    if b is not None and b.shape != (F,):
        raise ValueError(f"b must have shape (F,) = ({F},) or be None, got {b.shape}")
    s, d = single(stride, "stride"), single(dilation, "dilation")
    before, after = pads(padding, K, s, d)
    L_out = output_size(L, K, s, (before, after), d)
    xp = np.pad(x, ((0, 0), (0, 0), (before, after)))  # (N, C, L + before + after)
    win = sliding_window_view(xp, d * (K - 1) + 1, axis=2)[:, :, ::s, ::d]  # (N, C, L_out, K), a view
    cols = win.transpose(0, 1, 3, 2).reshape(N, C * K, L_out)  # im2col: the one copy
    y = w.reshape(F, C * K).astype(x.dtype) @ cols  # (F, C*K) @ (N, C*K, L_out) -> (N, F, L_out)
    if b is not None:
        y += b.astype(x.dtype)[:, None]  # (F, 1) broadcast over N and L_out
    return y


def single(value: int | tuple[int], name: str, minimum: int = 1) -> int:
    """An int >= minimum, or a 1-tuple holding one (PyTorch's conv1d takes both)."""
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(v)


def pads(padding: int | tuple[int] | str, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) zeros for an int, 'valid' or 'same' (stride 1; the odd zero goes after)."""
    if padding == "same":
        if stride != 1:
            raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
        total = dilation * (kernel - 1)
        return total // 2, total - total // 2
    if padding == "valid":
        return 0, 0
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, 'valid' or 'same', got {padding!r}")
    p = single(padding, "padding", minimum=0)
    return p, p
