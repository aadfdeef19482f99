"""Hidden suite for conv_forward: the NCHW convolution layer forward pass."""

from __future__ import annotations

import numpy as np

from grader.cases import Case, Layout, Tier, randint, randn


def conv(case_id: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], seed: int,
         points: float, tier: Tier = "core", dtype: str = "float64", raises: str | None = None,
         layout: Layout = "C", readonly: bool = False, **kwargs) -> Case:
    """`conv_forward(x, w, b, **kwargs)`; x from `seed`, w from `seed + 1`, b from `seed + 2`."""
    x, w = randn(x_shape, seed, dtype), randn(w_shape, seed + 1, dtype)
    b = randn((w_shape[0],), seed + 2, dtype)
    return Case(case_id, "conv_forward", (x, w, b), kwargs, points, tier, raises, layout, readonly)


CASES: tuple[Case, ...] = (
    # distinct dims, channels, filters, bias, padding 0 and > 0, stride 1 and 2, float32 (core)
    conv("distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 3010, 10),
    conv("pad1-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 3020, 10, padding=1),
    conv("stride2-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 3030, 9, stride=2),
    conv("stride2-pad1-distinct-dims", (2, 3, 7, 9), (4, 3, 3, 2), 3040, 10, stride=2, padding=1),
    conv("pad2-kernel3x4", (2, 4, 6, 8), (3, 4, 3, 4), 3050, 8, padding=2),
    conv("six-channels-pad1", (2, 6, 6, 7), (4, 6, 2, 3), 3060, 7, padding=1),
    conv("float32-pad1-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 3070, 8, dtype="float32",
         padding=1),
    conv("float32-stride2-pad1", (2, 3, 9, 8), (5, 3, 3, 3), 3080, 8, dtype="float32",
         stride=2, padding=1),
    # corner sizes, non-dividing strides, pairs, 'same'/'valid', layouts (edge)
    conv("padding-ge-kernel", (2, 2, 5, 6), (3, 2, 2, 3), 3090, 1, "edge", padding=3),
    conv("1x1-kernel-stride2", (2, 4, 7, 9), (3, 4, 1, 1), 3100, 1, "edge", stride=2),
    conv("kernel-equals-padded-input", (2, 3, 5, 6), (4, 3, 7, 8), 3110, 2, "edge", padding=1),
    conv("kernel-larger-than-input", (2, 3, 4, 5), (4, 3, 5, 6), 3120, 1, "edge", padding=1),
    conv("stride3-greater-than-kernel", (2, 2, 9, 11), (4, 2, 2, 3), 3130, 2, "edge", stride=3),
    conv("stride3-not-dividing", (2, 3, 10, 8), (4, 3, 3, 2), 3140, 2, "edge", stride=3),
    conv("n1-c1-f1", (1, 1, 6, 7), (1, 1, 3, 2), 3150, 2, "edge", padding=1),
    conv("per-axis-stride-padding", (2, 3, 7, 9), (4, 3, 3, 2), 3160, 2, "edge",
         stride=(2, 1), padding=(0, 2)),
    conv("same-even-kernel", (2, 3, 7, 9), (4, 3, 4, 2), 3170, 2, "edge", padding="same"),
    conv("valid", (2, 3, 7, 9), (4, 3, 3, 2), 3180, 2, "edge", padding="valid"),
    conv("readonly", (2, 3, 7, 9), (5, 3, 3, 2), 3190, 1, "edge", readonly=True, padding=1),
    conv("fortran-stride2", (2, 3, 7, 9), (5, 3, 3, 2), 3200, 1, "edge", layout="F", stride=2),
    conv("strided-pad1", (2, 3, 7, 9), (4, 3, 3, 2), 3210, 2, "edge", layout="strided",
         padding=1),
    conv("output-too-small-raises", (2, 3, 4, 5), (4, 3, 7, 3), 3220, 1, "edge",
         raises="ValueError", padding=1),
    conv("same-stride2-raises", (2, 3, 7, 9), (4, 3, 3, 2), 3230, 1, "edge",
         raises="ValueError", padding="same", stride=2),
    conv("stride0-raises", (2, 3, 7, 9), (4, 3, 3, 2), 3240, 1, "edge",
         raises="ValueError", stride=0),
    conv("channel-mismatch-raises", (2, 3, 7, 9), (4, 2, 3, 2), 3250, 1, "edge",
         raises="ValueError"),
    # b is (F,) or None; integer inputs are outside the contract (edge)
    Case("bias-none", "conv_forward", (randn((2, 3, 7, 9), 3260), randn((5, 3, 3, 2), 3261), None),
         {"stride": 2, "padding": 1}, 1, "edge"),
    Case("int-input-float-weights-raises", "conv_forward",
         (randint((2, 3, 7, 9), 3270), np.full((4, 3, 3, 2), 0.5), randn((4,), 3272)), {}, 1,
         "edge", "ValueError"),
    # H + 2p - K = -1 with stride 2: floor gives no window, int() truncation toward zero gives one
    conv("int-truncation-kernel-past-input-raises", (2, 3, 5, 6), (4, 3, 6, 7), 3280, 1, "edge",
         raises="ValueError", stride=2),
)

# One medium case, not scored: the reference takes a few ms, a Python-loop solution under a second.
PERFORMANCE: tuple[Case, ...] = (
    conv("perf-conv_forward", (4, 32, 28, 28), (32, 32, 5, 5), 3900, 0, padding=2),
)

# Functions compared exactly rather than within the tolerance: none here.
EXACT: tuple[str, ...] = ()

# Names of the arrays a function returns as a tuple: none here.
RETURNS: dict[str, tuple[str, ...]] = {}
