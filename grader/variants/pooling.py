"""Mistaken variants of pooling: max and average pooling, forward and backward."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.cases import Variant
from grader.variants._geometry import Pads, pad, pool_divisor, pool_params, taps
from solutions.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)

# --- helpers -------------------------------------------------------------------------------------


def _swap(value):
    """An (h, w) pair read as (w, h); ints and None unchanged."""
    return tuple(value)[::-1] if isinstance(value, (tuple, list)) else value


def _default_one(stride):
    if stride is not None:
        raise ValueError("the mistake is about stride=None")
    return 1


def _extend(dout: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """dout zero-extended to `size` windows: a learner who loops over dout with other windows.

    IndexError when fewer windows fit than dout has positions.
    """
    if size[0] < dout.shape[2] or size[1] < dout.shape[3]:
        raise IndexError("dout has more positions than windows fit")
    out = np.zeros(dout.shape[:2] + tuple(size))
    out[:, :, :dout.shape[2], :dout.shape[3]] = dout
    return out


def _crop(dxp: np.ndarray, pads: Pads, H: int, W: int) -> np.ndarray:
    (top, _), (left, _) = pads
    return dxp[:, :, top:top + H, left:left + W]


def _ceil_pads(x_shape, kernel_size, stride, padding):
    """Kernel, stride and pads with room for ceil((H + 2p - K) / s) + 1 windows (the extra ones
    partly past the input); ValueError when such a window would hold no image cell."""
    k, s, pads, _ = pool_params(x_shape, kernel_size, stride, padding)
    room = []
    for n, kk, ss, (p, _) in zip(x_shape[2:], k, s, pads):
        count = -(-(n + 2 * p - kk) // ss) + 1
        if (count - 1) * ss >= n + p:
            raise ValueError("a window would hold no image cell")
        room.append((p, p + max(0, (count - 1) * ss + kk - n - 2 * p)))
    return k, s, tuple(room)


def _short(out: np.ndarray) -> np.ndarray:
    """The output with the + 1 of the size formula forgotten: one row and one column short."""
    if min(out.shape[2:]) < 2:
        raise ValueError("the output size would be 0")
    return out[:, :, :-1, :-1]


def _across(out: np.ndarray, reduce) -> np.ndarray:
    """One value per (n, i, j) over all channels, repeated for every channel."""
    return np.broadcast_to(reduce(out, axis=1, keepdims=True), out.shape).copy()


def _avg(x, k, s, pads: Pads, count_include_pad: bool) -> np.ndarray:
    """Average pool of x zero-padded by explicit pads, over KH*KW or over the in-image cells."""
    total = avg_pool_forward(pad(x, pads), k, s)
    if count_include_pad:
        return total
    return total / avg_pool_forward(pad(np.ones((1, 1) + x.shape[2:]), pads), k, s)


# --- max_pool_forward ----------------------------------------------------------------------------


def max_zero_padding(x, kernel_size, stride=None, padding=0):
    """Padded with zeros instead of -inf."""
    k, s, pads, _ = pool_params(x.shape, kernel_size, stride, padding)
    return max_pool_forward(pad(x, pads), k, s)


def max_stride_one(x, kernel_size, stride=None, padding=0):
    """stride=None taken as 1 instead of kernel_size."""
    return max_pool_forward(x, kernel_size, _default_one(stride), padding)


def max_ceil(x, kernel_size, stride=None, padding=0):
    """Output size rounded up: the extra windows hang past the input (a truncated slice)."""
    k, s, room = _ceil_pads(x.shape, kernel_size, stride, padding)
    return max_pool_forward(pad(x, room, value=-np.inf), k, s)


def max_no_plus_one(x, kernel_size, stride=None, padding=0):
    """Output size without the + 1."""
    return _short(max_pool_forward(x, kernel_size, stride, padding))


def max_across_channels(x, kernel_size, stride=None, padding=0):
    """Maximum taken over all channels of the window (x[n, :, rows, cols].max())."""
    return _across(max_pool_forward(x, kernel_size, stride, padding), np.max)


def max_n_c_mixed(x, kernel_size, stride=None, padding=0):
    """N and C exchanged: the output laid out as (C, N, H_out, W_out)."""
    return max_pool_forward(x, kernel_size, stride, padding).swapaxes(0, 1)


def max_hw_swapped(x, kernel_size, stride=None, padding=0):
    """(h, w) pairs of kernel_size, stride and padding read as (w, h)."""
    return max_pool_forward(x, _swap(kernel_size), _swap(stride), _swap(padding))


# --- max_pool_backward ---------------------------------------------------------------------------


def _route(dout, x, kernel_size, stride, padding, pick, accumulate: bool = True) -> np.ndarray:
    """dx when each window sends its dout to one cell, (row, col) = pick(window, KH, KW).

    `window` is (N, C, H_out, W_out, KH*KW). With `accumulate=False` the windows assign in
    row-major order, so the last window that picks a cell wins.
    """
    (KH, KW), (sh, sw), pads, out = pool_params(x.shape, kernel_size, stride, padding)
    xp = pad(x, pads, value=-np.inf)
    win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]
    r, q = pick(win.reshape(x.shape[:2] + out + (KH * KW,)), KH, KW)  # (N, C, H_out, W_out) each
    n, c, i, j = np.indices(dout.shape)
    at = (n, c, i * sh + r, j * sw + q)
    dxp = np.zeros(xp.shape)
    if accumulate:
        np.add.at(dxp, at, dout)
    else:
        for ij in np.ndindex(*out):
            dxp[tuple(a[..., ij[0], ij[1]] for a in at)] = dout[..., ij[0], ij[1]]
    return _crop(dxp, pads, *x.shape[2:])


def _first(win, KH, KW):
    return divmod(win.argmax(axis=-1), KW)


def _last(win, KH, KW):
    return divmod(KH * KW - 1 - win[..., ::-1].argmax(axis=-1), KW)


def _unravel_by_kh(win, KH, KW):
    return divmod(win.argmax(axis=-1), KH)


def _ties(dout, x, kernel_size, stride, padding, split: bool) -> np.ndarray:
    """dx when every tied maximum gets dout, or (split) dout / number of ties."""
    k, s, pads, out = pool_params(x.shape, kernel_size, stride, padding)
    xp = pad(x, pads, value=-np.inf)
    top = max_pool_forward(x, kernel_size, stride, padding)
    hits = [(idx, xp[idx] == top) for _, _, idx in taps(k, s, out)]
    count = sum(hit for _, hit in hits) if split else 1
    dxp = np.zeros(xp.shape)
    for idx, hit in hits:
        dxp[idx] += dout * hit / count
    return _crop(dxp, pads, *x.shape[2:])


def grad_all_ties(dout, x, kernel_size, stride=None, padding=0):
    """Gradient routed to every tied maximum (mask = window == window.max())."""
    return _ties(dout, x, kernel_size, stride, padding, split=False)


def grad_split_ties(dout, x, kernel_size, stride=None, padding=0):
    """Gradient split equally among the tied maxima."""
    return _ties(dout, x, kernel_size, stride, padding, split=True)


def grad_last_tie(dout, x, kernel_size, stride=None, padding=0):
    """Gradient given to the last tied maximum in row-major order."""
    return _route(dout, x, kernel_size, stride, padding, _last)


def grad_overwritten(dout, x, kernel_size, stride=None, padding=0):
    """dx[cell] = dout instead of +=: where windows share a maximum, the last window wins."""
    return _route(dout, x, kernel_size, stride, padding, _first, accumulate=False)


def grad_unravel(dout, x, kernel_size, stride=None, padding=0):
    """Flat window argmax unravelled with width KH: row = idx // KH, col = idx % KH."""
    return _route(dout, x, kernel_size, stride, padding, _unravel_by_kh)


def grad_zero_padding(dout, x, kernel_size, stride=None, padding=0):
    """Padded with zeros instead of -inf: a padding cell can take the gradient."""
    k, s, pads, _ = pool_params(x.shape, kernel_size, stride, padding)
    return _crop(max_pool_backward(dout, pad(x, pads), k, s), pads, *x.shape[2:])


def grad_max_stride_one(dout, x, kernel_size, stride=None, padding=0):
    """stride=None taken as 1: window (i, j) of dout starts at (i, j)."""
    size = pool_params(x.shape, kernel_size, _default_one(stride), padding)[3]
    return max_pool_backward(_extend(dout, size), x, kernel_size, 1, padding)


def grad_max_hw_swapped(dout, x, kernel_size, stride=None, padding=0):
    """(h, w) pairs of kernel_size, stride and padding read as (w, h)."""
    k, s, p = _swap(kernel_size), _swap(stride), _swap(padding)
    return max_pool_backward(_extend(dout, pool_params(x.shape, k, s, p)[3]), x, k, s, p)


def grad_padded_coords(dout, x, kernel_size, stride=None, padding=0):
    """Gradient placed at the argmax in padded coordinates, then the top-left H x W kept: dx
    shifted by the padding (and the gradient of the last rows/columns lost)."""
    k, s, pads, _ = pool_params(x.shape, kernel_size, stride, padding)
    dxp = max_pool_backward(dout, pad(x, pads, value=-np.inf), k, s)
    return dxp[:, :, :x.shape[2], :x.shape[3]]


# --- avg_pool_forward ----------------------------------------------------------------------------


def avg_always_kernel_area(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Divided by KH*KW even when count_include_pad is False."""
    return avg_pool_forward(x, kernel_size, stride, padding, True)


def avg_always_in_image(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Divided by the in-image cells even when count_include_pad is True."""
    return avg_pool_forward(x, kernel_size, stride, padding, False)


def avg_stride_one(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """stride=None taken as 1 instead of kernel_size."""
    return avg_pool_forward(x, kernel_size, _default_one(stride), padding, count_include_pad)


def avg_ceil(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Output size rounded up: the extra windows hang past the input (a truncated slice)."""
    k, s, room = _ceil_pads(x.shape, kernel_size, stride, padding)
    return _avg(x, k, s, room, count_include_pad)


def avg_no_plus_one(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Output size without the + 1."""
    return _short(avg_pool_forward(x, kernel_size, stride, padding, count_include_pad))


def avg_across_channels(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Mean taken over all channels of the window (x[n, :, rows, cols].mean())."""
    return _across(avg_pool_forward(x, kernel_size, stride, padding, count_include_pad), np.mean)


def avg_summed_channels(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Window sum over all channels, divided by the window's divisor only."""
    return _across(avg_pool_forward(x, kernel_size, stride, padding, count_include_pad), np.sum)


def avg_n_c_mixed(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """N and C exchanged: the output laid out as (C, N, H_out, W_out)."""
    return avg_pool_forward(x, kernel_size, stride, padding, count_include_pad).swapaxes(0, 1)


def avg_hw_swapped(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """(h, w) pairs of kernel_size, stride and padding read as (w, h)."""
    return avg_pool_forward(x, _swap(kernel_size), _swap(stride), _swap(padding), count_include_pad)


# --- avg_pool_backward ---------------------------------------------------------------------------


def grad_always_kernel_area(dout, x_shape, kernel_size, stride=None, padding=0,
                            count_include_pad=True):
    """Divided by KH*KW even when count_include_pad is False."""
    return avg_pool_backward(dout, x_shape, kernel_size, stride, padding, True)


def grad_always_in_image(dout, x_shape, kernel_size, stride=None, padding=0,
                         count_include_pad=True):
    """Divided by the in-image cells even when count_include_pad is True."""
    return avg_pool_backward(dout, x_shape, kernel_size, stride, padding, False)


def grad_no_divisor(dout, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    """dout spread over the window without dividing by the divisor."""
    params = pool_params(tuple(x_shape), kernel_size, stride, padding)
    divisor = pool_divisor(tuple(x_shape), params, count_include_pad, dout.dtype)
    return avg_pool_backward(dout * divisor, x_shape, kernel_size, stride, padding,
                             count_include_pad)


def grad_avg_stride_one(dout, x_shape, kernel_size, stride=None, padding=0,
                        count_include_pad=True):
    """stride=None taken as 1: window (i, j) of dout starts at (i, j)."""
    size = pool_params(tuple(x_shape), kernel_size, _default_one(stride), padding)[3]
    return avg_pool_backward(_extend(dout, size), x_shape, kernel_size, 1, padding,
                             count_include_pad)


def grad_avg_hw_swapped(dout, x_shape, kernel_size, stride=None, padding=0,
                        count_include_pad=True):
    """(h, w) pairs of kernel_size, stride and padding read as (w, h)."""
    k, s, p = _swap(kernel_size), _swap(stride), _swap(padding)
    size = pool_params(tuple(x_shape), k, s, p)[3]
    return avg_pool_backward(_extend(dout, size), x_shape, k, s, p, count_include_pad)


def grad_avg_overwritten(dout, x_shape, kernel_size, stride=None, padding=0,
                         count_include_pad=True):
    """dx[window] = dout / divisor (assigned, windows in row-major order): where windows overlap
    only the last one's share is left."""
    params = pool_params(tuple(x_shape), kernel_size, stride, padding)
    (KH, KW), (sh, sw), pads, out = params
    share = dout / pool_divisor(tuple(x_shape), params, count_include_pad, np.float64)
    dxp = np.zeros(tuple(x_shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads)))
    for i, j in np.ndindex(*out):
        dxp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW] = share[:, :, i, j, None, None]
    return _crop(dxp, pads, *x_shape[2:])


MAX_FWD, MAX_BWD = "max_pool_forward", "max_pool_backward"
AVG_FWD, AVG_BWD = "avg_pool_forward", "avg_pool_backward"

VARIANTS: tuple[Variant, ...] = (
    Variant("maxpool-zero-padding", MAX_FWD, max_zero_padding),
    Variant("stride-default", MAX_FWD, max_stride_one),
    Variant("output-size-off-by-one", MAX_FWD, max_ceil),
    Variant("output-size-off-by-one", MAX_FWD, max_no_plus_one),
    Variant("pooled-across-channels", MAX_FWD, max_across_channels),
    Variant("pooled-across-channels", MAX_FWD, max_n_c_mixed),
    Variant("hw-swapped", MAX_FWD, max_hw_swapped),
    Variant("maxpool-grad-all-ties", MAX_BWD, grad_all_ties),
    Variant("maxpool-grad-split-ties", MAX_BWD, grad_split_ties),
    Variant("maxpool-grad-last-tie", MAX_BWD, grad_last_tie),
    Variant("maxpool-grad-overwritten", MAX_BWD, grad_overwritten),
    Variant("maxpool-argmax-unravel", MAX_BWD, grad_unravel),
    Variant("maxpool-argmax-padded-coords", MAX_BWD, grad_padded_coords),
    Variant("maxpool-zero-padding", MAX_BWD, grad_zero_padding),
    Variant("stride-default", MAX_BWD, grad_max_stride_one),
    Variant("hw-swapped", MAX_BWD, grad_max_hw_swapped),
    Variant("avgpool-wrong-divisor", AVG_FWD, avg_always_kernel_area),
    Variant("avgpool-wrong-divisor", AVG_FWD, avg_always_in_image),
    Variant("stride-default", AVG_FWD, avg_stride_one),
    Variant("output-size-off-by-one", AVG_FWD, avg_ceil),
    Variant("output-size-off-by-one", AVG_FWD, avg_no_plus_one),
    Variant("pooled-across-channels", AVG_FWD, avg_across_channels),
    Variant("pooled-across-channels", AVG_FWD, avg_summed_channels),
    Variant("pooled-across-channels", AVG_FWD, avg_n_c_mixed),
    Variant("hw-swapped", AVG_FWD, avg_hw_swapped),
    Variant("avgpool-wrong-divisor", AVG_BWD, grad_always_kernel_area),
    Variant("avgpool-wrong-divisor", AVG_BWD, grad_always_in_image),
    Variant("avgpool-grad-no-divisor", AVG_BWD, grad_no_divisor),
    Variant("avgpool-grad-overwritten", AVG_BWD, grad_avg_overwritten),
    Variant("stride-default", AVG_BWD, grad_avg_stride_one),
    Variant("hw-swapped", AVG_BWD, grad_avg_hw_swapped),
)
