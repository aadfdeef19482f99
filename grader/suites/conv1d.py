"""Hidden suite for conv1d: `convolve1d` (np.convolve semantics) and the `conv1d` layer."""

from __future__ import annotations

import numpy as np

from grader.cases import Case, Layout, Tier, randint, randn


def signal(case_id: str, n: int, m: int, seed: int, points: float, tier: Tier = "core",
           dtype: str = "float64", raises: str | None = None, **kwargs) -> Case:
    """`convolve1d(a (n,), v (m,), **kwargs)`; a from `seed`, v from `seed + 1` (ints if int64)."""
    make = randint if dtype == "int64" else randn
    a, v = make((n,), seed, dtype=dtype), make((m,), seed + 1, dtype=dtype)
    return Case(case_id, "convolve1d", (a, v), kwargs, points, tier, raises)


def layer(case_id: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], seed: int,
          points: float, tier: Tier = "core", dtype: str = "float64", bias: bool = True,
          raises: str | None = None, layout: Layout = "C", readonly: bool = False,
          **kwargs) -> Case:
    """`conv1d(x, w[, b], **kwargs)`; x from `seed`, w from `seed + 1`, b (F,) from `seed + 2`.

    With `bias=False` the b argument is left out (its default is None).
    """
    x, w = randn(x_shape, seed, dtype), randn(w_shape, seed + 1, dtype)
    args = (x, w, randn((w_shape[0],), seed + 2, dtype)) if bias else (x, w)
    return Case(case_id, "conv1d", args, kwargs, points, tier, raises, layout, readonly)


CASES: tuple[Case, ...] = (
    # convolve1d: true convolution in the three modes, ordinary float inputs (core)
    signal("convolve-full-odd-kernel", 9, 3, 1010, 5, mode="full"),
    signal("convolve-full-even-kernel", 10, 4, 1020, 5, mode="full"),
    signal("convolve-same-odd-kernel", 11, 5, 1030, 5, mode="same"),
    signal("convolve-same-kernel7", 15, 7, 1190, 4, mode="same"),
    signal("convolve-valid-odd-kernel", 12, 5, 1050, 5, mode="valid"),
    signal("convolve-valid-even-kernel", 9, 6, 1060, 5, mode="valid"),
    signal("convolve-default-mode-is-full", 7, 4, 1090, 3),
    # convolve1d: even 'same', M > N, M == N, M == 1, integers, float32, invalid input (edge)
    signal("convolve-same-even-kernel", 9, 4, 1040, 1, "edge", mode="same"),
    signal("convolve-kernel-longer-same", 5, 9, 1100, 1, "edge", mode="same"),
    signal("convolve-kernel-longer-same-even-signal", 4, 7, 1110, 1, "edge", mode="same"),
    signal("convolve-kernel-longer-valid", 3, 8, 1120, 1, "edge", mode="valid"),
    signal("convolve-equal-lengths-valid", 6, 6, 1140, 1, "edge", mode="valid"),
    signal("convolve-equal-lengths-same", 6, 6, 1150, 1, "edge", mode="same"),
    signal("convolve-length1-kernel-same", 7, 1, 1160, 1, "edge", mode="same"),
    signal("convolve-int64-full", 8, 5, 1070, 1, "edge", dtype="int64", mode="full"),
    signal("convolve-int64-same-even-kernel", 10, 4, 1080, 1, "edge", dtype="int64", mode="same"),
    signal("convolve-int64-kernel-longer-valid", 4, 7, 1130, 1, "edge", dtype="int64",
           mode="valid"),
    signal("convolve-float32-same", 12, 5, 1180, 1, "edge", dtype="float32", mode="same"),
    signal("convolve-empty-signal-raises", 0, 3, 1200, 1, "edge", raises="ValueError"),
    signal("convolve-unknown-mode-raises", 6, 3, 1210, 1, "edge", raises="ValueError",
           mode="circular"),
    # conv1d layer: cross-correlation with channels, filters, bias, stride, padding, dilation (core)
    layer("conv1d-distinct-dims", (2, 3, 11), (4, 3, 3), 2010, 6),
    layer("conv1d-pad2-even-kernel", (2, 3, 10), (5, 3, 4), 2020, 5, padding=2),
    layer("conv1d-stride2-pad1-not-dividing", (2, 3, 12), (5, 3, 3), 2030, 6, stride=2, padding=1),
    layer("conv1d-dilation3-stride2-pad2", (2, 3, 14), (3, 3, 3), 2060, 6,
          stride=2, padding=2, dilation=3),
    layer("conv1d-same-dilation2", (2, 2, 9), (3, 2, 3), 2080, 5, padding="same", dilation=2),
    layer("conv1d-bias-none", (2, 3, 8), (4, 3, 3), 2090, 5, bias=False, padding=1),
    layer("conv1d-five-channels-stride2", (2, 5, 9), (3, 5, 3), 2200, 5, stride=2),
    # conv1d layer: corner sizes, float32, layouts and invalid arguments (edge)
    layer("conv1d-same-even-kernel", (2, 3, 10), (4, 3, 4), 2070, 1, "edge", padding="same"),
    layer("conv1d-same-kernel2-dilation3", (2, 3, 10), (4, 3, 2), 2210, 1, "edge",
          padding="same", dilation=3),
    layer("conv1d-stride3-greater-than-kernel", (2, 2, 13), (3, 2, 2), 2040, 1, "edge",
          stride=3),
    layer("conv1d-dilation2-kernel2", (2, 3, 9), (4, 3, 2), 2050, 1, "edge", dilation=2),
    layer("conv1d-float32-stride2", (2, 3, 11), (4, 3, 3), 2100, 1, "edge", dtype="float32",
          stride=2),
    layer("conv1d-valid", (2, 3, 9), (4, 3, 4), 2110, 1, "edge", padding="valid"),
    layer("conv1d-one-output", (2, 3, 5), (4, 3, 7), 2120, 1, "edge", padding=1),
    layer("conv1d-n1-c1", (1, 1, 8), (3, 1, 3), 2130, 1, "edge", padding=1),
    layer("conv1d-kernel1-stride2", (2, 3, 9), (4, 3, 1), 2140, 1, "edge", stride=2),
    layer("conv1d-readonly-strided", (2, 3, 10), (4, 3, 3), 2150, 1, "edge",
          layout="strided", readonly=True, stride=2, padding=1),
    layer("conv1d-fortran-dilation2", (2, 3, 9), (4, 3, 3), 2190, 1, "edge", layout="F",
          dilation=2),
    layer("conv1d-output-too-short-raises", (2, 3, 5), (4, 3, 8), 2160, 1, "edge",
          raises="ValueError", padding=1),
    layer("conv1d-same-stride2-raises", (2, 3, 9), (4, 3, 3), 2170, 1, "edge",
          raises="ValueError", padding="same", stride=2),
    layer("conv1d-stride0-raises", (2, 3, 9), (4, 3, 3), 2180, 1, "edge",
          raises="ValueError", stride=0),
    # Python lists, as np.convolve takes them; integer layer inputs are outside the contract (edge)
    Case("convolve-python-lists", "convolve1d", ([3, -1, 4, 1, 5, -9, 2], [2, 7, -1, 8]),
         {"mode": "same"}, 1, "edge"),
    Case("conv1d-int-input-float-weights-raises", "conv1d",
         (randint((2, 3, 9), 2230), np.full((4, 3, 3), 0.5)), {}, 0.5, "edge", "ValueError"),
    # b is (F,) or None: a (1,) bias must not broadcast over the F filters (edge)
    Case("conv1d-bias-shape1-raises", "conv1d",
         (randn((2, 3, 9), 2240), randn((4, 3, 3), 2241), randn((1,), 2242)), {}, 0.5, "edge",
         "ValueError"),
    # L + 2p - K = -1 with stride 2: floor gives no output, int() truncation toward zero gives one
    layer("conv1d-int-truncation-kernel-past-input-raises", (2, 3, 5), (4, 3, 6), 2220, 1, "edge",
          raises="ValueError", stride=2),
)

# One medium case per function, not scored: a vectorized solution takes a few ms (the reference
# about 2 ms), a learner's Python-loop solution well under a second.
PERFORMANCE: tuple[Case, ...] = (
    signal("perf-convolve1d", 200_000, 12, 1900, 0, mode="same"),
    layer("perf-conv1d", (8, 64, 256), (32, 64, 9), 2900, 0, padding=4),
)

# Functions compared exactly rather than within the tolerance: none here.
EXACT: tuple[str, ...] = ()

# Names of the arrays a function returns as a tuple: none here.
RETURNS: dict[str, tuple[str, ...]] = {}
