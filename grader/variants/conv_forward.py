"""Mistaken variants of conv_forward, the NCHW convolution layer forward pass."""

from __future__ import annotations

import numpy as np

from grader.cases import Variant
from grader.variants._geometry import pair, resolve_padding
from solutions.conv_forward import conv_forward

# A variant returns the right answer on cases its mistake does not affect (the engine skips
# those), so that every pair of mistakes meets, and can be told apart, on some case.


def _pads(w, stride, padding) -> tuple[tuple[int, int], tuple[int, int]]:
    return resolve_padding(padding, w.shape[2:], pair(stride, "stride"), (1, 1))


def _explicit(x, pads):
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))


def flipped(x, w, b, stride=1, padding=0):
    """True convolution: the kernel rotated by 180 degrees."""
    return conv_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


def size_no_plus_one(x, w, b, stride=1, padding=0):
    """H_out = (H + 2p - KH) // s without the + 1 (same for W): the last row and column missing."""
    out = conv_forward(x, w, b, stride, padding)
    return out[:, :, :-1, :-1]


def size_ceil(x, w, b, stride=1, padding=0):
    """ceil instead of floor: one more row/column where the stride does not divide (zeros read)."""
    (top, bottom), (left, right) = _pads(w, stride, padding)
    (sh, sw), (KH, KW) = pair(stride, "stride"), w.shape[2:]
    H, W = x.shape[2] + top + bottom, x.shape[3] + left + right
    H_out, W_out = -(-(H - KH) // sh) + 1, -(-(W - KW) // sw) + 1
    pads = ((top, bottom + sh), (left, right + sw))
    return conv_forward(_explicit(x, pads), w, b, stride, 0)[:, :, :H_out, :W_out]


def stride_ignored(x, w, b, stride=1, padding=0):
    """Stride used for the output size only: the stride-1 result, cropped."""
    H_out, W_out = conv_forward(x, w, b, stride, padding).shape[2:]
    return conv_forward(_explicit(x, _pads(w, stride, padding)), w, b, 1, 0)[:, :, :H_out, :W_out]


def padding_one_sided(x, w, b, stride=1, padding=0):
    """All the padding put at the bottom and the right."""
    (top, bottom), (left, right) = _pads(w, stride, padding)
    return conv_forward(_explicit(x, ((0, top + bottom), (0, left + right))), w, b, stride, 0)


def padding_forgotten(x, w, b, stride=1, padding=0):
    """No padding at all."""
    _pads(w, stride, padding)
    return conv_forward(x, w, b, stride, 0)


def batch_axes_padded(x, w, b, stride=1, padding=0):
    """np.pad(x, p) padded N and C too; sample n, channel c then read xpad[n, c] (shifted by p)."""
    if isinstance(padding, str) or not isinstance(padding, (int, np.integer)):
        return conv_forward(x, w, b, stride, padding)
    N, C = x.shape[:2]
    return conv_forward(np.pad(x, padding)[:N, :C], w, b, stride, 0)


def bias_omitted(x, w, b, stride=1, padding=0):
    """The bias never added."""
    return conv_forward(x, w, np.zeros_like(b), stride, padding)


def bias_per_channel(x, w, b, stride=1, padding=0):
    """The bias added inside the channel loop, C times."""
    return conv_forward(x, w, b * x.shape[1], stride, padding)


def bias_along_width(x, w, b, stride=1, padding=0):
    """The bias broadcast along W_out (out + b) instead of along F."""
    if b is None or b.size == 1:  # one bias value broadcasts alike along any axis: no mistake
        return conv_forward(x, w, b, stride, padding)
    return conv_forward(x, w, np.zeros_like(b), stride, padding) + b


def first_channel(x, w, b, stride=1, padding=0):
    """Only the first input channel used."""
    return conv_forward(x[:, :1], w[:, :1], b, stride, padding)


def last_channel(x, w, b, stride=1, padding=0):
    """Assigned (=) inside the channel loop: only the last input channel is left."""
    return conv_forward(x[:, -1:], w[:, -1:], b, stride, padding)


def kernel_dims_swapped(x, w, b, stride=1, padding=0):
    """F, C, KW, KH = w.shape: (KW, KH) windows multiplied with the flattened kernel (im2col)."""
    F, C, KH, KW = w.shape
    return conv_forward(x, w.reshape(F, C, KW, KH), b, stride, padding)


def pairs_swapped(x, w, b, stride=1, padding=0):
    """(h, w) pairs of stride and padding read as (w, h)."""
    def swap(v):
        return tuple(v)[::-1] if isinstance(v, (tuple, list)) else v

    return conv_forward(x, w, b, swap(stride), swap(padding))


def size_int_truncated(x, w, b, stride=1, padding=0):
    """H_out = int((H + 2p - KH) / s) + 1: truncation toward zero, not floor, so a kernel slightly
    larger than the padded input still gets one window (its reads past the end taken as zero)."""
    pads, (sh, sw) = _pads(w, stride, padding), pair(stride, "stride")
    (top, bottom), (left, right) = pads
    H, W = x.shape[2] + top + bottom, x.shape[3] + left + right
    (KH, KW) = w.shape[2:]
    H_out, W_out = int((H - KH) / sh) + 1, int((W - KW) / sw) + 1
    if min(H_out, W_out) < 1:
        raise ValueError("no window even with truncation")
    room = ((top, bottom + max(0, KH - H)), (left, right + max(0, KW - W)))
    return conv_forward(_explicit(x, room), w, b, stride, 0)[:, :, :H_out, :W_out]


def same_extra_left(x, w, b, stride=1, padding=0):
    """'same' put the odd extra padding row/column at the top/left instead of the bottom/right."""
    if padding != "same":
        return conv_forward(x, w, b, stride, padding)
    pads = tuple((after, before) for before, after in _pads(w, stride, padding))
    return conv_forward(_explicit(x, pads), w, b, stride, 0)


def _im2col_scrambled(out: np.ndarray, filters_first: bool) -> np.ndarray:
    """The (F, N*H_out*W_out) (or (N*H_out*W_out, F)) product reshaped straight to
    (N, F, H_out, W_out), without the transpose that puts N before F."""
    flat = out.transpose(1, 0, 2, 3) if filters_first else out.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(flat).reshape(out.shape)


def im2col_fnhw(x, w, b, stride=1, padding=0):
    """im2col product (F, N*H_out*W_out), bias added to it, reshaped without the transpose."""
    return _im2col_scrambled(conv_forward(x, w, b, stride, padding), True)


def im2col_fnhw_bias_after(x, w, b, stride=1, padding=0):
    """im2col product (F, N*H_out*W_out) reshaped without the transpose, then the bias added."""
    plain = conv_forward(x, w, np.zeros_like(b), stride, padding)
    return _im2col_scrambled(plain, True) + b[None, :, None, None]


def im2col_nhwf(x, w, b, stride=1, padding=0):
    """im2col product (N*H_out*W_out, F), bias added to it, reshaped without the transpose."""
    return _im2col_scrambled(conv_forward(x, w, b, stride, padding), False)


def im2col_order_mismatch(x, w, b, stride=1, padding=0):
    """Columns flattened tap-major (KH, KW, C), the kernel channel-major (C, KH, KW): each flat
    weight meets the column of another (channel, tap)."""
    F, C, KH, KW = w.shape
    paired = w.reshape(F, KH, KW, C).transpose(0, 3, 1, 2)  # w's flat order read as (KH, KW, C)
    return conv_forward(x, paired, b, stride, padding)


VARIANTS: tuple[Variant, ...] = (
    Variant("output-size-off-by-one", "conv_forward", size_int_truncated),
    Variant("same-extra-pad-left", "conv_forward", same_extra_left),
    Variant("im2col-order-mismatch", "conv_forward", im2col_order_mismatch),
    Variant("im2col-no-transpose", "conv_forward", im2col_fnhw),
    Variant("im2col-no-transpose", "conv_forward", im2col_fnhw_bias_after),
    Variant("im2col-no-transpose", "conv_forward", im2col_nhwf),
    Variant("kernel-flipped", "conv_forward", flipped),
    Variant("output-size-off-by-one", "conv_forward", size_no_plus_one),
    Variant("output-size-off-by-one", "conv_forward", size_ceil),
    Variant("stride-ignored", "conv_forward", stride_ignored),
    Variant("padding-ignored", "conv_forward", padding_one_sided),
    Variant("padding-ignored", "conv_forward", padding_forgotten),
    Variant("padded-batch-axes", "conv_forward", batch_axes_padded),
    Variant("bias-wrong-axis", "conv_forward", bias_omitted),
    Variant("bias-wrong-axis", "conv_forward", bias_per_channel),
    Variant("bias-wrong-axis", "conv_forward", bias_along_width),
    Variant("channels-not-summed", "conv_forward", first_channel),
    Variant("channels-not-summed", "conv_forward", last_channel),
    Variant("hw-swapped", "conv_forward", kernel_dims_swapped),
    Variant("hw-swapped", "conv_forward", pairs_swapped),
)
