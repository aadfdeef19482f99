"""Each mistaken variant computes exactly what its catalogue row says.

A variant is pinned by an explicit loop written from its row's formula (which cell tap u of window
i reads, how many windows there are, which channels a group reads...), on small integer inputs
where every output is an exact integer sum. Backward variants that are "the gradient of the
mistaken forward" are pinned to that forward: by linearity, dx[k] = sum(dout * forward(e_k)).
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import suites
from grader.variants import conv1d as v1
from grader.variants import conv_backward as vb
from grader.variants import conv_forward as vf
from grader.variants import conv_strided_dilated as vs
from grader.variants import pooling as vp
from tests import oracles


def ints(shape, seed):
    return np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float64)


def loop2d(x, w, b, stride, pads, size, tap=None, group_of=None, start=None, channels=None):
    """out[n, f, i, j] = b[f] + sum w[f, c, u, v] * X[n, start(g) + c, tap_h(i, u), tap_w(j, v)],
    X the input zero-padded by `pads` ((top, bottom), (left, right)), reads outside it zero."""
    N, C = x.shape[:2]
    F, Cg, KH, KW = w.shape
    G = C // Cg
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    tap = tap or (lambda i, u, axis: i * stride[axis] + u)
    group_of = group_of or (lambda f: f // (F // G))
    start = start or (lambda g: g * Cg)
    out = np.zeros((N, F) + tuple(size))
    for n, f, i, j in np.ndindex(*out.shape):
        total = 0.0 if b is None else b[f]
        for c in (channels or range(Cg)):
            for u, v in np.ndindex(KH, KW):
                r, q = tap(i, u, 0), tap(j, v, 1)
                ch = start(group_of(f)) + c
                if 0 <= r < xp.shape[2] and 0 <= q < xp.shape[3] and ch < C:
                    total += w[f, c, u, v] * xp[n, ch, r, q]
        out[n, f, i, j] = total
    return out


def floor_size(n, pads, k, s, d):
    return tuple((nn + lo + hi - dd * (kk - 1) - 1) // ss + 1
                 for nn, (lo, hi), kk, ss, dd in zip(n, pads, k, s, d))


# --- conv2d (conv_strided_dilated) ------------------------------------------------------------

X = ints((2, 4, 7, 8), 1)
W = ints((4, 2, 2, 3), 2)  # groups 2: Cg = 2, F = 4, Fg = 2
B = np.array([10.0, 20.0, 30.0, 40.0])
S, P, D, G = (2, 1), (1, 2), (2, 1), 2
PADS = ((1, 1), (2, 2))
K = (2, 3)
SIZE = floor_size(X.shape[2:], PADS, K, S, D)


def dil(d):
    return lambda i, u, a: i * S[a] + u * d[a]


def same_pads(d, extra_first=False):
    totals = [dd * (k - 1) for k, dd in zip(K, d)]
    pads = [(t // 2, t - t // 2) for t in totals]
    return tuple((hi, lo) for lo, hi in pads) if extra_first else tuple(pads)


CONV2D_PINS = {
    vs.dilation_plus_one: lambda: loop2d(X, W, B, S, PADS, floor_size(X.shape[2:], PADS, K, S, (3, 2)),
                                         dil((3, 2))),
    vs.dilation_ignored: lambda: loop2d(X, W, B, S, PADS, SIZE, dil((1, 1))),
    vs.dilation_size_ignored: lambda: loop2d(X, W, B, S, PADS,
                                             floor_size(X.shape[2:], PADS, K, S, (1, 1)), dil(D)),
    # the row's two codings: xpad[i*s + u*d*s] and xpad[i + u*d*s]
    vs.stride_scales_taps: lambda: loop2d(X, W, B, S, PADS, SIZE,
                                          lambda i, u, a: i * S[a] + u * D[a] * S[a]),
    vs.stride_on_taps: lambda: loop2d(X, W, B, S, PADS, SIZE,
                                      lambda i, u, a: i + u * D[a] * S[a]),
    vs.stride_ignored: lambda: loop2d(X, W, B, S, PADS, SIZE, lambda i, u, a: i + u * D[a]),
    vs.group_interleaved: lambda: loop2d(X, W, B, S, PADS, SIZE, dil(D), group_of=lambda f: f % G),
    vs.first_channel: lambda: loop2d(X, W, B, S, PADS, SIZE, dil(D), channels=[0]),
    vs.last_channel: lambda: loop2d(X, W, B, S, PADS, SIZE, dil(D), channels=[1]),
    vs.hw_swapped: lambda: loop2d(X, W, B, S[::-1], ((2, 2), (1, 1)),
                                  floor_size(X.shape[2:], ((2, 2), (1, 1)), K, S[::-1], D[::-1]),
                                  lambda i, u, a: i * S[::-1][a] + u * D[::-1][a]),
    vs.flipped: lambda: loop2d(X, W[:, :, ::-1, ::-1], B, S, PADS, SIZE, dil(D)),
    vs.extent_d_times_k: lambda: loop2d(X, W, B, S, PADS, tuple(
        (n + lo + hi - d * k) // s + 1 for n, (lo, hi), k, s, d in zip(X.shape[2:], PADS, K, S, D)),
        dil(D)),
    vs.group_slice_at_g: lambda: loop2d(X, W, B, S, PADS, SIZE, dil(D), start=lambda g: g),
}
# 'same' variants, with stride 1 (and 2 for same_with_stride)
SAME = {
    vs.same_extra_left: (1, lambda: loop2d(X, W, B, (1, 1), same_pads(D, True), X.shape[2:],
                                           lambda i, u, a: i + u * D[a])),
    vs.same_without_dilation: (1, lambda: loop2d(X, W, B, (1, 1), same_pads((1, 1)),
                                                 floor_size(X.shape[2:], same_pads((1, 1)), K,
                                                            (1, 1), D),
                                                 lambda i, u, a: i + u * D[a])),
    vs.same_with_stride: (S, lambda: loop2d(X, W, B, S, same_pads(D),
                                            floor_size(X.shape[2:], same_pads(D), K, S, D), dil(D))),
}


@pytest.mark.parametrize("variant", list(CONV2D_PINS), ids=lambda f: f.__name__)
def test_conv2d_variant_computes_its_row(variant):
    got = variant(X, W, B, S, (1, 2), D, G)
    np.testing.assert_array_equal(got, CONV2D_PINS[variant]())


@pytest.mark.parametrize("variant", list(SAME), ids=lambda f: f.__name__)
def test_conv2d_same_variant_computes_its_row(variant):
    stride, pin = SAME[variant]
    np.testing.assert_array_equal(variant(X, W, B, stride, "same", D, G), pin())


def test_group_slice_by_filters_reads_from_g_times_filters_per_group():
    w = ints((2, 2, 2, 3), 3)  # F = 2, Fg = 1: group 1 reads channels 1:3
    got = vs.group_slice_by_filters(X, w, B[:2], S, (1, 2), D, G)
    np.testing.assert_array_equal(got, loop2d(X, w, B[:2], S, PADS, SIZE, dil(D),
                                              start=lambda g: g * 1))


def vjp(forward, dout, x, w, with_bias=True):
    """The gradient of a forward linear in x and in w, one basis vector at a time."""
    zero_b = np.zeros(w.shape[0])
    dx = np.zeros(x.shape)
    for k in np.ndindex(*x.shape):
        e = np.zeros(x.shape)
        e[k] = 1.0
        dx[k] = np.sum(dout * forward(e, w, zero_b))
    dw = np.zeros(w.shape)
    for k in np.ndindex(*w.shape):
        e = np.zeros(w.shape)
        e[k] = 1.0
        dw[k] = np.sum(dout * forward(x, e, zero_b))
    db = np.array([np.sum(dout * forward(np.zeros(x.shape), np.zeros(w.shape), np.eye(len(zero_b))[f]))
                   for f in range(len(zero_b))])
    return dx, dw, db


GRADS = [(getattr(vs, "grad_" + f.__name__), f) for f in list(CONV2D_PINS) + list(SAME)
         if hasattr(vs, "grad_" + f.__name__)]


@pytest.mark.parametrize("pair", GRADS, ids=lambda p: p[0].__name__)
def test_conv2d_backward_variant_is_the_gradient_of_its_forward(pair):
    grad, forward = pair
    x, w = X[:1, :, :5, :6], W
    stride, padding = ((1, 1), "same") if forward in SAME and SAME[forward][0] == 1 else \
        ((S, "same") if forward is vs.same_with_stride else (S, (1, 2)))
    out = forward(x, w, B, stride, padding, D, G)
    dout = ints(out.shape, 4)
    got = grad(dout, x, w, stride, padding, D, G)
    want = vjp(lambda a, k, b: forward(a, k, b, stride, padding, D, G), dout, x, w)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, atol=1e-9)


def test_grad_buffer_not_reset_accumulates_earlier_samples():
    dout = ints(oracles.conv2d(X, W, B, S, (1, 2), D, G).shape, 5)
    dx, dw, db = oracles.conv2d_backward(dout, X, W, S, (1, 2), D, G)
    got = vs.grad_buffer_not_reset(dout, X, W, S, (1, 2), D, G)
    np.testing.assert_allclose(got[0], np.stack([dx[0], dx[0] + dx[1]]), atol=1e-9)
    np.testing.assert_allclose(got[1], dw, atol=1e-9)


def test_grad_missing_remainder_drops_the_rows_no_window_reaches():
    x = X[:, :, :8, :8]  # H + 2 - 3 = 7 rows with stride 2: the last row is never read
    dout = ints(oracles.conv2d(x, W, B, S, (1, 2), D, G).shape, 6)
    dx = oracles.conv2d_backward(dout, x, W, S, (1, 2), D, G)[0]
    reach_h = (dout.shape[2] - 1) * S[0] + D[0] * (K[0] - 1) + 1 - 1
    reach_w = (dout.shape[3] - 1) * S[1] + D[1] * (K[1] - 1) + 1 - 2
    got = vs.grad_missing_remainder(dout, x, W, S, (1, 2), D, G)[0]
    np.testing.assert_allclose(got, dx[:, :, :reach_h, :reach_w], atol=1e-9)


# --- conv_forward and conv1d: the same loop, without dilation and groups / with H = 1 ----------

XF, WF, BF = ints((2, 3, 5, 7), 7), ints((4, 3, 3, 2), 8), np.array([1.0, 2.0, 3.0, 4.0])
SF, PF = (2, 1), ((1, 1), (2, 2))
KF = (3, 2)
SIZEF = floor_size(XF.shape[2:], PF, KF, SF, (1, 1))


def tap_major(w):
    """The kernel a learner multiplies by when its columns run (taps..., C) but w is flattened
    (C, taps...): weight [f, c, taps] is the flat entry at tap_index * C + c."""
    flat, C = w.reshape(w.shape[0], -1), w.shape[1]
    taps = list(np.ndindex(*w.shape[2:]))
    paired = np.empty_like(w)
    for t, tap in enumerate(taps):
        for c in range(C):
            paired[(slice(None), c, *tap)] = flat[:, t * C + c]
    return paired


def conv_forward_pins():
    ceil = tuple(-(-(n + lo + hi - k) // s) + 1 for n, (lo, hi), k, s in zip(XF.shape[2:], PF, KF, SF))
    flat = oracles.conv2d(XF, WF, BF, SF, (1, 2))
    plain = oracles.conv2d(XF, WF, None, SF, (1, 2))
    return {
        vf.flipped: loop2d(XF, WF[:, :, ::-1, ::-1], BF, SF, PF, SIZEF),
        vf.size_no_plus_one: loop2d(XF, WF, BF, SF, PF, tuple(s - 1 for s in SIZEF)),
        vf.size_ceil: loop2d(XF, WF, BF, SF, PF, ceil),
        vf.stride_ignored: loop2d(XF, WF, BF, (1, 1), PF, SIZEF),
        vf.padding_one_sided: loop2d(XF, WF, BF, SF, ((0, 2), (0, 4)), SIZEF),
        vf.padding_forgotten: loop2d(XF, WF, BF, SF, ((0, 0), (0, 0)),
                                     floor_size(XF.shape[2:], ((0, 0), (0, 0)), KF, SF, (1, 1))),
        vf.bias_omitted: loop2d(XF, WF, None, SF, PF, SIZEF),
        vf.bias_per_channel: loop2d(XF, WF, 3 * BF, SF, PF, SIZEF),
        vf.first_channel: loop2d(XF, WF, BF, SF, PF, SIZEF, channels=[0]),
        vf.last_channel: loop2d(XF, WF, BF, SF, PF, SIZEF, channels=[2]),
        vf.kernel_dims_swapped: loop2d(XF, WF.reshape(4, 3, 2, 3), BF, SF, PF,
                                       floor_size(XF.shape[2:], PF, (2, 3), SF, (1, 1))),
        vf.pairs_swapped: loop2d(XF, WF, BF, SF[::-1], PF[::-1],
                                 floor_size(XF.shape[2:], PF[::-1], KF, SF[::-1], (1, 1))),
        # (F, N*H_out*W_out) reshaped to (N, F, H_out, W_out): sample-major order read filter-major
        vf.im2col_fnhw: flat.transpose(1, 0, 2, 3).reshape(flat.shape),
        vf.im2col_fnhw_bias_after: plain.transpose(1, 0, 2, 3).reshape(flat.shape)
        + BF[None, :, None, None],
        vf.im2col_nhwf: flat.transpose(0, 2, 3, 1).reshape(flat.shape),
        vf.im2col_order_mismatch: loop2d(XF, tap_major(WF), BF, SF, PF, SIZEF),
    }


@pytest.mark.parametrize("variant", list(conv_forward_pins()), ids=lambda f: f.__name__)
def test_conv_forward_variant_computes_its_row(variant):
    np.testing.assert_allclose(variant(XF, WF, BF, SF, (1, 2)), conv_forward_pins()[variant],
                               atol=1e-9)


def test_conv_forward_bias_along_width_adds_b_along_w():
    x = XF[:, :, :, :5]  # W_out = (5 + 4 - 2) // 1 + 1 = 8 != F: broadcast fails
    with pytest.raises(ValueError):
        vf.bias_along_width(x, WF, BF, SF, (1, 2))
    x = XF[:, :, :, :1]  # W_out = 4 == F
    got = vf.bias_along_width(x, WF, BF, SF, (1, 2))
    size = floor_size(x.shape[2:], PF, KF, SF, (1, 1))
    np.testing.assert_allclose(got, loop2d(x, WF, None, SF, PF, size) + BF, atol=1e-9)


def test_conv_forward_batch_axes_padded_reads_shifted_samples():
    xp = np.pad(XF, 1)[:2, :3]  # np.pad(x, p): N and C padded too, then the first N, C kept
    got = vf.batch_axes_padded(XF, WF, BF, 1, 1)
    np.testing.assert_allclose(got, loop2d(xp, WF, BF, (1, 1), ((0, 0), (0, 0)),
                                           floor_size(xp.shape[2:], ((0, 0), (0, 0)), KF, (1, 1),
                                                      (1, 1))), atol=1e-9)


def test_conv_forward_int_truncation_keeps_one_window_past_the_input():
    x, w = ints((1, 2, 5, 6), 9), ints((3, 2, 6, 7), 10)  # H - K = -1, stride 2: int(-0.5) = 0
    got = vf.size_int_truncated(x, w, BF[:3], 2, 0)
    np.testing.assert_allclose(got, loop2d(x, w, BF[:3], (2, 2), ((0, 0), (0, 0)), (1, 1)),
                               atol=1e-9)


def test_conv_forward_same_extra_left_pads_the_odd_cell_first():
    w = ints((4, 3, 4, 2), 11)  # totals 3 and 1: (2, 1) and (1, 0) instead of (1, 2), (0, 1)
    got = vf.same_extra_left(XF, w, BF, 1, "same")
    np.testing.assert_allclose(got, loop2d(XF, w, BF, (1, 1), ((2, 1), (1, 0)), XF.shape[2:]),
                               atol=1e-9)


XL, WL, BL = ints((2, 3, 11), 12), ints((4, 3, 3), 13), np.array([1.0, 2.0, 3.0, 4.0])


def loop1d(x, w, b, s, pads, size, tap=None, channels=None):
    tap2 = (lambda i, u, a: (i * (1, s)[a] + u) if a else i) if tap is None else \
        (lambda i, u, a: tap(i, u) if a else i)
    out = loop2d(x[:, :, None], w[:, :, None], b, (1, s), ((0, 0), pads), (1, size), tap2,
                 channels=channels)
    return out[:, :, 0]


def test_conv1d_variants_compute_their_rows():
    s, p, d = 2, 2, 3
    size = (11 + 4 - d * 2 - 1) // s + 1
    pins = {
        v1.flipped: loop1d(XL, WL[:, :, ::-1], BL, s, (p, p), size, lambda i, u: i * s + u * d),
        v1.stride_ignored: loop1d(XL, WL, BL, s, (p, p), size, lambda i, u: i + u * d),
        v1.padding_one_sided: loop1d(XL, WL, BL, s, (0, 2 * p), size, lambda i, u: i * s + u * d),
        v1.padding_forgotten: loop1d(XL, WL, BL, s, (0, 0), (11 - d * 2 - 1) // s + 1,
                                     lambda i, u: i * s + u * d),
        v1.bias_omitted: loop1d(XL, WL, None, s, (p, p), size, lambda i, u: i * s + u * d),
        v1.bias_per_channel: loop1d(XL, WL, 3 * BL, s, (p, p), size, lambda i, u: i * s + u * d),
        v1.first_channel: loop1d(XL, WL, BL, s, (p, p), size, lambda i, u: i * s + u * d, [0]),
        v1.last_channel: loop1d(XL, WL, BL, s, (p, p), size, lambda i, u: i * s + u * d, [2]),
        v1.dilation_plus_one: loop1d(XL, WL, BL, s, (p, p), (11 + 4 - 8 - 1) // s + 1,
                                     lambda i, u: i * s + u * (d + 1)),
        v1.dilation_ignored: loop1d(XL, WL, BL, s, (p, p), size, lambda i, u: i * s + u),
        v1.im2col_order_mismatch: loop1d(XL, tap_major(WL), BL, s, (p, p), size,
                                         lambda i, u: i * s + u * d),
        v1.extent_d_times_k: loop1d(XL, WL, BL, s, (p, p), (11 + 4 - d * 3) // s + 1,
                                    lambda i, u: i * s + u * d),
    }
    for variant, want in pins.items():
        np.testing.assert_allclose(variant(XL, WL, BL, s, p, d), want, atol=1e-9,
                                   err_msg=variant.__name__)
    bias_l = np.arange(1.0, 6.0)  # L_out = 5: b broadcast along L
    np.testing.assert_allclose(v1.bias_along_length(XL, WL, bias_l, s, p, d),
                               loop1d(XL, WL, None, s, (p, p), size,
                                      lambda i, u: i * s + u * d) + bias_l, atol=1e-9)


def test_conv1d_same_and_size_variants_compute_their_rows():
    w = ints((4, 3, 4), 14)  # K = 4, d = 2: total 6 -> (3, 3); K - 1 = 3 -> (1, 2)
    same = {
        v1.same_extra_left: loop1d(XL, w, BL, 1, (3, 3), 11, lambda i, u: i + 2 * u),
        v1.same_symmetric: loop1d(XL, w, BL, 1, (3, 3), 11, lambda i, u: i + 2 * u),
        v1.same_without_dilation: loop1d(XL, w, BL, 1, (1, 2), 11 + 3 - 6, lambda i, u: i + 2 * u),
    }
    for variant, want in same.items():
        np.testing.assert_allclose(variant(XL, w, BL, 1, "same", 2), want, atol=1e-9,
                                   err_msg=variant.__name__)
    w3 = ints((4, 3, 3), 15)  # K = 3, d = 2: total 4 is even, so both 'same' slips are right
    np.testing.assert_allclose(v1.same_extra_left(XL, w3, BL, 1, "same", 2),
                               oracles.conv1d(XL, w3, BL, 1, "same", 2), atol=1e-9)
    # 'same' with stride 2 (the reference raises): pads (3, 3) for K = 4, d = 2, then every
    # second window: i*2 + 2*u
    np.testing.assert_allclose(v1.same_with_stride(XL, w, BL, 2, "same", 2),
                               loop1d(XL, w, BL, 2, (3, 3), 6, lambda i, u: i * 2 + 2 * u), atol=1e-9)
    with pytest.raises(ValueError):  # the dilation slip is not a stride slip: it still raises
        v1.same_without_dilation(XL, w, BL, 2, "same", 2)
    x, w6 = XL[:, :, :5], ints((4, 3, 6), 16)  # L - K = -1, stride 2: int() gives one output
    np.testing.assert_allclose(v1.size_int_truncated(x, w6, BL, 2, 0, 1),
                               loop1d(x, w6, BL, 2, (0, 0), 1), atol=1e-9)


A, V = ints((7,), 17), ints((4,), 18)


def test_convolve1d_variants_compute_their_rows():
    full = np.array([sum(A[m] * V[n - m] for m in range(7) if 0 <= n - m < 4) for n in range(10)])
    corr = np.array([sum(A[m] * V[::-1][n - m] for m in range(7) if 0 <= n - m < 4)
                     for n in range(10)])
    assert np.allclose(v1.not_flipped(A, V), corr)
    assert np.allclose(v1.not_flipped_after_swap(V, A), np.convolve(A, V[::-1]))
    assert np.allclose(v1.same_offset(A, V, "same"), full[2:9])  # min // 2 = 2, not 1
    assert np.allclose(v1.same_symmetric_pad(A, V, "same"), full[2:8])  # pad 1 + 1: one short
    assert np.allclose(v1.no_swap(V, A, "same"), full[3:7])  # kept N = 4
    assert np.allclose(v1.valid_short(A, V, "valid"), full[3:6])  # 3, not 4


# --- conv_backward ----------------------------------------------------------------------------

XB, WB = ints((2, 3, 6, 7), 20), ints((4, 3, 3, 2), 21)
DB = ints(oracles.conv2d(XB, WB, None, 2, 1).shape, 22)


def true_grads(dout=DB, x=XB, w=WB, stride=2, padding=1):
    return oracles.conv2d_backward(dout, x, w, stride, padding)


def test_conv_backward_new_variants_compute_their_rows():
    dx, dw, db = true_grads()
    rot = vb.dx_rot90_default_axes(DB, XB, WB, 2, 1)[0]  # np.rot90(w, 2): F and C reversed
    np.testing.assert_allclose(rot, true_grads(w=WB[::-1, ::-1, ::-1, ::-1])[0], atol=1e-9)
    np.testing.assert_allclose(vb.dx_buffer_not_reset(DB, XB, WB, 2, 1)[0],
                               np.cumsum(dx, axis=0), atol=1e-9)
    # dw over stride-1 windows: dw[f, c, u, v] = sum dout[n, f, i, j] xpad[n, c, i + u, j + v]
    xp = np.pad(XB, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dense = np.zeros(WB.shape)
    for f, c, u, v in np.ndindex(*WB.shape):
        dense[f, c, u, v] = sum(DB[n, f, i, j] * xp[n, c, i + u, j + v]
                                for n, i, j in np.ndindex(2, *DB.shape[2:]))
    np.testing.assert_allclose(vb.dw_dense_windows(DB, XB, WB, 2, 1)[1], dense, atol=1e-9)
    x = XB[:, :, :, :6]  # W + 2 - 2 = 6 with stride 2: the last column is never read
    d = ints(oracles.conv2d(x, WB, None, 2, 1).shape, 23)
    want = true_grads(d, x)[0]
    reach_w = (d.shape[3] - 1) * 2 + 2 - 1
    np.testing.assert_allclose(vb.dx_no_remainder(d, x, WB, 2, 1)[0], want[:, :, :, :reach_w],
                               atol=1e-9)


def test_conv_backward_older_variants_compute_their_rows():
    s, p, (H, W), (KH, KW) = 2, 1, XB.shape[2:], WB.shape[2:]
    dx, dw, db = true_grads()
    xp = np.pad(XB, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = oracles.conv2d_backward(DB, xp, WB, s, 0)[0]  # the gradient of the padded input

    def loop_dx(dout, w, start, assign=False):
        """dxpad[n, :, start(i) + u, start(j) + v] (+)= dout[n, f, i, j] * w[f], row-major."""
        out = np.zeros(xp.shape)
        for n, f, i, j in np.ndindex(*dout.shape):
            cells = (n, slice(None), slice(start(i), start(i) + KH), slice(start(j), start(j) + KW))
            if assign:
                out[cells] = dout[n, f, i, j] * w[f]
            else:
                out[cells] += dout[n, f, i, j] * w[f]
        return out[:, :, p:p + H, p:p + W]

    last = np.zeros(DB.shape)
    last[-1, :, -1, -1] = DB[-1, :, -1, -1]
    xz = np.pad(XB, ((0, 0), (0, 0), (0, 2 * p), (0, 2 * p)))
    dw_x = np.zeros(WB.shape)
    for f, c, u, v in np.ndindex(*WB.shape):
        dw_x[f, c, u, v] = sum(DB[n, f, i, j] * xz[n, c, i * s + u, j * s + v]
                               for n, i, j in np.ndindex(2, *DB.shape[2:]))
    # dx assigned window by window: for each window, the sum over filters, then assigned
    assigned = np.zeros(xp.shape)
    for i, j in np.ndindex(*DB.shape[2:]):
        assigned[:, :, i * s:i * s + KH, j * s:j * s + KW] = np.einsum("nf,fcuv->ncuv",
                                                                       DB[:, :, i, j], WB)
    pins = {  # variant: (which output, its value)
        vb.not_cropped: (0, dxp),
        vb.crop_minus_p: (0, dxp[:, :, p:-p, p:-p]),
        vb.crop_top_left: (0, dxp[:, :, :H, :W]),
        vb.crop_bottom_right: (0, dxp[:, :, -H:, -W:]),
        vb.db_mean: (2, DB.mean(axis=(0, 2, 3))),
        vb.db_per_sample: (2, DB.sum(axis=(2, 3))),
        vb.db_batch_only: (2, DB.sum(axis=0)),
        vb.dw_last_sample: (1, true_grads(DB[-1:], XB[-1:])[1]),
        vb.dw_last_window: (1, true_grads(last)[1]),
        vb.dx_assigned: (0, assigned[:, :, p:p + H, p:p + W]),
        vb.dx_assigned_per_filter: (0, loop_dx(DB[:, -1:], WB[-1:], lambda i: i * s, True)),
        vb.dx_unrotated: (0, true_grads(w=WB[:, :, ::-1, ::-1])[0]),
        vb.dx_stride_ignored: (0, loop_dx(DB, WB, lambda i: i)),
        vb.dw_from_x: (1, dw_x),
        vb.dx_last_filter: (0, true_grads(DB[:, -1:], w=WB[-1:])[0]),
    }
    for variant, (k, want) in pins.items():
        got = variant(DB, XB, WB, s, p)
        np.testing.assert_allclose(got[k], want, atol=1e-9, err_msg=variant.__name__)
        for other in {0, 1, 2} - {k}:  # the other two outputs are right
            np.testing.assert_allclose(got[other], (dx, dw, db)[other], atol=1e-9)
    wc = ints((3, 3, 3, 2), 25)  # F == C: w's F and C axes swapped
    dc = ints(oracles.conv2d(XB, wc, None, s, p).shape, 26)
    np.testing.assert_allclose(vb.fc_swapped(dc, XB, wc, s, p)[0],
                               true_grads(dc, XB, wc.transpose(1, 0, 2, 3))[0], atol=1e-9)
    w1 = ints((1, 3, 3, 2), 27)  # F == 1: the kernel summed over C, for every channel
    d1 = ints(oracles.conv2d(XB, w1, None, s, p).shape, 28)
    summed = np.repeat(w1.sum(axis=1, keepdims=True), 3, axis=1)
    np.testing.assert_allclose(vb.fc_swapped_one_filter(d1, XB, w1, s, p)[0],
                               true_grads(d1, XB, summed)[0], atol=1e-9)


# --- pooling -----------------------------------------------------------------------------------

XP = ints((2, 2, 7, 8), 30)


def test_pooling_new_variants_compute_their_rows():
    dout = ints((2, 2, 4, 4), 31)  # k 3, stride 2, padding 1: H_out = 4, W_out = 4
    dx = np.zeros((2, 2, 9, 10))
    for n, c, i, j in np.ndindex(*dout.shape):  # assigned, row-major: the last window wins
        dx[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3] = dout[n, c, i, j] / 9
    np.testing.assert_allclose(vp.grad_avg_overwritten(dout, XP.shape, 3, 2, 1),
                               dx[:, :, 1:8, 1:9], atol=1e-12)
    xp = np.pad(XP, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    dxp = np.zeros(xp.shape)
    for n, c, i, j in np.ndindex(*dout.shape):
        u, v = divmod(int(np.argmax(xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3])), 3)
        dxp[n, c, 2 * i + u, 2 * j + v] += dout[n, c, i, j]
    np.testing.assert_allclose(vp.grad_padded_coords(dout, XP, 3, 2, 1), dxp[:, :, :7, :8],
                               atol=1e-12)


def test_grad_group_slice_by_filters_is_the_gradient_of_its_forward():
    x, w = X[:1, :, :5, :6], ints((2, 2, 2, 3), 3)
    out = vs.group_slice_by_filters(x, w, B[:2], S, (1, 2), D, G)
    dout = ints(out.shape, 24)
    got = vs.grad_group_slice_by_filters(dout, x, w, S, (1, 2), D, G)
    want = vjp(lambda a, k, b: vs.group_slice_by_filters(a, k, b, S, (1, 2), D, G), dout, x, w)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, atol=1e-9)


def window_max_loop(x, k, s, pads, fill, pick):
    """Per window of x padded by `pads` with `fill`: (value, (row, col) in padded coordinates)
    of the cell `pick` chooses among the window's maxima (a list, in row-major order)."""
    xp = np.pad(x, ((0, 0), (0, 0)) + pads, constant_values=fill)
    size = ((xp.shape[2] - k[0]) // s[0] + 1, (xp.shape[3] - k[1]) // s[1] + 1)
    found = {}
    for n, c, i, j in np.ndindex(*x.shape[:2], *size):
        cells = [(i * s[0] + u, j * s[1] + v) for u, v in np.ndindex(*k)]
        top = max(xp[n, c, r, q] for r, q in cells)
        found[n, c, i, j] = top, pick([cell for cell in cells if xp[n, c, cell[0], cell[1]] == top])
    return xp.shape, size, found


def test_pooling_forward_variants_compute_their_rows():
    x, k, s, p = ints((2, 3, 7, 8), 40) - 4.0, (3, 2), (2, 1), (1, 1)  # mostly negative
    mx = oracles.max_pool_forward(x, k, s, p)
    av = oracles.avg_pool_forward(x, k, s, p, False)
    _, size, found = window_max_loop(x, k, s, ((1, 1), (1, 1)), 0.0, lambda m: m[0])
    zero_pad = np.zeros(x.shape[:2] + size)
    for key, (value, _) in found.items():
        zero_pad[key] = value
    pins = {
        vp.max_zero_padding: (mx, zero_pad, (x, k, s, p)),
        vp.max_stride_one: (mx, oracles.max_pool_forward(x, k, 1, p), (x, k, None, p)),
        vp.max_no_plus_one: (mx, mx[:, :, :-1, :-1], (x, k, s, p)),
        vp.max_across_channels: (mx, np.broadcast_to(mx.max(axis=1, keepdims=True), mx.shape),
                                 (x, k, s, p)),
        vp.max_n_c_mixed: (mx, mx.swapaxes(0, 1), (x, k, s, p)),
        vp.max_hw_swapped: (mx, oracles.max_pool_forward(x, k[::-1], s[::-1], p), (x, k, s, p)),
        vp.avg_always_kernel_area: (av, oracles.avg_pool_forward(x, k, s, p, True),
                                    (x, k, s, p, False)),
        vp.avg_always_in_image: (av, av, (x, k, s, p, True)),
        vp.avg_stride_one: (av, oracles.avg_pool_forward(x, k, 1, p, True), (x, k, None, p)),
        vp.avg_no_plus_one: (av, oracles.avg_pool_forward(x, k, s, p)[:, :, :-1, :-1],
                             (x, k, s, p)),
        vp.avg_n_c_mixed: (av, oracles.avg_pool_forward(x, k, s, p).swapaxes(0, 1), (x, k, s, p)),
        vp.avg_hw_swapped: (av, oracles.avg_pool_forward(x, k[::-1], s[::-1], p), (x, k, s, p)),
    }
    for variant, (_, want, args) in pins.items():
        np.testing.assert_allclose(variant(*args), want, atol=1e-12, err_msg=variant.__name__)
    avg = oracles.avg_pool_forward(x, k, s, p)
    np.testing.assert_allclose(vp.avg_across_channels(x, k, s, p),
                               np.broadcast_to(avg.mean(axis=1, keepdims=True), avg.shape), atol=1e-12)
    np.testing.assert_allclose(vp.avg_summed_channels(x, k, s, p),
                               np.broadcast_to(avg.sum(axis=1, keepdims=True), avg.shape), atol=1e-12)
    # ceil: one more window where the stride does not divide, its cells past the input ignored
    x9 = ints((1, 2, 8, 8), 41)  # (8 - 3) / 2 = 2.5: ceil gives 4 windows, floor 3
    ceil_max = np.array([[[[x9[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(4)]
                           for i in range(4)] for c in range(2)] for n in range(1)])
    ceil_avg = np.array([[[[x9[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].sum() / 9
                            for j in range(4)] for i in range(4)] for c in range(2)]
                         for n in range(1)])
    np.testing.assert_allclose(vp.max_ceil(x9, 3, 2), ceil_max)
    np.testing.assert_allclose(vp.avg_ceil(x9, 3, 2), ceil_avg)


def test_max_pool_backward_variants_compute_their_rows():
    # values 0..2: ties everywhere; W = 7 leaves a free padded column right of the last window
    x, k, s = ints((2, 2, 7, 7), 42) % 3, (3, 2), (2, 2)
    pads = ((1, 1), (1, 1))
    shape, size, _ = window_max_loop(x, k, s, pads, -np.inf, lambda m: m[0])
    dout = ints(x.shape[:2] + size, 43)

    def routed(pick, fill=-np.inf, assign=False, share=False):
        _, _, found = window_max_loop(x, k, s, pads, fill, lambda m: m)
        dxp = np.zeros(shape)
        for (n, c, i, j), (_, cells) in found.items():
            chosen = pick(cells)
            for r, q in chosen:
                g = dout[n, c, i, j] / (len(chosen) if share else 1)
                dxp[n, c, r, q] = g if assign else dxp[n, c, r, q] + g
        return dxp[:, :, 1:-1, 1:-1]

    pins = {
        vp.grad_all_ties: routed(lambda m: m),
        vp.grad_split_ties: routed(lambda m: m, share=True),
        vp.grad_last_tie: routed(lambda m: m[-1:]),
        vp.grad_overwritten: routed(lambda m: m[:1], assign=True),
        vp.grad_zero_padding: routed(lambda m: m[:1], fill=0.0),
    }
    for variant, want in pins.items():
        np.testing.assert_allclose(variant(dout, x, k, s, 1), want, atol=1e-12,
                                   err_msg=variant.__name__)
    # the flat index of the first maximum, unravelled with width KH instead of KW
    xp = np.pad(x, ((0, 0), (0, 0)) + pads, constant_values=-np.inf)
    dxp = np.zeros(shape)
    for n, c, i, j in np.ndindex(*dout.shape):
        flat = int(np.argmax(xp[n, c, i * 2:i * 2 + 3, j * 2:j * 2 + 2]))
        dxp[n, c, i * 2 + flat // 3, j * 2 + flat % 3] += dout[n, c, i, j]
    np.testing.assert_allclose(vp.grad_unravel(dout, x, k, s, 1), dxp[:, :, 1:-1, 1:-1])
    sized = oracles.max_pool_backward  # the other slips: the reference on other parameters
    d1 = ints(oracles.max_pool_forward(x, k, 1, 1).shape, 44)
    np.testing.assert_allclose(vp.grad_max_stride_one(d1, x, k, None, 1),
                               sized(d1, x, k, 1, 1))
    dh = ints(oracles.max_pool_forward(x, k[::-1], s, 1).shape, 45)
    got = vp.grad_max_hw_swapped(dh[:, :, :dout.shape[2], :dout.shape[3]], x, k, s, 1)
    want = sized(np.pad(dh[:, :, :dout.shape[2], :dout.shape[3]],
                        ((0, 0), (0, 0), (0, dh.shape[2] - min(dh.shape[2], dout.shape[2])),
                         (0, dh.shape[3] - min(dh.shape[3], dout.shape[3])))), x, k[::-1], s, 1)
    np.testing.assert_allclose(got, want)


def test_avg_pool_backward_variants_compute_their_rows():
    shape, k, s, p = (2, 2, 7, 8), (3, 2), (2, 1), 1
    dout = ints(oracles.avg_pool_forward(np.zeros(shape), k, s, p).shape, 46)
    ref_in, ref_all = (oracles.avg_pool_backward(dout, shape, k, s, p, flag)
                       for flag in (False, True))
    np.testing.assert_allclose(vp.grad_always_kernel_area(dout, shape, k, s, p, False), ref_all, atol=1e-12)
    np.testing.assert_allclose(vp.grad_always_in_image(dout, shape, k, s, p, True), ref_in, atol=1e-12)
    np.testing.assert_allclose(vp.grad_no_divisor(dout, shape, k, s, p, True), 6 * ref_all, atol=1e-12)
    d1 = ints(oracles.avg_pool_forward(np.zeros(shape), k, 1, p).shape, 47)
    np.testing.assert_allclose(vp.grad_avg_stride_one(d1, shape, k, None, p),
                               oracles.avg_pool_backward(d1, shape, k, 1, p), atol=1e-12)
    dh = ints(oracles.avg_pool_forward(np.zeros(shape), k[::-1], s[::-1], p).shape, 48)
    np.testing.assert_allclose(vp.grad_avg_hw_swapped(dh, shape, k, s, p),
                               oracles.avg_pool_backward(dh, shape, k[::-1], s[::-1], p), atol=1e-12)


# --- every variant is pinned above ------------------------------------------------------------

PINNED = set(CONV2D_PINS) | set(SAME) | set(conv_forward_pins()) | {g for g, _ in GRADS} | {
    vs.group_slice_by_filters, vs.grad_group_slice_by_filters, vs.grad_buffer_not_reset,
    vs.grad_missing_remainder, vf.bias_along_width, vf.batch_axes_padded, vf.size_int_truncated,
    vf.same_extra_left, v1.flipped, v1.stride_ignored, v1.padding_one_sided,
    v1.padding_forgotten, v1.bias_omitted, v1.bias_per_channel, v1.first_channel,
    v1.last_channel, v1.dilation_plus_one, v1.dilation_ignored, v1.extent_d_times_k,
    v1.bias_along_length, v1.same_extra_left, v1.same_symmetric, v1.same_without_dilation,
    v1.same_with_stride, v1.im2col_order_mismatch, vf.im2col_order_mismatch,
    v1.size_int_truncated, v1.not_flipped, v1.not_flipped_after_swap, v1.same_offset,
    v1.same_symmetric_pad, v1.no_swap, v1.valid_short, vb.dx_rot90_default_axes,
    vb.dx_buffer_not_reset, vb.dw_dense_windows, vb.dx_no_remainder, vp.grad_avg_overwritten,
    vp.grad_padded_coords, vb.not_cropped, vb.crop_minus_p, vb.crop_top_left,
    vb.crop_bottom_right, vb.db_mean, vb.db_per_sample, vb.db_batch_only, vb.dw_last_sample,
    vb.dw_last_window, vb.dx_assigned, vb.dx_assigned_per_filter, vb.dx_unrotated,
    vb.dx_stride_ignored, vb.dw_from_x, vb.fc_swapped, vb.fc_swapped_one_filter,
    vb.dx_last_filter, vp.max_zero_padding, vp.max_stride_one, vp.max_no_plus_one,
    vp.max_across_channels, vp.max_n_c_mixed, vp.max_hw_swapped, vp.max_ceil,
    vp.avg_always_kernel_area, vp.avg_always_in_image, vp.avg_stride_one, vp.avg_no_plus_one,
    vp.avg_n_c_mixed, vp.avg_hw_swapped, vp.avg_across_channels, vp.avg_summed_channels,
    vp.avg_ceil, vp.grad_all_ties, vp.grad_split_ties, vp.grad_last_tie, vp.grad_overwritten,
    vp.grad_zero_padding, vp.grad_unravel, vp.grad_max_stride_one, vp.grad_max_hw_swapped,
    vp.grad_always_kernel_area, vp.grad_always_in_image, vp.grad_no_divisor,
    vp.grad_avg_stride_one, vp.grad_avg_hw_swapped}


@pytest.mark.parametrize("slug", ("conv1d", "conv_forward", "conv_backward",
                                  "conv_strided_dilated", "pooling"))
def test_every_variant_is_pinned(slug):
    missing = {v.compute.__name__ for v in suites.get(slug).variants if v.compute not in PINNED}
    assert not missing, sorted(missing)
