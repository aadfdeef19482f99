"""Exercise conv_backward: the gradients of a 2-D convolution layer, NCHW layout."""



def conv_backward(dout, x, w, stride=1, padding=0):
    """Backward pass of the 2-D convolution layer of conv_forward (cross-correlation), NCHW layout.

    dout: (N, F, H_out, W_out) upstream gradient dL/dout, float32 or float64.
    x: (N, C, H, W) forward input; not modified, may be read-only or non-contiguous.
    w: (F, C, KH, KW) filters.
    stride, padding: as in the forward pass (int or (h, w) pair; padding may also be "valid" or
        "same", which may pad one more row or column at the bottom/right), with
        H_out = (H + pad_top + pad_bottom - KH) // sh + 1
        W_out = (W + pad_left + pad_right - KW) // sw + 1
    Returns (dx, dw, db), all in the dtype of dout:
        dx: (N, C, H, W), from
            dxpad[n, c, i * sh + u, j * sw + v] += sum_f dout[n, f, i, j] * w[f, c, u, v]
            dx = dxpad[:, :, pad_top:pad_top + H, pad_left:pad_left + W]
            (rows no window reads get exactly 0)
        dw: (F, C, KH, KW),
            dw[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j] * xpad[n, c, i * sh + u, j * sw + v]
        db: (F,), db[f] = sum_{n, i, j} dout[n, f, i, j]
    Raises ValueError if a stride is < 1, a padding is < 0 or an unknown string, "same" comes with
    a stride other than 1, w.shape[1] != C, or dout.shape != (N, F, H_out, W_out).
    """
    raise NotImplementedError("implement conv_backward")
