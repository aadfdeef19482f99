"""Mistaken variants of conv1d: `convolve1d` (np.convolve semantics) and the `conv1d` layer."""

from __future__ import annotations

import numpy as np

from grader.cases import Variant
from grader.variants._geometry import ntuple, resolve_padding
from solutions.conv1d import conv1d, convolve1d

# A variant returns the right answer on cases its mistake does not affect (the engine skips
# those), so that every pair of mistakes meets, and can be told apart, on some case.

# --- convolve1d ----------------------------------------------------------------------------------


def _long_short(a: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (v, a) if v.size > a.size else (a, v)


def not_flipped(a, v, mode="full"):
    """Correlation instead of convolution: slid v without reversing it."""
    return convolve1d(a, v[::-1], mode)


def not_flipped_after_swap(a, v, mode="full"):
    """Correlation, after swapping so that the shorter array slides (over the longer one)."""
    long, short = _long_short(a, v)
    return convolve1d(long, short[::-1], mode)


def same_offset(a, v, mode="full"):
    """'same' started at min(N, M) // 2 instead of (min(N, M) - 1) // 2 (off for even kernels)."""
    if mode != "same":
        return convolve1d(a, v, mode)
    full = convolve1d(a, v, "full")
    return full[min(a.size, v.size) // 2:][:max(a.size, v.size)]


def same_symmetric_pad(a, v, mode="full"):
    """'same' padded (M - 1) // 2 on both sides, then a 'valid' pass: one short for even M."""
    if mode != "same":
        return convolve1d(a, v, mode)
    long, short = _long_short(a, v)
    return convolve1d(np.pad(long, (short.size - 1) // 2), short, "valid")


def no_swap(a, v, mode="full"):
    """Kept N = len(a) as the long length when the kernel is longer: same has N, valid N-M+1."""
    if v.size <= a.size or mode == "full":
        return convolve1d(a, v, mode)
    full = convolve1d(a, v, "full")
    M, N = v.size, a.size
    return full[(M - 1) // 2:][:N] if mode == "same" else full[M - 1:N]


def valid_short(a, v, mode="full"):
    """'valid' with max(N, M) - min(N, M) elements: the + 1 forgotten."""
    if mode != "valid":
        return convolve1d(a, v, mode)
    full = convolve1d(a, v, "full")
    return full[min(a.size, v.size) - 1:max(a.size, v.size) - 1]


# --- conv1d layer --------------------------------------------------------------------------------


def _pads(w, stride, padding, dilation) -> tuple[int, int]:
    s, d = ntuple(stride, "stride", 1), ntuple(dilation, "dilation", 1)
    return resolve_padding(padding, (w.shape[2],), s, d)[0]


def _length(x, w, b, stride, padding, dilation) -> int:
    """L_out of the right answer (raises where the reference raises)."""
    return conv1d(x, w, b, stride, padding, dilation).shape[2]


def _explicit(x, before, after):
    return np.pad(x, ((0, 0), (0, 0), (before, after)))


def flipped(x, w, b=None, stride=1, padding=0, dilation=1):
    """True convolution: the kernel reversed."""
    return conv1d(x, w[..., ::-1], b, stride, padding, dilation)


def same_extra_left(x, w, b=None, stride=1, padding=0, dilation=1):
    """'same' put the odd extra padding cell before the signal instead of after it."""
    if padding != "same":
        return conv1d(x, w, b, stride, padding, dilation)
    before, after = _pads(w, stride, padding, dilation)
    return conv1d(_explicit(x, after, before), w, b, stride, 0, dilation)


def same_symmetric(x, w, b=None, stride=1, padding=0, dilation=1):
    """'same' padded total // 2 on both sides: one short when the total padding is odd."""
    if padding != "same":
        return conv1d(x, w, b, stride, padding, dilation)
    before, _ = _pads(w, stride, padding, dilation)
    return conv1d(_explicit(x, before, before), w, b, stride, 0, dilation)


def stride_ignored(x, w, b=None, stride=1, padding=0, dilation=1):
    """Stride used for L_out only: the stride-1 result, cropped."""
    L_out = _length(x, w, b, stride, padding, dilation)
    return conv1d(x, w, b, 1, padding, dilation)[..., :L_out]


def padding_one_sided(x, w, b=None, stride=1, padding=0, dilation=1):
    """All the padding put after the signal."""
    before, after = _pads(w, stride, padding, dilation)
    return conv1d(_explicit(x, 0, before + after), w, b, stride, 0, dilation)


def padding_forgotten(x, w, b=None, stride=1, padding=0, dilation=1):
    """No padding at all."""
    _length(x, w, b, stride, padding, dilation)
    return conv1d(x, w, b, stride, 0, dilation)


def bias_omitted(x, w, b=None, stride=1, padding=0, dilation=1):
    """The bias never added."""
    if b is None:
        return conv1d(x, w, b, stride, padding, dilation)
    return conv1d(x, w, None, stride, padding, dilation)


def bias_per_channel(x, w, b=None, stride=1, padding=0, dilation=1):
    """The bias added inside the channel loop, C times."""
    if b is None:
        return conv1d(x, w, b, stride, padding, dilation)
    return conv1d(x, w, b * x.shape[1], stride, padding, dilation)


def bias_along_length(x, w, b=None, stride=1, padding=0, dilation=1):
    """The bias broadcast along L_out (b[None, None, :]) instead of along F."""
    if b is None or b.size == 1:  # one bias value broadcasts alike along any axis: no mistake
        return conv1d(x, w, b, stride, padding, dilation)
    return conv1d(x, w, None, stride, padding, dilation) + b


def first_channel(x, w, b=None, stride=1, padding=0, dilation=1):
    """Only the first input channel used."""
    return conv1d(x[:, :1], w[:, :1], b, stride, padding, dilation)


def last_channel(x, w, b=None, stride=1, padding=0, dilation=1):
    """Assigned (=) inside the channel loop: only the last input channel is left."""
    return conv1d(x[:, -1:], w[:, -1:], b, stride, padding, dilation)


def dilation_plus_one(x, w, b=None, stride=1, padding=0, dilation=1):
    """Dilation d read as d zeros between taps: taps d + 1 apart."""
    (d,) = ntuple(dilation, "dilation", 1)
    return conv1d(x, w, b, stride, padding, d + 1)


def dilation_ignored(x, w, b=None, stride=1, padding=0, dilation=1):
    """Dilation used for the padding and L_out, but taps read densely."""
    L_out = _length(x, w, b, stride, padding, dilation)
    before, after = _pads(w, stride, padding, dilation)
    return conv1d(_explicit(x, before, after), w, b, stride, 0, 1)[..., :L_out]


def extent_d_times_k(x, w, b=None, stride=1, padding=0, dilation=1):
    """The dilated kernel's extent taken as d*K instead of d*(K-1)+1: d-1 positions short."""
    (s,), (d,) = ntuple(stride, "stride", 1), ntuple(dilation, "dilation", 1)
    before, after = _pads(w, stride, padding, dilation)
    L_out = (x.shape[2] + before + after - d * w.shape[2]) // s + 1
    if L_out < 1:
        raise ValueError("output size < 1")
    return conv1d(_explicit(x, before, after), w, b, stride, 0, dilation)[..., :L_out]


def same_without_dilation(x, w, b=None, stride=1, padding=0, dilation=1):
    """'same' padded K-1 in total, as if the kernel were dense: d-1 short per tap gap."""
    if padding != "same" or ntuple(stride, "stride", 1) != (1,):
        return conv1d(x, w, b, stride, padding, dilation)
    total = w.shape[2] - 1
    return conv1d(_explicit(x, total // 2, total - total // 2), w, b, stride, 0, dilation)


def im2col_order_mismatch(x, w, b=None, stride=1, padding=0, dilation=1):
    """Columns flattened tap-major (K, C), the kernel channel-major (C, K): each flat weight meets
    the column of another (channel, tap)."""
    F, C, K = w.shape
    paired = w.reshape(F, K, C).transpose(0, 2, 1)  # w's flat order read as (K, C)
    return conv1d(x, paired, b, stride, padding, dilation)


def same_with_stride(x, w, b=None, stride=1, padding=0, dilation=1):
    """'same' padding accepted with a stride above 1 instead of raising ValueError."""
    if padding != "same":
        return conv1d(x, w, b, stride, padding, dilation)
    before, after = _pads(w, 1, padding, dilation)
    return conv1d(_explicit(x, before, after), w, b, stride, 0, dilation)


def size_int_truncated(x, w, b=None, stride=1, padding=0, dilation=1):
    """L_out = int((L + 2p - d*(K-1) - 1) / s) + 1: truncation toward zero instead of floor, so a
    kernel slightly longer than the padded input still gets one output (reads past it are 0)."""
    (s,), (d,) = ntuple(stride, "stride", 1), ntuple(dilation, "dilation", 1)
    before, after = _pads(w, stride, padding, dilation)
    span = x.shape[2] + before + after - d * (w.shape[2] - 1) - 1
    L_out = int(span / s) + 1
    if L_out < 1:
        raise ValueError("no output even with truncation")
    room = after + max(0, -span)
    return conv1d(_explicit(x, before, room), w, b, stride, 0, dilation)[..., :L_out]


VARIANTS: tuple[Variant, ...] = (
    Variant("dilation-extent-d-times-k", "conv1d", extent_d_times_k),
    Variant("same-ignores-dilation", "conv1d", same_without_dilation),
    Variant("same-with-stride", "conv1d", same_with_stride),
    Variant("im2col-order-mismatch", "conv1d", im2col_order_mismatch),
    Variant("output-size-off-by-one", "conv1d", size_int_truncated),
    Variant("kernel-not-flipped", "convolve1d", not_flipped),
    Variant("kernel-not-flipped", "convolve1d", not_flipped_after_swap),
    Variant("same-offset", "convolve1d", same_offset),
    Variant("same-symmetric-pad", "convolve1d", same_symmetric_pad),
    Variant("no-swap-longer-kernel", "convolve1d", no_swap),
    Variant("valid-length", "convolve1d", valid_short),
    Variant("kernel-flipped", "conv1d", flipped),
    Variant("same-extra-pad-left", "conv1d", same_extra_left),
    Variant("same-symmetric-pad", "conv1d", same_symmetric),
    Variant("stride-ignored", "conv1d", stride_ignored),
    Variant("padding-ignored", "conv1d", padding_one_sided),
    Variant("padding-ignored", "conv1d", padding_forgotten),
    Variant("bias-wrong-axis", "conv1d", bias_omitted),
    Variant("bias-wrong-axis", "conv1d", bias_per_channel),
    Variant("bias-wrong-axis", "conv1d", bias_along_length),
    Variant("channels-not-summed", "conv1d", first_channel),
    Variant("channels-not-summed", "conv1d", last_channel),
    Variant("dilation-off-by-one", "conv1d", dilation_plus_one),
    Variant("dilation-ignored", "conv1d", dilation_ignored),
)
