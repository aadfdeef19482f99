"""Mistaken variants of conv_strided_dilated: the general `conv2d` layer and `conv2d_backward`."""

from __future__ import annotations

import numpy as np

from grader.cases import Variant
from grader.variants._geometry import Pads, output_size, pad, pair, resolve_padding
from solutions.conv_strided_dilated import conv2d, conv2d_backward

# --- helpers -------------------------------------------------------------------------------------


def _geometry(w, stride, padding, dilation):
    """Validated stride and dilation pairs and the (before, after) pads, as the reference has them."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    return s, d, resolve_padding(padding, w.shape[2:], s, d)


def _size(x, w, stride, padding, dilation) -> tuple[int, int]:
    """(H_out, W_out) of the right answer (raises where the reference raises)."""
    s, d, pads = _geometry(w, stride, padding, dilation)
    return output_size(x.shape[2:], pads, w.shape[2:], s, d)


def _swap(value):
    """An (h, w) pair read as (w, h); ints and strings unchanged."""
    return tuple(value)[::-1] if isinstance(value, (tuple, list)) else value


def _times(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] * b[0], a[1] * b[1]


def _widened(pads: Pads, spatial, size, kernel, stride, dilation) -> Pads:
    """`pads` with zeros added after each axis so that `size` windows fit: a learner whose windows
    run past the input and who guards those reads by taking them as zero."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    return tuple((lo, hi + max(0, (o - 1) * ss + dd * (k - 1) + 1 - (n + lo + hi)))
                 for (lo, hi), o, n, k, ss, dd in zip(pads, size, spatial, kernel, s, d))


def _conv(x, w, b, pads: Pads, stride, dilation, groups, size=None) -> np.ndarray:
    """conv2d of x padded by explicit (before, after) pads, cropped to `size` if given (reads
    past the end taken as zero)."""
    if size is not None:
        pads = _widened(pads, x.shape[2:], size, w.shape[2:], stride, dilation)
    out = conv2d(pad(x, pads), w, b, stride, 0, dilation, groups)
    return out if size is None else out[:, :, :size[0], :size[1]]


def _grad(dout, x, w, pads: Pads, stride, dilation, groups):
    """Gradients of `_conv` for a learner who loops over dout's positions with these windows.

    dout is zero-extended to every window that fits (reads past the end taken as zero where fewer
    fit), then dx is cropped.
    """
    xp = pad(x, _widened(pads, x.shape[2:], dout.shape[2:], w.shape[2:], stride, dilation))
    size = output_size(xp.shape[2:], ((0, 0), (0, 0)), w.shape[2:], pair(stride, "stride"),
                       pair(dilation, "dilation"))
    g = np.zeros(dout.shape[:2] + size)
    g[:, :, :dout.shape[2], :dout.shape[3]] = dout
    dxp, dw, db = conv2d_backward(g, xp, w, stride, 0, dilation, groups)
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]], dw, db


def _same_pads(w, stride, padding, dilation, extra_left: bool = False) -> Pads:
    """The pads, 'same' resolved without the stride check; `extra_left` puts its odd cell first."""
    s = (1, 1) if padding == "same" else pair(stride, "stride")
    pads = resolve_padding(padding, w.shape[2:], s, pair(dilation, "dilation"))
    return tuple((after, before) for before, after in pads) if extra_left else pads


def _interleaved(F: int, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Filters sorted by f % groups, and the inverse permutation: block order read round-robin."""
    order = np.argsort(np.arange(F) % groups, kind="stable")
    return order, np.argsort(order)


# --- conv2d --------------------------------------------------------------------------------------


def dilation_plus_one(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Dilation d read as d zeros between taps: taps d + 1 apart (and dilation 0 accepted)."""
    dh, dw = pair(dilation, "dilation", minimum=0)
    return conv2d(x, w, b, stride, padding, (dh + 1, dw + 1), groups)


def dilation_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Dilation used for the padding and the output size, but taps read densely."""
    s, _, pads = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, pads, s, 1, groups, _size(x, w, stride, padding, dilation))


def dilation_size_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Output sized with the dense kernel, taps dilated: the extra windows read zeros past x."""
    s, (dh, dw), ((top, bottom), (left, right)) = _geometry(w, stride, padding, dilation)
    KH, KW = w.shape[2:]
    room = ((top, bottom + (dh - 1) * (KH - 1)), (left, right + (dw - 1) * (KW - 1)))
    return _conv(x, w, b, room, s, (dh, dw), groups)


def stride_scales_taps(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Taps read at xpad[i*s + u*d*s]: the stride applied to the taps as well as the window start."""
    s, d, pads = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, pads, s, _times(d, s), groups, _size(x, w, stride, padding, dilation))


def stride_on_taps(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Taps read at xpad[i + u*d*s]: the stride applied to the taps instead of the window start."""
    s, d, pads = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, pads, 1, _times(d, s), groups, _size(x, w, stride, padding, dilation))


def extent_d_times_k(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The dilated kernel's extent taken as d*K instead of d*(K-1)+1: d-1 rows/columns short."""
    s, d, pads = _geometry(w, stride, padding, dilation)
    size = tuple((n + lo + hi - dd * k) // ss + 1
                 for n, (lo, hi), k, ss, dd in zip(x.shape[2:], pads, w.shape[2:], s, d))
    if min(size) < 1:
        raise ValueError("output size < 1")
    return _conv(x, w, b, pads, s, d, groups, size)


def _dense_same_pads(w, stride, padding, dilation) -> Pads:
    """'same' resolved as if the kernel were dense (K-1 in total per axis); others as they are."""
    if padding != "same":
        return _geometry(w, stride, padding, dilation)[2]
    return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in w.shape[2:])


def same_without_dilation(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """'same' padded K-1 in total per axis, ignoring the dilation: the output is too small."""
    s, d, _ = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, _dense_same_pads(w, stride, padding, dilation), s, d, groups)


def _group_gather(x, w, groups: int, start) -> tuple[np.ndarray, list[int]]:
    """x's channels as the learner's groups read them: group g from channel start(g) on."""
    Cg, Fg = w.shape[1], w.shape[0] // groups
    starts = [start(g, Cg, Fg) for g in range(groups)]
    if max(starts) + Cg > x.shape[1]:
        raise ValueError("the slice is short: the learner's code crashes")
    return np.concatenate([x[:, st:st + Cg] for st in starts], axis=1), starts


def _start_at_g(g, Cg, Fg):
    return g


def _start_at_filters(g, Cg, Fg):
    return g * Fg


def group_slice_at_g(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Group g read input channels x[:, g:g + Cg] instead of x[:, g*Cg:(g + 1)*Cg]."""
    return conv2d(_group_gather(x, w, groups, _start_at_g)[0], w, b, stride, padding, dilation,
                  groups)


def group_slice_by_filters(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Group g read input channels from g*Fg (filters per group) instead of g*Cg."""
    return conv2d(_group_gather(x, w, groups, _start_at_filters)[0], w, b, stride, padding,
                  dilation, groups)


def stride_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Stride used for the output size only: the stride-1 result, cropped."""
    _, d, pads = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, pads, 1, d, groups, _size(x, w, stride, padding, dilation))


def group_interleaved(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Filter f given to group f % groups instead of f // (F // groups)."""
    order, back = _interleaved(w.shape[0], groups)
    out = conv2d(x, w[order], None if b is None else b[order], stride, padding, dilation, groups)
    return out[:, back]


def same_extra_left(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """'same' put the odd extra padding row/column before the input instead of after it."""
    s, d, _ = _geometry(w, stride, padding, dilation)
    return _conv(x, w, b, _same_pads(w, stride, padding, dilation, extra_left=True), s, d, groups)


def same_with_stride(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """'same' padding accepted with a stride above 1 instead of raising ValueError."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    return _conv(x, w, b, _same_pads(w, stride, padding, dilation), s, d, groups)


def first_channel(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Only the first input channel of each group used."""
    Cg = w.shape[1]
    return conv2d(x[:, ::Cg], w[:, :1], b, stride, padding, dilation, groups)


def last_channel(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Assigned (=) inside the channel loop: only the last input channel of each group is left."""
    Cg = w.shape[1]
    return conv2d(x[:, Cg - 1::Cg], w[:, -1:], b, stride, padding, dilation, groups)


def hw_swapped(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """(h, w) pairs of stride, padding and dilation read as (w, h)."""
    return conv2d(x, w, b, _swap(stride), _swap(padding), _swap(dilation), groups)


def flipped(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """True convolution: the kernel rotated by 180 degrees."""
    return conv2d(x, w[:, :, ::-1, ::-1], b, stride, padding, dilation, groups)


# --- conv2d_backward: the gradients of the mistaken forward ---------------------------------------


def grad_dilation_plus_one(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Dilation d read as d zeros between taps: taps d + 1 apart (and dilation 0 accepted)."""
    s = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation", minimum=0)
    d = (dh + 1, dw + 1)
    return _grad(dout, x, w, resolve_padding(padding, w.shape[2:], s, d), s, d, groups)


def grad_dilation_ignored(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Dilation used for the padding, but taps read densely."""
    _size(x, w, stride, padding, dilation)  # raises where the reference raises
    s, _, pads = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, pads, s, 1, groups)


def grad_stride_scales_taps(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Taps read at xpad[i*s + u*d*s]: the stride applied to the taps as well as the window start."""
    _size(x, w, stride, padding, dilation)  # raises where the reference raises
    s, d, pads = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, pads, s, _times(d, s), groups)


def grad_stride_on_taps(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Taps read at xpad[i + u*d*s]: the stride applied to the taps instead of the window start."""
    _size(x, w, stride, padding, dilation)  # raises where the reference raises
    s, d, pads = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, pads, 1, _times(d, s), groups)


def grad_same_without_dilation(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """'same' padded K-1 in total per axis, ignoring the dilation."""
    s, d, _ = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, _dense_same_pads(w, stride, padding, dilation), s, d, groups)


def _grad_group_slice(dout, x, w, stride, padding, dilation, groups, start):
    xg, starts = _group_gather(x, w, groups, start)
    dxg, dw, db = conv2d_backward(dout, xg, w, stride, padding, dilation, groups)
    Cg, dx = w.shape[1], np.zeros(x.shape)
    for g, st in enumerate(starts):
        dx[:, st:st + Cg] += dxg[:, g * Cg:(g + 1) * Cg]
    return dx, dw, db


def grad_group_slice_at_g(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Group g read input channels x[:, g:g + Cg] instead of x[:, g*Cg:(g + 1)*Cg]."""
    return _grad_group_slice(dout, x, w, stride, padding, dilation, groups, _start_at_g)


def grad_group_slice_by_filters(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Group g read input channels from g*Fg (filters per group) instead of g*Cg."""
    return _grad_group_slice(dout, x, w, stride, padding, dilation, groups, _start_at_filters)


def grad_buffer_not_reset(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """One dxpad buffer for all samples, never zeroed: dx[n] holds samples 0..n."""
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, dilation, groups)
    return np.cumsum(dx, axis=0), dw, db


def grad_stride_ignored(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Window (i, j) taken to start at (i, j): the stride ignored when indexing."""
    _size(x, w, stride, padding, dilation)  # raises where the reference raises
    _, d, pads = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, pads, 1, d, groups)


def grad_group_interleaved(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Filter f given to group f % groups instead of f // (F // groups)."""
    order, back = _interleaved(w.shape[0], groups)
    dx, dw, db = conv2d_backward(dout[:, order], x, w[order], stride, padding, dilation, groups)
    return dx, dw[back], db[back]


def grad_missing_remainder(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """dxpad sized to the rows the windows reach, so the rows a non-dividing stride skips are gone."""
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, dilation, groups)
    (sh, sw), (dh, dw_), ((top, _), (left, _)) = _geometry(w, stride, padding, dilation)
    KH, KW = w.shape[2:]
    reach_h = (dout.shape[2] - 1) * sh + dh * (KH - 1) + 1 - top
    reach_w = (dout.shape[3] - 1) * sw + dw_ * (KW - 1) + 1 - left
    return dx[:, :, :reach_h, :reach_w], dw, db


def grad_same_extra_left(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """'same' put the odd extra padding row/column before the input instead of after it."""
    s, d, _ = _geometry(w, stride, padding, dilation)
    return _grad(dout, x, w, _same_pads(w, stride, padding, dilation, extra_left=True), s, d, groups)


def grad_same_with_stride(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """'same' padding accepted with a stride above 1 instead of raising ValueError."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    return _grad(dout, x, w, _same_pads(w, stride, padding, dilation), s, d, groups)


def grad_first_channel(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Only the first input channel of each group used: the other channels get no gradient."""
    Cg = w.shape[1]
    dx1, dw1, db = conv2d_backward(dout, x[:, ::Cg], w[:, :1], stride, padding, dilation, groups)
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    dx[:, ::Cg], dw[:, :1] = dx1, dw1
    return dx, dw, db


def grad_hw_swapped(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """(h, w) pairs of stride, padding and dilation read as (w, h)."""
    s, d, pads = _geometry(w, _swap(stride), _swap(padding), _swap(dilation))
    return _grad(dout, x, w, pads, s, d, groups)


def grad_flipped(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """True convolution in the forward: the kernel rotated by 180 degrees."""
    dx, dw, db = conv2d_backward(dout, x, w[:, :, ::-1, ::-1], stride, padding, dilation, groups)
    return dx, dw[:, :, ::-1, ::-1], db


FWD, BWD = "conv2d", "conv2d_backward"

VARIANTS: tuple[Variant, ...] = (
    Variant("dilation-off-by-one", FWD, dilation_plus_one),
    Variant("dilation-ignored", FWD, dilation_ignored),
    Variant("dilation-size-ignored", FWD, dilation_size_ignored),
    Variant("stride-scales-taps", FWD, stride_scales_taps),
    Variant("stride-scales-taps", FWD, stride_on_taps),
    Variant("dilation-extent-d-times-k", FWD, extent_d_times_k),
    Variant("same-ignores-dilation", FWD, same_without_dilation),
    Variant("group-channel-slice", FWD, group_slice_at_g),
    Variant("group-channel-slice", FWD, group_slice_by_filters),
    Variant("stride-ignored", FWD, stride_ignored),
    Variant("group-interleaved", FWD, group_interleaved),
    Variant("same-extra-pad-left", FWD, same_extra_left),
    Variant("same-with-stride", FWD, same_with_stride),
    Variant("channels-not-summed", FWD, first_channel),
    Variant("channels-not-summed", FWD, last_channel),
    Variant("kernel-flipped", FWD, flipped),
    Variant("hw-swapped", FWD, hw_swapped),
    Variant("dilation-off-by-one", BWD, grad_dilation_plus_one),
    Variant("dilation-ignored", BWD, grad_dilation_ignored),
    Variant("stride-scales-taps", BWD, grad_stride_scales_taps),
    Variant("stride-scales-taps", BWD, grad_stride_on_taps),
    Variant("same-ignores-dilation", BWD, grad_same_without_dilation),
    Variant("group-channel-slice", BWD, grad_group_slice_at_g),
    Variant("group-channel-slice", BWD, grad_group_slice_by_filters),
    Variant("buffer-not-reset", BWD, grad_buffer_not_reset),
    Variant("stride-ignored", BWD, grad_stride_ignored),
    Variant("group-interleaved", BWD, grad_group_interleaved),
    Variant("dx-missing-remainder", BWD, grad_missing_remainder),
    Variant("same-extra-pad-left", BWD, grad_same_extra_left),
    Variant("same-with-stride", BWD, grad_same_with_stride),
    Variant("channels-not-summed", BWD, grad_first_channel),
    Variant("kernel-flipped", BWD, grad_flipped),
    Variant("hw-swapped", BWD, grad_hw_swapped),
)
