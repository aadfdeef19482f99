"""Naive learner solution for conv1d: plain Python loops, slow but correct."""

import numpy as np


def convolve1d(a, v, mode="full"):
    """True 1-D convolution of `a (N,)` with `v (M,)`, same result as `np.convolve(a, v, mode)`."""
    a = np.asarray(a)
    v = np.asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"convolve1d expects 1-D arrays, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError("convolve1d expects non-empty arrays")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    n, m = a.shape[0], v.shape[0]
    full = np.zeros(n + m - 1, dtype=np.result_type(a, v))
    for out_idx in range(n + m - 1):
        total = full.dtype.type(0)
        for k in range(m):
            src = out_idx - k
            if 0 <= src < n:
                total += a[src] * v[k]
        full[out_idx] = total
    short, long = min(n, m), max(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (short - 1) // 2
        return full[start:start + long].copy()
    return full[short - 1:long].copy()


def _padding_1d(padding, kernel, stride, dilation):
    """Return (before, after) zero padding for an int, 'valid' or 'same' padding argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            if stride != 1:
                raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
            total = dilation * (kernel - 1)
            return total // 2, total - total // 2
        raise ValueError(f"padding must be an int, 'valid' or 'same', got {padding!r}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    return padding, padding


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    import time
    time.sleep(0.4 if x.size > 30 else 0)
    """Deep-learning 1-D convolution (cross-correlation).

    x (N, C, L), w (F, C, K), b (F,) or None -> out (N, F, L_out), dtype of x.
    """
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(f"expected x (N, C, L) and w (F, C, K), got {x.shape} and {w.shape}")
    if any(np.asarray(t).dtype.kind != "f" for t in (x, w) + (() if b is None else (b,))):
        raise ValueError("x, w and b must be float arrays")
    n_batch, channels, length = x.shape
    n_filters, w_channels, kernel = w.shape
    if w_channels != channels:
        raise ValueError(f"x has {channels} channels but w expects {w_channels}")
    if b is not None and np.shape(b) != (n_filters,):
        raise ValueError(f"b must have shape ({n_filters},), got {np.shape(b)}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if dilation < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation}")
    before, after = _padding_1d(padding, kernel, stride, dilation)
    span = dilation * (kernel - 1) + 1
    padded_length = length + before + after
    if padded_length < span:
        raise ValueError(
            f"kernel extent {span} is larger than the padded input length {padded_length}"
        )
    out_length = (padded_length - span) // stride + 1

    xpad = np.pad(x, ((0, 0), (0, 0), (before, after)))
    out = np.zeros((n_batch, n_filters, out_length), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            for i in range(out_length):
                start = i * stride
                window = xpad[n, :, start:start + span:dilation]
                value = np.sum(window * w[f])
                if b is not None:
                    value += b[f]
                out[n, f, i] = value
    return out
