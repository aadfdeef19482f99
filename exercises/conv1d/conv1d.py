"""Exercise conv1d: true 1-D convolution (np.convolve semantics) and the NCL conv1d layer."""



def convolve1d(a, v, mode="full"):
    """True 1-D convolution y[n] = sum_m a[m] * v[n - m] (the kernel is flipped), as np.convolve.

    a: (N,) non-empty 1-D signal, integer or float: an array or a Python list.
    v: (M,) non-empty 1-D kernel, integer or float: an array or a Python list.
    mode: "full", "same" or "valid".
    Returns y: 1-D, dtype np.result_type(a, v) (integer inputs give an exact integer output),
    of length
        full: N + M - 1,   same: max(N, M),   valid: max(N, M) - min(N, M) + 1
    where same = full[(min(N, M) - 1) // 2 :][: max(N, M)]
    and valid = full[min(N, M) - 1 : max(N, M)].
    Raises ValueError if a or v is empty or not 1-D, or if mode is unknown.
    """
    raise NotImplementedError("implement convolve1d")


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Forward pass of a 1-D convolution layer (cross-correlation, no kernel flip), NCL layout.

    x: (N, C, L) input, float32 or float64; not modified, may be read-only or non-contiguous.
    w: (F, C, K) filters.
    b: (F,) biases, or None for no bias.
    stride: int >= 1.  dilation: int >= 1 (1 is a dense kernel; extent dilation * (K - 1) + 1).
    padding: int >= 0 zeros at both ends of L, "valid" (0), or "same" (stride 1 only:
        dilation * (K - 1) in total, total // 2 before and the rest after).
    Returns y: (N, F, L_out), dtype of x, with
        y[n, f, i] = b[f] + sum_{c, k} w[f, c, k] * xpad[n, c, i * stride + k * dilation]
        L_out = (L + pad_before + pad_after - dilation * (K - 1) - 1) // stride + 1
    Raises ValueError if stride < 1, dilation < 1, padding < 0 or an unknown string,
    padding == "same" with stride > 1, w.shape[1] != C, b.shape != (F,), L_out < 1, or x, w or b
    is not a float array (integer inputs are outside the layer's contract: no silent cast).
    """
    raise NotImplementedError("implement conv1d")
