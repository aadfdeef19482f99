"""Are the reference solutions right? Checked against naive loop oracles, numerical gradients and
np.convolve, on hand-built tie cases, and for validation, dtype and input-layout rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from solutions import conv1d, conv_backward, conv_forward, conv_strided_dilated, pooling
from tests import oracles

MODULES = (conv1d, conv_forward, conv_backward, conv_strided_dilated, pooling)
NAMES = ("convolve1d", "conv1d", "conv_forward", "conv_backward", "conv2d", "conv2d_backward",
         "max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward")
REF = {name: getattr(m, name) for m in MODULES for name in NAMES if hasattr(m, name)}
BACKWARD_OF = {"conv_forward": "conv_backward", "conv2d": "conv2d_backward"}


def rel_err(y, y_ref) -> float:
    """max|y - y_ref| / max|y_ref|, after exact shape and finiteness checks."""
    y, y_ref = np.asarray(y), np.asarray(y_ref)
    assert y.shape == y_ref.shape
    assert np.all(np.isfinite(y))
    scale = max(np.max(np.abs(y_ref), initial=0), 1e-30)
    return float(np.max(np.abs(y - y_ref), initial=0) / scale)


def randn(shape, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def numerical_gradient(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d sum(f(x) * dout) / dx by central differences, one element at a time (x is overwritten)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.sum(f(x) * dout)
        x[idx] = old - h
        minus = np.sum(f(x) * dout)
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


# ---------------------------------------------------------------- convolution cases

@dataclass(frozen=True)
class Conv:
    """x (N, C, ...) and w (F, C // groups, ...) shapes, keyword arguments, and the dout kind."""

    x: tuple[int, ...]
    w: tuple[int, ...]
    kwargs: dict = field(default_factory=dict)
    bias: bool = True
    dout: str = "randn"  # randn | zeros | onehot

    def args(self, seed: int = 0) -> tuple:
        b = randn(self.w[0], seed + 2) if self.bias else None
        return randn(self.x, seed), randn(self.w, seed + 1), b

    def make_dout(self, shape, seed: int = 3) -> np.ndarray:
        if self.dout == "zeros":
            return np.zeros(shape)
        if self.dout == "onehot":
            out = np.zeros(shape)
            out[(-1, 0) + tuple(n // 2 for n in shape[2:])] = 1.0
            return out
        return randn(shape, seed)


CONV1D = [
    pytest.param(Conv((2, 3, 11), (4, 3, 3)), id="distinct-dims"),
    pytest.param(Conv((2, 3, 11), (4, 3, 3), bias=False), id="no-bias"),
    pytest.param(Conv((2, 3, 12), (5, 3, 4), {"padding": 2, "stride": 3}), id="pad2-stride3"),
    pytest.param(Conv((1, 1, 9), (1, 1, 1)), id="K1-N1-C1-F1"),
    pytest.param(Conv((2, 2, 5), (3, 2, 7), {"padding": 1}), id="K-eq-L-plus-2p"),
    pytest.param(Conv((2, 2, 13), (3, 2, 2), {"stride": 4}), id="stride-gt-K"),
    pytest.param(Conv((2, 2, 13), (3, 2, 2), {"dilation": 3}), id="dilation3-K2"),
    pytest.param(Conv((2, 2, 14), (3, 2, 3), {"dilation": 2, "stride": 2, "padding": 1}),
                 id="dilation2-stride2-pad1"),
    pytest.param(Conv((2, 3, 10), (4, 3, 4), {"padding": "same"}), id="same-even-K"),
    pytest.param(Conv((2, 3, 10), (4, 3, 3), {"padding": "same", "dilation": 2}),
                 id="same-dilation2"),
    pytest.param(Conv((2, 3, 10), (4, 3, 4), {"padding": "valid"}), id="valid"),
    pytest.param(Conv((1, 2, 6), (2, 2, 3), {"padding": 4}), id="pad-ge-K"),
]

# Cases every 2-D layer (conv_forward/conv_backward and conv2d/conv2d_backward) must pass.
CONV2D = [
    pytest.param(Conv((2, 3, 7, 9), (5, 3, 3, 2)), id="distinct-dims"),
    pytest.param(Conv((2, 3, 7, 9), (5, 3, 3, 2), {"padding": 1}), id="pad1-distinct-dims"),
    pytest.param(Conv((2, 3, 7, 9), (5, 3, 3, 2), {"stride": 2, "padding": 1}),
                 id="stride2-pad1-distinct-dims"),
    pytest.param(Conv((2, 3, 5, 6), (4, 3, 2, 3), {"padding": 3}), id="pad-ge-kernel"),
    pytest.param(Conv((2, 3, 7, 9), (4, 3, 2, 4), {"padding": "same"}), id="same-even-kernel"),
    pytest.param(Conv((2, 3, 7, 8), (4, 3, 1, 1), {"stride": 2}), id="1x1-stride2"),
    pytest.param(Conv((2, 3, 4, 5), (3, 3, 6, 7), {"padding": 1}), id="kernel-eq-padded-input"),
    pytest.param(Conv((1, 2, 3, 4), (2, 2, 5, 5), {"padding": 1}), id="kernel-gt-input"),
    pytest.param(Conv((2, 3, 11, 10), (4, 3, 2, 2), {"stride": 3}), id="stride-gt-kernel"),
    pytest.param(Conv((2, 2, 8, 9), (3, 2, 3, 3), {"stride": 2}), id="stride-not-dividing"),
    pytest.param(Conv((2, 2, 9, 10), (3, 2, 3, 2), {"stride": (2, 3), "padding": (1, 2)}),
                 id="asymmetric-stride-pad"),
    pytest.param(Conv((1, 1, 6, 5), (1, 1, 3, 2)), id="N1-C1-F1"),
    pytest.param(Conv((2, 4, 6, 7), (3, 4, 3, 3), {"padding": 1}, dout="zeros"), id="dout-zero"),
    pytest.param(Conv((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}, dout="onehot"),
                 id="dout-onehot"),
]

# Cases for the general layer only: dilation, 'same'/'valid', groups.
CONV2D_GENERAL = [
    pytest.param(Conv((2, 3, 11, 12), (4, 3, 3, 3), {"stride": 2, "dilation": 2, "padding": 1}),
                 id="dilation2-stride2"),
    pytest.param(Conv((2, 3, 9, 11), (4, 3, 3, 2), {"stride": (1, 2), "dilation": (2, 1)}),
                 id="dilation-one-axis-stride-other"),
    pytest.param(Conv((2, 2, 8, 9), (3, 2, 2, 2), {"dilation": 3}), id="dilation3-K2"),
    pytest.param(Conv((2, 3, 8, 10), (4, 3, 2, 3),
                      {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 3)}),
                 id="asymmetric-stride-pad-dilation"),
    pytest.param(Conv((2, 3, 7, 8), (4, 3, 4, 2), {"padding": "same"}), id="same-even-K"),
    pytest.param(Conv((2, 3, 7, 8), (4, 3, 2, 3), {"padding": "same", "dilation": (3, 2)}),
                 id="same-dilated"),
    pytest.param(Conv((2, 3, 7, 8), (4, 3, 3, 2), {"padding": "valid"}), id="valid"),
    pytest.param(Conv((2, 3, 10, 7), (4, 3, 3, 3), {"stride": 4}), id="rows-never-visited"),
    pytest.param(Conv((2, 4, 6, 7), (6, 2, 3, 2), {"groups": 2, "padding": 1}), id="groups2"),
    pytest.param(Conv((2, 3, 6, 7), (6, 1, 3, 3), {"groups": 3, "stride": 2, "padding": 1}),
                 id="depthwise"),
    pytest.param(Conv((1, 6, 9, 8), (4, 3, 2, 3), {"groups": 2, "dilation": 2, "stride": (1, 2)}),
                 id="groups2-dilated"),
    pytest.param(Conv((2, 3, 7, 9), (5, 3, 3, 2), {"stride": 2}, bias=False), id="no-bias"),
]



def random_conv2d_cases(count: int, seed: int = 2024) -> list:
    """Seeded sweep over shapes, per-axis stride/padding/dilation and groups (valid ones only)."""
    rng, cases = np.random.default_rng(seed), []
    while len(cases) < count:
        G, Cg, Fg, N = (int(v) for v in rng.integers(1, 4, 4))
        (H, W), (KH, KW) = rng.integers(3, 10, 2).tolist(), rng.integers(1, 5, 2).tolist()
        s, p, d = (tuple(rng.integers(lo, hi, 2).tolist()) for lo, hi in ((1, 4), (0, 3), (1, 3)))
        if H + 2 * p[0] < d[0] * (KH - 1) + 1 or W + 2 * p[1] < d[1] * (KW - 1) + 1:
            continue
        kwargs = {"stride": s, "padding": p, "dilation": d, "groups": G}
        case = Conv((N, G * Cg, H, W), (G * Fg, Cg, KH, KW), kwargs)
        cases.append(pytest.param(case, id=f"random-{len(cases):02d}"))
    return cases

def layer_cases(*tables_by_function):
    """Flatten (function, table) pairs into params with ids like 'conv2d[distinct-dims]'."""
    return [pytest.param(func, *p.values, id=f"{func}[{p.id}]")
            for func, table in tables_by_function for p in table]


FORWARD = layer_cases(("conv1d", CONV1D), ("conv_forward", CONV2D),
                      ("conv2d", CONV2D + CONV2D_GENERAL + random_conv2d_cases(16)))
BACKWARD = layer_cases(("conv_forward", CONV2D),
                       ("conv2d", CONV2D + CONV2D_GENERAL + random_conv2d_cases(16)))


@pytest.mark.parametrize(("func", "case"), FORWARD)
def test_conv_matches_oracle(func, case):
    args = case.args()
    if func == "conv_forward" and args[2] is None:
        args = args[:2] + (np.zeros(case.w[0]),)
    y = REF[func](*args, **case.kwargs)
    assert y.dtype == np.float64
    assert rel_err(y, getattr(oracles, func)(*args, **case.kwargs)) <= 1e-12


@pytest.mark.parametrize(("func", "case"), BACKWARD)
def test_conv_backward_matches_oracle(func, case):
    x, w, b = case.args()
    dout = case.make_dout(REF[func](x, w, np.zeros(w.shape[0]), **case.kwargs).shape)
    grads = REF[BACKWARD_OF[func]](dout, x, w, **case.kwargs)
    expected = getattr(oracles, BACKWARD_OF[func])(dout, x, w, **case.kwargs)
    for got, want, shape in zip(grads, expected, (x.shape, w.shape, (w.shape[0],)), strict=True):
        assert got.shape == shape and got.dtype == np.float64
        assert rel_err(got, want) <= 1e-12
        assert np.all(got[want == 0] == 0)  # cells no window reaches stay exactly zero


@pytest.mark.parametrize(("func", "case"), BACKWARD)
def test_conv_backward_matches_numerical_gradient(func, case):
    x, w, b = case.args()
    b = np.zeros(w.shape[0]) if b is None else b
    forward, kw = REF[func], case.kwargs
    dout = randn(forward(x, w, b, **kw).shape, 3)
    dx, dw, db = REF[BACKWARD_OF[func]](dout, x, w, **kw)
    assert rel_err(dx, numerical_gradient(lambda t: forward(t, w, b, **kw), x.copy(), dout)) <= 1e-6
    assert rel_err(dw, numerical_gradient(lambda t: forward(x, t, b, **kw), w.copy(), dout)) <= 1e-6
    assert rel_err(db, numerical_gradient(lambda t: forward(x, w, t, **kw), b.copy(), dout)) <= 1e-6


@pytest.mark.parametrize("func", ["conv_forward", "conv2d"])
def test_conv_border_is_exactly_the_bias_when_padding_exceeds_kernel(func):
    x, w, b = Conv((2, 3, 5, 6), (4, 3, 2, 3)).args()
    out = REF[func](x, w, b, padding=3)
    assert np.array_equal(out[:, :, 0, :], np.broadcast_to(b[None, :, None], out[:, :, 0, :].shape))


def test_conv2d_equals_conv_forward_and_backward():
    x, w, b = Conv((2, 3, 7, 9), (5, 3, 3, 2)).args()
    kw = {"stride": (2, 1), "padding": (1, 2)}
    out = REF["conv_forward"](x, w, b, **kw)
    assert rel_err(REF["conv2d"](x, w, b, **kw), out) <= 1e-15
    dout = randn(out.shape, 5)
    grads = REF["conv_backward"](dout, x, w, **kw)
    for a, c in zip(grads, REF["conv2d_backward"](dout, x, w, **kw), strict=True):
        assert rel_err(a, c) <= 1e-15


# ---------------------------------------------------------------- convolve1d

LENGTHS = [
    pytest.param(9, 4, id="N9-M4-even"),
    pytest.param(9, 3, id="N9-M3-odd"),
    pytest.param(4, 9, id="M-gt-N-even-N"),
    pytest.param(3, 8, id="M-gt-N-odd-N"),
    pytest.param(6, 6, id="M-eq-N"),
    pytest.param(7, 1, id="M1"),
    pytest.param(1, 5, id="N1"),
    pytest.param(1, 1, id="N1-M1"),
]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(("n", "m"), LENGTHS)
def test_convolve1d_matches_numpy_and_oracle(n, m, mode):
    rng = np.random.default_rng(n * 10 + m)
    a, v = rng.integers(-5, 6, n), rng.integers(-5, 6, m)  # non-palindromic in practice
    y = REF["convolve1d"](a, v, mode)
    expected = np.convolve(a, v, mode)
    assert y.dtype == expected.dtype and np.array_equal(y, expected)  # integers: exact
    af, vf = randn(n, 1), randn(m, 2)
    y = REF["convolve1d"](af, vf, mode)
    assert rel_err(y, oracles.convolve1d(af, vf, mode)) <= 1e-12
    assert rel_err(y, np.convolve(af, vf, mode)) <= 1e-12


@pytest.mark.parametrize(("dtype_a", "dtype_v"), [("int32", "int32"), ("int8", "int64"),
                                                  ("float32", "float32"), ("int64", "float32"),
                                                  ("bool", "int16")])
def test_convolve1d_dtype_follows_numpy(dtype_a, dtype_v):
    rng = np.random.default_rng(0)
    a, v = rng.integers(0, 3, 10).astype(dtype_a), rng.integers(-2, 3, 4).astype(dtype_v)
    y, expected = REF["convolve1d"](a, v), np.convolve(a, v)
    assert y.dtype == expected.dtype and np.array_equal(y, expected)


# ---------------------------------------------------------------- pooling

@dataclass(frozen=True)
class Pool:
    x: tuple[int, int, int, int]
    kernel_size: int | tuple[int, int]
    kwargs: dict = field(default_factory=dict)
    data: str = "randn"  # randn | ties | negative

    def make_x(self, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.data == "ties":
            return rng.integers(0, 3, self.x).astype(np.float64)
        if self.data == "negative":
            return -1.0 - rng.random(self.x)
        return rng.standard_normal(self.x)


POOL = [
    pytest.param(Pool((2, 3, 8, 6), 2), id="k2-default-stride"),
    pytest.param(Pool((2, 3, 9, 9), 3, {"stride": 2}), id="overlapping-k3-s2"),
    pytest.param(Pool((2, 3, 9, 9), 3, {"stride": 2}, "ties"), id="overlapping-ties"),
    pytest.param(Pool((2, 2, 10, 11), 2, {"stride": 3}), id="gaps-stride-gt-kernel"),
    pytest.param(Pool((2, 3, 9, 8), (3, 2), {"stride": (2, 1)}), id="non-square-window-stride"),
    pytest.param(Pool((2, 3, 9, 8), (3, 2), {"stride": (2, 1)}, "ties"), id="non-square-ties"),
    pytest.param(Pool((2, 2, 7, 9), 2), id="H-not-divisible"),
    pytest.param(Pool((2, 3, 5, 7), (5, 7)), id="global"),
    pytest.param(Pool((2, 2, 5, 6), 1, {"stride": 2}), id="kernel1-stride2"),
    pytest.param(Pool((1, 1, 6, 6), 2, {"stride": 1}, "ties"), id="N1-C1-ties"),
    pytest.param(Pool((2, 2, 6, 7), 3, {"stride": 1, "padding": 1}, "negative"),
                 id="negative-pad1"),
    pytest.param(Pool((2, 2, 7, 6), (3, 2), {"stride": 2, "padding": (1, 1)}, "negative"),
                 id="negative-pad-non-square"),
    pytest.param(Pool((2, 3, 9, 9), 3, {"stride": 2, "padding": 1}, "ties"), id="ties-pad1"),
    pytest.param(Pool((1, 2, 8, 7), (4, 3), {"stride": (3, 2), "padding": (2, 0)}),
                 id="pad-half-kernel-one-axis"),
]



def random_pool_cases(count: int, seed: int = 7) -> list:
    """Seeded sweep over shapes, windows, strides and legal paddings, on tie-heavy data too."""
    rng, cases = np.random.default_rng(seed), []
    while len(cases) < count:
        (H, W), (KH, KW) = rng.integers(2, 10, 2).tolist(), rng.integers(1, 5, 2).tolist()
        s = tuple(rng.integers(1, 4, 2).tolist())
        p = (int(rng.integers(0, KH // 2 + 1)), int(rng.integers(0, KW // 2 + 1)))
        if H + 2 * p[0] < KH or W + 2 * p[1] < KW:
            continue
        data = ("randn", "ties", "negative")[len(cases) % 3]
        case = Pool((2, 2, H, W), (KH, KW), {"stride": s, "padding": p}, data)
        cases.append(pytest.param(case, id=f"random-{len(cases):02d}-{data}"))
    return cases


POOL = POOL + random_pool_cases(12)

@pytest.mark.parametrize("case", POOL)
def test_max_pool_matches_oracle(case):
    x = case.make_x()
    out = REF["max_pool_forward"](x, case.kernel_size, **case.kwargs)
    assert out.dtype == x.dtype
    assert np.array_equal(out, oracles.max_pool_forward(x, case.kernel_size, **case.kwargs))
    dout = randn(out.shape, 1)
    dx = REF["max_pool_backward"](dout, x, case.kernel_size, **case.kwargs)
    assert rel_err(dx, oracles.max_pool_backward(dout, x, case.kernel_size, **case.kwargs)) <= 1e-12


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["include-pad", "exclude-pad"])
@pytest.mark.parametrize("case", POOL)
def test_avg_pool_matches_oracle(case, count_include_pad):
    x, k = case.make_x(), case.kernel_size
    kw = {**case.kwargs, "count_include_pad": count_include_pad}
    out = REF["avg_pool_forward"](x, k, **kw)
    assert rel_err(out, oracles.avg_pool_forward(x, k, **kw)) <= 1e-12
    dout = randn(out.shape, 1)
    dx = REF["avg_pool_backward"](dout, x.shape, k, **kw)
    assert rel_err(dx, oracles.avg_pool_backward(dout, x.shape, k, **kw)) <= 1e-12


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["include-pad", "exclude-pad"])
@pytest.mark.parametrize("case", [p for p in POOL if p.values[0].data != "ties"])
def test_pool_backward_matches_numerical_gradient(case, count_include_pad):
    k, kw = case.kernel_size, case.kwargs
    # distinct values 0.01 apart: no ties, and no max changes place within +-h
    x = np.random.default_rng(0).permutation(np.prod(case.x)).reshape(case.x) * 0.01 - 1.0
    dout = randn(REF["max_pool_forward"](x, k, **kw).shape, 1)
    if count_include_pad:  # the max pool has no such flag: check it once
        dx = REF["max_pool_backward"](dout, x, k, **kw)
        num = numerical_gradient(lambda t: REF["max_pool_forward"](t, k, **kw), x.copy(), dout)
        assert rel_err(dx, num) <= 1e-6
    kw = {**kw, "count_include_pad": count_include_pad}
    dx = REF["avg_pool_backward"](dout, x.shape, k, **kw)
    num = numerical_gradient(lambda t: REF["avg_pool_forward"](t, k, **kw), x.copy(), dout)
    assert rel_err(dx, num) <= 1e-6


@pytest.mark.parametrize(("x", "kwargs", "expected"), [
    pytest.param([[1, 3], [3, 0]], {"kernel_size": 2}, [[0, 1], [0, 0]], id="first-of-two-maxima"),
    pytest.param([[2, 2], [2, 2]], {"kernel_size": 2}, [[1, 0], [0, 0]], id="all-tied"),
    pytest.param([[0, 0, 0], [0, 5, 0], [0, 0, 0]], {"kernel_size": 2, "stride": 1},
                 [[0, 0, 0], [0, 4, 0], [0, 0, 0]], id="overlapping-windows-accumulate"),
    pytest.param([[1, 1, 1], [1, 1, 1]], {"kernel_size": 3, "stride": 1, "padding": 1},
                 [[4, 2, 0], [0, 0, 0]], id="ties-with-padding"),
])
def test_max_pool_backward_routes_to_first_maximum(x, kwargs, expected):
    x = np.array(x, dtype=np.float64)[None, None]
    dout = np.ones(REF["max_pool_forward"](x, **kwargs).shape)
    dx = REF["max_pool_backward"](dout, x, **kwargs)
    assert np.array_equal(dx[0, 0], np.array(expected, dtype=np.float64))


def test_max_pool_pads_with_minus_infinity():
    x = np.full((1, 2, 4, 5), -5.0)
    out = REF["max_pool_forward"](x, 2, stride=1, padding=1)
    assert np.array_equal(out, np.full((1, 2, 5, 6), -5.0))


def test_max_pool_backward_with_more_taps_than_a_byte_counts():
    """A 16x17 window has 272 taps: the tap numbers need more than 8 bits."""
    x = np.random.default_rng(0).standard_normal((1, 2, 16, 17))
    x[0, 1, -1, -1] = 10.0  # the very last tap holds the maximum
    dout = np.array([2.0, 3.0]).reshape(1, 2, 1, 1)
    dx = REF["max_pool_backward"](dout, x, (16, 17))
    assert rel_err(dx, oracles.max_pool_backward(dout, x, (16, 17))) == 0
    assert dx[0, 1, -1, -1] == 3.0


# ---------------------------------------------------------------- empty batches

EMPTY = [
    pytest.param("conv1d", Conv((3, 2, 9), (4, 2, 3), {"padding": 1, "stride": 2}), id="conv1d"),
    pytest.param("conv_forward", Conv((3, 2, 7, 6), (4, 2, 3, 3), {"stride": 2, "padding": 1}),
                 id="conv_forward-stride2"),
    pytest.param("conv2d", Conv((3, 4, 7, 6), (6, 2, 3, 2), {"padding": "same", "dilation": 2,
                                                             "groups": 2}), id="conv2d-same-groups"),
]


@pytest.mark.parametrize(("func", "case"), EMPTY)
def test_empty_batch_gives_empty_outputs_and_zero_weight_gradients(func, case):
    x, w, b = case.args()
    x = x[:0]
    y = REF[func](x, w, b, **case.kwargs)
    assert y.shape == (0, w.shape[0], *getattr(oracles, func)(case.args()[0][:1], w, b,
                                                               **case.kwargs).shape[2:])
    if func in BACKWARD_OF:
        dx, dw, db = REF[BACKWARD_OF[func]](np.zeros(y.shape), x, w, **case.kwargs)
        assert dx.shape == x.shape
        assert np.array_equal(dw, np.zeros_like(w)) and np.array_equal(db, np.zeros(w.shape[0]))


# ---------------------------------------------------------------- validation

def A(*shape):
    """An argument placeholder: a seeded randn array of this shape."""
    return ("array", shape)


BAD = [
    pytest.param("conv_forward", (A(1, 1, 3, 3), A(1, 1, 5, 5), A(1)), {}, "output size",
                 id="conv_forward-kernel-gt-input"),
    pytest.param("conv_forward", (A(1, 1, 5, 5), A(1, 1, 3, 3), A(1)), {"stride": 0}, "stride",
                 id="conv_forward-stride0"),
    pytest.param("conv_forward", (A(1, 1, 5, 5), A(1, 1, 3, 3), A(1)), {"padding": -1}, "padding",
                 id="conv_forward-negative-padding"),
    pytest.param("conv_forward", (A(1, 2, 5, 5), A(1, 3, 3, 3), A(1)), {}, "channels",
                 id="conv_forward-channel-mismatch"),
    pytest.param("conv_backward", (A(1, 1, 1, 1), A(1, 1, 3, 3), A(1, 1, 5, 5)), {}, "output size",
                 id="conv_backward-kernel-gt-input"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"padding": "same", "stride": 2},
                 "same", id="conv2d-same-strided"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"dilation": 0}, "dilation",
                 id="conv2d-dilation0"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"stride": (1, 2, 3)}, "stride",
                 id="conv2d-stride-triple"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"stride": 1.5}, "stride",
                 id="conv2d-stride-float"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"padding": "full"}, "padding",
                 id="conv2d-padding-full"),
    pytest.param("conv2d", (A(1, 2, 5, 5), A(2, 2, 3, 3)), {"padding": (1, -1)}, "padding",
                 id="conv2d-padding-negative-w"),
    pytest.param("conv2d", (A(1, 1, 5, 5), A(1, 1, 3, 3)), {"dilation": 3}, "output size",
                 id="conv2d-dilated-kernel-gt-padded-input"),
    pytest.param("conv2d", (A(1, 4, 5, 5), A(3, 1, 3, 3)), {"groups": 3}, "groups",
                 id="conv2d-groups-not-dividing-C"),
    pytest.param("conv2d", (A(1, 4, 5, 5), A(6, 1, 3, 3)), {"groups": 4}, "groups",
                 id="conv2d-groups-not-dividing-F"),
    pytest.param("conv2d", (A(1, 4, 5, 5), A(6, 4, 3, 3)), {"groups": 2}, "groups",
                 id="conv2d-weight-not-per-group"),
    pytest.param("conv2d", (A(1, 4, 5, 5), A(4, 4, 3, 3)), {"groups": 0}, "groups",
                 id="conv2d-groups0"),
    pytest.param("conv2d_backward", (A(1, 2, 3, 3), A(1, 2, 5, 5), A(2, 2, 3, 3)),
                 {"padding": "same", "stride": (1, 2)}, "same", id="conv2d_backward-same-strided"),
    pytest.param("conv1d", (A(1, 1, 5), A(1, 1, 3)), {"padding": "same", "stride": 2}, "same",
                 id="conv1d-same-strided"),
    pytest.param("conv1d", (A(1, 1, 3), A(1, 1, 5)), {}, "output size", id="conv1d-K-gt-L"),
    pytest.param("conv1d", (A(1, 1, 5), A(1, 1, 3)), {"dilation": 0}, "dilation",
                 id="conv1d-dilation0"),
    pytest.param("convolve1d", (A(5), A(3)), {"mode": "circular"}, "mode", id="convolve1d-mode"),
    pytest.param("convolve1d", (A(0), A(3)), {}, "empty", id="convolve1d-empty"),
    pytest.param("convolve1d", (A(2, 3), A(3)), {}, "1-D", id="convolve1d-2d-input"),
    pytest.param("max_pool_forward", (A(1, 1, 6, 6), 3), {"padding": 2}, "padding",
                 id="max_pool-padding-gt-half-kernel"),
    pytest.param("max_pool_forward", (A(1, 1, 6, 6), (3, 1)), {"padding": (0, 1)}, "padding",
                 id="max_pool-padding-gt-half-kernel-w"),
    pytest.param("max_pool_forward", (A(1, 1, 3, 3), 4), {}, "output size",
                 id="max_pool-kernel-gt-input"),
    pytest.param("max_pool_forward", (A(1, 1, 6, 6), 0), {}, "kernel_size", id="max_pool-kernel0"),
    pytest.param("max_pool_backward", (A(1, 1, 3, 3), A(1, 1, 6, 6), 2), {"stride": 0}, "stride",
                 id="max_pool_backward-stride0"),
    pytest.param("avg_pool_forward", (A(1, 1, 6, 6), 2), {"padding": 2}, "padding",
                 id="avg_pool-padding-gt-half-kernel"),
    pytest.param("avg_pool_backward", (A(1, 1, 3, 3), (1, 1, 6, 6), 2), {"padding": (2, 0)},
                 "padding", id="avg_pool_backward-padding-gt-half-kernel"),
]


def build(args, dtype="float64", layout="C") -> list:
    """Turn A(...) placeholders into seeded arrays of `dtype` in the given memory layout."""
    built = []
    for seed, arg in enumerate(args):
        if isinstance(arg, tuple) and arg[:1] == ("array",):
            built.append(with_layout(randn(arg[1], seed).astype(dtype), layout))
        else:
            built.append(arg)
    return built


def with_layout(a: np.ndarray, layout: str) -> np.ndarray:
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":  # every other element of a twice-as-wide array
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    if layout == "readonly":
        a = a.copy()
        a.setflags(write=False)
    return a


@pytest.mark.parametrize(("func", "args", "kwargs", "match"), BAD)
def test_invalid_parameters_raise_value_error(func, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        REF[func](*build(args), **kwargs)


# ---------------------------------------------------------------- dtype and layout

# One representative call per function, with shapes that make every component distinct.
CALLS = [
    pytest.param("convolve1d", (A(11), A(4)), {"mode": "same"}, id="convolve1d"),
    pytest.param("conv1d", (A(2, 3, 11), A(4, 3, 3), A(4)),
                 {"stride": 2, "padding": 1, "dilation": 2}, id="conv1d"),
    pytest.param("conv_forward", (A(2, 3, 7, 9), A(5, 3, 3, 2), A(5)), {"stride": 2, "padding": 1},
                 id="conv_forward"),
    pytest.param("conv_backward", (A(2, 5, 4, 5), A(2, 3, 7, 9), A(5, 3, 3, 2)),
                 {"stride": 2, "padding": 1}, id="conv_backward"),
    pytest.param("conv2d", (A(2, 4, 9, 10), A(6, 2, 3, 2), A(6)),
                 {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2},
                 id="conv2d"),
    pytest.param("conv2d_backward", (A(2, 6, 5, 12), A(2, 4, 9, 10), A(6, 2, 3, 2)),
                 {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2},
                 id="conv2d_backward"),
    pytest.param("max_pool_forward", (A(2, 3, 9, 8), (3, 2)), {"stride": 2, "padding": 1},
                 id="max_pool_forward"),
    pytest.param("max_pool_backward", (A(2, 3, 5, 5), A(2, 3, 9, 8), (3, 2)),
                 {"stride": 2, "padding": 1}, id="max_pool_backward"),
    pytest.param("avg_pool_forward", (A(2, 3, 9, 8), (3, 2)),
                 {"stride": 2, "padding": 1, "count_include_pad": False}, id="avg_pool_forward"),
    pytest.param("avg_pool_backward", (A(2, 3, 5, 5), (2, 3, 9, 8), (3, 2)),
                 {"stride": 2, "padding": 1, "count_include_pad": False}, id="avg_pool_backward"),
]


def as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize(("func", "args", "kwargs"), CALLS)
def test_float32_stays_float32_and_close_to_float64(func, args, kwargs):
    got = as_tuple(REF[func](*build(args, "float32"), **kwargs))
    # the float64 reference sees the very same (float32-rounded) values
    as64 = [a.astype(np.float64) if isinstance(a, np.ndarray) else a
            for a in build(args, "float32")]
    want = as_tuple(REF[func](*as64, **kwargs))
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float32
        assert rel_err(g, w) <= 2e-5


@pytest.mark.parametrize("layout", ["readonly", "strided", "fortran"])
@pytest.mark.parametrize(("func", "args", "kwargs"), CALLS)
def test_layouts_give_identical_results_and_inputs_stay_unmodified(func, args, kwargs, layout):
    expected = as_tuple(REF[func](*build(args), **kwargs))
    inputs = build(args, layout=layout)
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in inputs]
    got = as_tuple(REF[func](*inputs, **kwargs))
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype and np.array_equal(g, e)
    for a, b in zip(inputs, before, strict=True):
        assert not isinstance(a, np.ndarray) or np.array_equal(a, b)
