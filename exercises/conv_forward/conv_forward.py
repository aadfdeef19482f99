"""Exercise conv_forward: the forward pass of a 2-D convolution layer, NCHW layout."""



def conv_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution layer (cross-correlation, no kernel flip), NCHW layout.

    x: (N, C, H, W) input, float32 or float64; not modified, may be read-only or non-contiguous.
    w: (F, C, KH, KW) filters.
    b: (F,) biases, one per filter, or None for no bias.
    stride: int or (sh, sw) pair, each >= 1.
    padding: int or (ph, pw) pair of zeros on both sides of H and W, each >= 0; or "valid" (0), or
        "same" (stride 1 only: K - 1 in total per axis, (K - 1) // 2 before, the rest after).
    Returns out: (N, F, H_out, W_out), dtype of x, with
        out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, i * sh + u, j * sw + v]
        H_out = (H + pad_top + pad_bottom - KH) // sh + 1
        W_out = (W + pad_left + pad_right - KW) // sw + 1
    (an int or pair padding puts ph zeros at the top and at the bottom; "same" may be asymmetric).
    Raises ValueError if a stride is < 1, a padding is < 0 or an unknown string, "same" comes with a
    stride other than 1, w.shape[1] != C, H_out < 1 or W_out < 1, or x, w or b is not a float array.
    """
    raise NotImplementedError("implement conv_forward")
