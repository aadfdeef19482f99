"""Exercise conv_strided_dilated: the general 2-D convolution layer, forward and backward."""



def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a general 2-D convolution layer (cross-correlation, no flip), NCHW layout.

    x: (N, C, H, W) input, float32 or float64; not modified, may be read-only or non-contiguous.
    w: (F, C // groups, KH, KW) filters; filter f belongs to group g = f // (F // groups) and
        sees the input channels [g * Cg, (g + 1) * Cg), Cg = C // groups.
    b: (F,) biases, or None for no bias.
    stride, dilation: int or (h, w) pair, each >= 1 (dilation 1 is a dense kernel).
    padding: int or (ph, pw) pair of zeros on both sides, each >= 0; or "valid" (0), or "same"
        (stride 1 only: dilation * (K - 1) in total per axis, total // 2 before, the rest after).
    groups: int >= 1 dividing both C and F.
    Returns out: (N, F, H_out, W_out), dtype of x, with
        out[n, f, i, j] = b[f] + sum_{c < Cg, u, v} w[f, c, u, v]
                                 * xpad[n, g * Cg + c, i * sh + u * dil_h, j * sw + v * dil_w]
        H_out = (H + pad_top + pad_bottom - dil_h * (KH - 1) - 1) // sh + 1   (likewise W_out)
    Raises ValueError if a stride or dilation is < 1, a padding is < 0 or an unknown string,
    "same" comes with a stride other than 1, groups < 1, C % groups or F % groups is non-zero,
    w.shape[1] != C // groups, b.shape != (F,), H_out < 1 or W_out < 1, or x, w or b is not a
    float array (integer inputs are outside the contract: no silent cast).
    """
    raise NotImplementedError("implement conv2d")


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Backward pass of conv2d: the gradients with respect to x, w and the bias, NCHW layout.

    dout: (N, F, H_out, W_out) upstream gradient dL/dout, float32 or float64.
    x: (N, C, H, W) forward input; not modified, may be read-only or non-contiguous.
    w: (F, C // groups, KH, KW) filters.
    stride, padding, dilation, groups: as in conv2d; H_out and W_out as in conv2d.
    Returns (dx, dw, db), all in the dtype of dout (Cg = C // groups, g = f // (F // groups)):
        dx: (N, C, H, W), from
            dxpad[n, g * Cg + c, i * sh + u * dil_h, j * sw + v * dil_w]
                += dout[n, f, i, j] * w[f, c, u, v]
            dx = dxpad[:, :, pad_top:pad_top + H, pad_left:pad_left + W]   (unread rows get 0)
        dw: (F, C // groups, KH, KW),
            dw[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j]
                             * xpad[n, g * Cg + c, i * sh + u * dil_h, j * sw + v * dil_w]
        db: (F,), db[f] = sum_{n, i, j} dout[n, f, i, j]   (even if the forward had no bias)
    Raises ValueError for the same invalid arguments as conv2d, or if
    dout.shape != (N, F, H_out, W_out).
    """
    raise NotImplementedError("implement conv2d_backward")
