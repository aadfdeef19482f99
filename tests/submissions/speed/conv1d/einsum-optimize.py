# Correct and loop-free: conv1d is one np.einsum(optimize=True) over a window view;
# convolve1d one np.einsum over the windows of the zero-padded signal.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def convolve1d(a, v, mode="full"):
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim != 1 or v.ndim != 1 or not a.size or not v.size:
        raise ValueError("convolve1d needs two non-empty 1-D inputs")
    starts = {"full": lambda lo, hi: (0, lo + hi - 1),
              "same": lambda lo, hi: ((lo - 1) // 2, (lo - 1) // 2 + hi),
              "valid": lambda lo, hi: (lo - 1, hi)}
    if mode not in starts:
        raise ValueError(f"mode {mode!r} is not one of {sorted(starts)}")
    M = v.size
    dtype = np.result_type(a, v)
    windows = sliding_window_view(np.pad(a, (M - 1, M - 1)), M)  # (N + M - 1, M)
    full = np.einsum("nm,m->n", windows, v[::-1], optimize=True).astype(dtype)
    start, stop = starts[mode](min(a.size, M), max(a.size, M))
    return full[start:stop]


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError(f"x and w must be float, got {x.dtype} and {w.dtype}")
    if b is not None and b.dtype.kind != "f":
        raise ValueError(f"b must be float, got {b.dtype}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has C={x.shape[1]}, w has C={w.shape[1]}")
    if stride < 1 or dilation < 1:
        raise ValueError("stride and dilation must be >= 1")
    L, K = x.shape[2], w.shape[2]
    extent = dilation * (K - 1) + 1
    if padding in ("same", "valid"):
        if padding == "same" and stride > 1:
            raise ValueError("'same' padding requires stride 1")
        p0 = (extent - 1) // 2 if padding == "same" else 0
        p1 = extent - 1 - p0 if padding == "same" else 0
    elif isinstance(padding, str) or padding < 0:
        raise ValueError(f"invalid padding {padding!r}")
    else:
        p0 = p1 = padding
    L_out = (L + p0 + p1 - extent) // stride + 1
    if L_out < 1:
        raise ValueError(f"L_out={L_out} < 1 for L={L}, K={K}, dilation={dilation}")

    xp = np.pad(x, ((0, 0), (0, 0), (p0, p1)))
    win = sliding_window_view(xp, extent, axis=2)[:, :, :stride * L_out:stride, ::dilation]
    out = np.einsum("nclk,fck->nfl", win, w, optimize=True)  # (N, F, L_out)
    if b is not None:
        out += b[:, None]
    return out.astype(x.dtype, copy=False)
