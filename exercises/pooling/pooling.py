"""Exercise pooling: 2-D max and average pooling, forward and backward, NCHW layout."""



def max_pool_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D max pooling over each (n, c) plane, NCHW layout; the padding is -inf.

    x: (N, C, H, W) input, float32 or float64; not modified, may be read-only or non-contiguous.
    kernel_size: int or (KH, KW) pair, each >= 1.
    stride: None (meaning kernel_size), or int or (sh, sw) pair, each >= 1.
    padding: int or (ph, pw) pair with 0 <= ph <= KH // 2 and 0 <= pw <= KW // 2.
    Returns out: (N, C, H_out, W_out), dtype of x, with
        out[n, c, i, j] = max_{u, v} xpad[n, c, i * sh + u, j * sw + v]
        H_out = (H + 2 * ph - KH) // sh + 1,   W_out = (W + 2 * pw - KW) // sw + 1
    Raises ValueError if a kernel size or stride is < 1, a padding is < 0 or > K // 2,
    H_out < 1 or W_out < 1, or x is not a float array (integer inputs are outside the contract).
    """
    raise NotImplementedError("implement max_pool_forward")


def max_pool_backward(dout, x, kernel_size, stride=None, padding=0):
    """Backward pass of max_pool_forward: each window's first maximum gets its whole dout.

    dout: (N, C, H_out, W_out) upstream gradient, float32 or float64.
    x: (N, C, H, W) forward input; not modified, may be read-only or non-contiguous.
    kernel_size, stride, padding: as in max_pool_forward.
    Returns dx: (N, C, H, W), dtype of dout; dx[n, c, r, q] is the sum of dout[n, c, i, j] over
        the windows (i, j) whose first maximum in row-major order (np.argmax of the flattened
        window) is x[n, c, r, q].
    Raises ValueError for the same invalid arguments as max_pool_forward, or if
    dout.shape != (N, C, H_out, W_out).
    """
    raise NotImplementedError("implement max_pool_backward")


def avg_pool_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Forward pass of 2-D average pooling over each (n, c) plane, NCHW layout; the padding is 0.

    x: (N, C, H, W) input, float32 or float64; not modified, may be read-only or non-contiguous.
    kernel_size, stride, padding: as in max_pool_forward (stride None means kernel_size).
    count_include_pad: if True the divisor is KH * KW, else the number of in-image cells of
        the window.
    Returns out: (N, C, H_out, W_out), dtype of x, with
        out[n, c, i, j] = sum_{u, v} xpad[n, c, i * sh + u, j * sw + v] / divisor[i, j]
        H_out = (H + 2 * ph - KH) // sh + 1,   W_out = (W + 2 * pw - KW) // sw + 1
    Raises ValueError if a kernel size or stride is < 1, a padding is < 0 or > K // 2,
    H_out < 1 or W_out < 1, or x is not a float array (integer inputs are outside the contract).
    """
    raise NotImplementedError("implement avg_pool_forward")


def avg_pool_backward(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Backward pass of avg_pool_forward: each window spreads dout / divisor over its image cells.

    dout: (N, C, H_out, W_out) upstream gradient, float32 or float64.
    x_shape: (N, C, H, W), the shape of the forward input, as a tuple of ints.
    kernel_size, stride, padding, count_include_pad: as in avg_pool_forward.
    Returns dx: x_shape, dtype of dout; dx[n, c, r, q] is the sum of
        dout[n, c, i, j] / divisor[i, j] over the windows (i, j) that contain the cell (r, q).
    Raises ValueError for the same invalid arguments as avg_pool_forward, or if
    dout.shape != (N, C, H_out, W_out).
    """
    raise NotImplementedError("implement avg_pool_backward")
