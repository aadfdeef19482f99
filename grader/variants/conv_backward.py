"""Mistaken variants of conv_backward: dx, dw, db of the NCHW convolution layer."""

from __future__ import annotations

import numpy as np

from grader.cases import Variant
from grader.variants._geometry import pair, resolve_padding
from solutions.conv_backward import conv_backward

# A variant returns the right answer on cases its mistake does not affect (the engine skips
# those), so that every pair of mistakes meets, and can be told apart, on some case.


def _pads(w, stride, padding) -> tuple[tuple[int, int], tuple[int, int]]:
    return resolve_padding(padding, w.shape[2:], pair(stride, "stride"), (1, 1))


def _explicit(x, pads):
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))


def _dxpad(dout, x, w, stride, padding):
    """The gradient of the padded input, with the pads: ((top, bottom), (left, right))."""
    pads = _pads(w, stride, padding)
    return conv_backward(dout, _explicit(x, pads), w, stride, 0)[0], pads


def _with_dx(dout, x, w, stride, padding, dx):
    _, dw, db = conv_backward(dout, x, w, stride, padding)
    return dx, dw, db


def _with_dw(dout, x, w, stride, padding, dw):
    dx, _, db = conv_backward(dout, x, w, stride, padding)
    return dx, dw, db


def _with_db(dout, x, w, stride, padding, db):
    dx, dw, _ = conv_backward(dout, x, w, stride, padding)
    return dx, dw, db


def not_cropped(dout, x, w, stride=1, padding=0):
    """dx is the gradient of the padded input."""
    return _with_dx(dout, x, w, stride, padding, _dxpad(dout, x, w, stride, padding)[0])


def crop_minus_p(dout, x, w, stride=1, padding=0):
    """Cropped with dxpad[:, :, p:-p, p:-p], empty when p == 0."""
    dxp, ((top, bottom), (left, right)) = _dxpad(dout, x, w, stride, padding)
    return _with_dx(dout, x, w, stride, padding, dxp[:, :, top:-bottom, left:-right])


def crop_top_left(dout, x, w, stride=1, padding=0):
    """Cropped dxpad[:, :, :H, :W]: the padding kept at the top/left, the end cut off."""
    H, W = x.shape[2:]
    dxp, _ = _dxpad(dout, x, w, stride, padding)
    return _with_dx(dout, x, w, stride, padding, dxp[:, :, :H, :W])


def crop_bottom_right(dout, x, w, stride=1, padding=0):
    """Cropped dxpad[:, :, -H:, -W:]: the start cut off, the padding kept at the bottom/right."""
    H, W = x.shape[2:]
    dxp, _ = _dxpad(dout, x, w, stride, padding)
    return _with_dx(dout, x, w, stride, padding, dxp[:, :, -H:, -W:])


def db_mean(dout, x, w, stride=1, padding=0):
    """db averaged over (n, i, j) instead of summed."""
    return _with_db(dout, x, w, stride, padding, dout.mean(axis=(0, 2, 3)))


def db_per_sample(dout, x, w, stride=1, padding=0):
    """db summed over (i, j) only: shape (N, F)."""
    return _with_db(dout, x, w, stride, padding, dout.sum(axis=(2, 3)))


def db_batch_only(dout, x, w, stride=1, padding=0):
    """db summed over the batch only: shape (F, H_out, W_out)."""
    return _with_db(dout, x, w, stride, padding, dout.sum(axis=0))


def dw_last_sample(dout, x, w, stride=1, padding=0):
    """dw assigned per sample: only the last sample's contribution is left."""
    dw = conv_backward(dout[-1:], x[-1:], w, stride, padding)[1]
    return _with_dw(dout, x, w, stride, padding, dw)


def dw_last_window(dout, x, w, stride=1, padding=0):
    """dw[f] = dout * window inside the (n, i, j) loops: only the last window is left."""
    last = np.zeros_like(dout)
    last[-1, :, -1, -1] = dout[-1, :, -1, -1]
    return _with_dw(dout, x, w, stride, padding, conv_backward(last, x, w, stride, padding)[1])


def _dx_assigned(dout, x, w, stride, padding):
    """dxpad[n, :, window] = sum_f dout[n, f, i, j] * w[f], windows in row-major order."""
    (sh, sw), (KH, KW) = pair(stride, "stride"), w.shape[2:]
    pads = _pads(w, stride, padding)
    H_out, W_out = dout.shape[2:]
    dxp = np.zeros(_explicit(x, pads).shape)
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW] = \
                np.einsum("nf,fcuv->ncuv", dout[:, :, i, j], w)
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]]


def dx_assigned(dout, x, w, stride=1, padding=0):
    """dx assigned window by window (=): overlapping windows keep only the last one."""
    return _with_dx(dout, x, w, stride, padding, _dx_assigned(dout, x, w, stride, padding))


def dx_assigned_per_filter(dout, x, w, stride=1, padding=0):
    """dx assigned inside the (n, f, i, j) loops: the last filter's last window wins."""
    dx = _dx_assigned(dout[:, -1:], x, w[-1:], stride, padding)
    return _with_dx(dout, x, w, stride, padding, dx)


def dx_unrotated(dout, x, w, stride=1, padding=0):
    """dx from the full correlation with the un-rotated kernel."""
    dx = conv_backward(dout, x, w[:, :, ::-1, ::-1], stride, padding)[0]
    return _with_dx(dout, x, w, stride, padding, dx)


def dx_stride_ignored(dout, x, w, stride=1, padding=0):
    """dout not spread by the stride: window (i, j) scattered back at (i, j) instead of (i*s, j*s)."""
    if pair(stride, "stride") == (1, 1):
        return conv_backward(dout, x, w, stride, padding)
    dxp, ((top, _), (left, _)) = _dxpad(dout, x, w, stride, padding)
    (H_out, W_out), (KH, KW) = dout.shape[2:], w.shape[2:]
    dense = np.zeros(x.shape[:2] + (H_out + KH - 1, W_out + KW - 1))
    dense = conv_backward(dout, dense, w, 1, 0)[0]  # the stride-1 scatter, top-left aligned
    dxp = np.zeros_like(dxp)
    dxp[:, :, :dense.shape[2], :dense.shape[3]] = dense
    dx = dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]]
    return _with_dx(dout, x, w, stride, padding, dx)


def dw_from_x(dout, x, w, stride=1, padding=0):
    """dw read x at (i*s + u, j*s + v) without the padding offset (zero past the end)."""
    (top, bottom), (left, right) = _pads(w, stride, padding)
    xz = _explicit(x, ((0, top + bottom), (0, left + right)))
    return _with_dw(dout, x, w, stride, padding, conv_backward(dout, xz, w, stride, 0)[1])


def fc_swapped(dout, x, w, stride=1, padding=0):
    """dx with w's F and C axes swapped (only runs when F == C)."""
    if w.shape[0] != w.shape[1]:
        raise ValueError("F != C: the learner's code crashes")
    dx = conv_backward(dout, x, w.transpose(1, 0, 2, 3), stride, padding)[0]
    return _with_dx(dout, x, w, stride, padding, dx)


def fc_swapped_one_filter(dout, x, w, stride=1, padding=0):
    """F and C swapped with F == 1: broadcasting gives every channel the kernel summed over C."""
    if w.shape[0] != 1:
        raise ValueError("only F == 1 broadcasts")
    summed = np.repeat(w.sum(axis=1, keepdims=True), w.shape[1], axis=1)
    return _with_dx(dout, x, w, stride, padding, conv_backward(dout, x, summed, stride, padding)[0])


def dx_last_filter(dout, x, w, stride=1, padding=0):
    """dx not summed over the filters: dxpad reset in the filter loop, the last filter's left."""
    dx = conv_backward(dout[:, -1:], x, w[-1:], stride, padding)[0]
    return _with_dx(dout, x, w, stride, padding, dx)


def dx_rot90_default_axes(dout, x, w, stride=1, padding=0):
    """np.rot90(w, 2) on its default axes (0, 1): F and C reversed, the taps not rotated."""
    dx = conv_backward(dout, x, w[::-1, ::-1, ::-1, ::-1], stride, padding)[0]
    return _with_dx(dout, x, w, stride, padding, dx)


def dx_buffer_not_reset(dout, x, w, stride=1, padding=0):
    """One dxpad buffer for all samples, never zeroed: dx[n] holds samples 0..n."""
    dx = np.cumsum(conv_backward(dout, x, w, stride, padding)[0], axis=0)
    return _with_dx(dout, x, w, stride, padding, dx)


def dw_dense_windows(dout, x, w, stride=1, padding=0):
    """dw from stride-1 windows of xpad: dw[f, c, u, v] = sum dout[n, f, i, j] xpad[i + u, j + v]."""
    xp = _explicit(x, _pads(w, stride, padding))
    (H_out, W_out), (KH, KW) = dout.shape[2:], w.shape[2:]
    dw = conv_backward(dout, xp[:, :, :H_out + KH - 1, :W_out + KW - 1], w, 1, 0)[1]
    return _with_dw(dout, x, w, stride, padding, dw)


def dx_no_remainder(dout, x, w, stride=1, padding=0):
    """dx through the transposed convolution without the rows and columns that a non-dividing
    stride leaves unvisited: dx is cropped to the span the windows reach."""
    (sh, sw), (KH, KW) = pair(stride, "stride"), w.shape[2:]
    (top, _), (left, _) = _pads(w, stride, padding)
    dx = conv_backward(dout, x, w, stride, padding)[0]
    reach_h = (dout.shape[2] - 1) * sh + KH - top
    reach_w = (dout.shape[3] - 1) * sw + KW - left
    return _with_dx(dout, x, w, stride, padding, dx[:, :, :reach_h, :reach_w])


VARIANTS: tuple[Variant, ...] = (
    Variant("dx-kernel-not-flipped", "conv_backward", dx_rot90_default_axes),
    Variant("buffer-not-reset", "conv_backward", dx_buffer_not_reset),
    Variant("dw-stride-ignored", "conv_backward", dw_dense_windows),
    Variant("dx-missing-remainder", "conv_backward", dx_no_remainder),
    Variant("dx-not-cropped", "conv_backward", not_cropped),
    Variant("dx-crop-pad-zero", "conv_backward", crop_minus_p),
    Variant("dx-crop-offset", "conv_backward", crop_top_left),
    Variant("dx-crop-offset", "conv_backward", crop_bottom_right),
    Variant("db-not-summed", "conv_backward", db_mean),
    Variant("db-not-summed", "conv_backward", db_per_sample),
    Variant("db-not-summed", "conv_backward", db_batch_only),
    Variant("dw-overwritten", "conv_backward", dw_last_sample),
    Variant("dw-overwritten", "conv_backward", dw_last_window),
    Variant("channels-not-summed", "conv_backward", dx_last_filter),
    Variant("dx-overwritten", "conv_backward", dx_assigned),
    Variant("dx-overwritten", "conv_backward", dx_assigned_per_filter),
    Variant("dx-kernel-not-flipped", "conv_backward", dx_unrotated),
    Variant("dx-stride-ignored", "conv_backward", dx_stride_ignored),
    Variant("dw-unpadded-input", "conv_backward", dw_from_x),
    Variant("fc-axes-swapped", "conv_backward", fc_swapped),
    Variant("fc-axes-swapped", "conv_backward", fc_swapped_one_filter),
)
