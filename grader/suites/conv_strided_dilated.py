"""Hidden suite for conv_strided_dilated: `conv2d` and `conv2d_backward`, dilation and groups."""

from __future__ import annotations

import numpy as np

from grader.cases import Case, Layout, Tier, onehot, randint, randn

# Names of the arrays `conv2d_backward` returns, for the failure messages.
RETURNS = {"conv2d_backward": ("dx", "dw", "db")}


def out_shape(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride=1, padding=0,
              dilation=1, groups=1) -> tuple[int, int, int, int]:
    """The forward output shape `(N, F, H_out, W_out)` (clamped to >= 1 for the raising cases)."""
    (n, _, height, width), (f, _, kernel_h, kernel_w) = x_shape, w_shape
    stride_h, stride_w = np.maximum(np.broadcast_to(stride, 2), 1)
    dil_h, dil_w = np.broadcast_to(dilation, 2)
    if padding == "same":  # the total padding d*(K-1) cancels the kernel extent
        return n, f, int((height - 1) // stride_h + 1), int((width - 1) // stride_w + 1)
    pad_h, pad_w = (0, 0) if padding == "valid" else np.broadcast_to(padding, 2)
    out_h = (height + 2 * pad_h - dil_h * (kernel_h - 1) - 1) // stride_h + 1
    out_w = (width + 2 * pad_w - dil_w * (kernel_w - 1) - 1) // stride_w + 1
    return n, f, max(int(out_h), 1), max(int(out_w), 1)


def fwd(case_id: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], seed: int,
        points: float, tier: Tier = "core", dtype: str = "float64", bias: bool = True,
        raises: str | None = None, layout: Layout = "C", readonly: bool = False,
        **kwargs) -> Case:
    """`conv2d(x, w[, b], **kwargs)`; x from `seed`, w from `seed + 1`, b (F,) from `seed + 2`.

    With `bias=False` the b argument is left out (its default is None).
    """
    x, w = randn(x_shape, seed, dtype), randn(w_shape, seed + 1, dtype)
    args = (x, w, randn((w_shape[0],), seed + 2, dtype)) if bias else (x, w)
    return Case(case_id, "conv2d", args, kwargs, points, tier, raises, layout, readonly)


def bwd(case_id: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], seed: int,
        points: float, tier: Tier = "core", dtype: str = "float64",
        dout: str | tuple[int, ...] = "randn", raises: str | None = None, layout: Layout = "C",
        readonly: bool = False, **kwargs) -> Case:
    """`conv2d_backward(dout, x, w, **kwargs)`; x from `seed`, w from `seed + 1`.

    `dout` has the forward output shape: "randn" (from `seed + 2`) or an index for a one-hot probe;
    "batch1" gives it a batch of one instead of N (a wrong shape, which must not broadcast).
    """
    x, w = randn(x_shape, seed, dtype), randn(w_shape, seed + 1, dtype)
    shape = out_shape(x_shape, w_shape, **kwargs)
    if dout in ("randn", "batch1"):
        g = randn(shape if dout == "randn" else (1,) + shape[1:], seed + 2, dtype)
    else:
        g = onehot(shape, dout, dtype)
    return Case(case_id, "conv2d_backward", (g, x, w), kwargs, points, tier, raises, layout,
                readonly)


CASES: tuple[Case, ...] = (
    # conv2d: per-axis stride and padding, dilation (with stride, on one axis, K == 2) (core)
    fwd("fwd-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 5010, 4),
    fwd("fwd-stride2x3-pad1x2", (2, 3, 7, 9), (5, 3, 3, 2), 5020, 4, stride=(2, 3),
        padding=(1, 2)),
    fwd("fwd-dilation2-stride2", (2, 3, 11, 12), (5, 3, 3, 3), 5030, 4, stride=2, dilation=2),
    fwd("fwd-dilation2-stride2-h-only", (2, 3, 10, 9), (4, 3, 3, 2), 5040, 4, stride=(2, 1),
        dilation=2),
    fwd("fwd-dilation2-kernel2", (2, 2, 7, 8), (3, 2, 2, 2), 5050, 3, padding=1, dilation=2),
    fwd("fwd-asymmetric-stride-pad-dilation", (2, 3, 9, 10), (4, 3, 3, 2), 5060, 4,
        stride=(1, 2), padding=(2, 1), dilation=(3, 1)),
    fwd("fwd-bias-none-dilation2", (2, 3, 8, 7), (4, 3, 3, 3), 5070, 2, bias=False, padding=2,
        dilation=2),
    fwd("fwd-float32-dilation2x3", (2, 3, 9, 8), (5, 3, 3, 2), 5080, 3, dtype="float32",
        padding=1, dilation=(2, 3)),
    # a 2-row kernel with stride 2 on an odd height: taps read at u*d*s would still fit the input
    fwd("fwd-stride2x1-dilation1x2-odd-height", (2, 3, 9, 10), (4, 3, 2, 3), 5090, 2,
        stride=(2, 1), dilation=(1, 2)),
    # conv2d_backward: the same geometry, plus rows and columns of x that no window reads (core)
    bwd("bwd-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 5110, 4),
    bwd("bwd-stride2x3-pad1x2", (2, 3, 7, 9), (5, 3, 3, 2), 5120, 4, stride=(2, 3),
        padding=(1, 2)),
    bwd("bwd-dilation2-stride2", (2, 3, 11, 12), (5, 3, 3, 3), 5130, 4, stride=2, dilation=2),
    bwd("bwd-dilation2-stride2-w-only", (2, 3, 9, 10), (4, 3, 2, 3), 5140, 4, stride=(1, 2),
        dilation=2),
    bwd("bwd-dilation2-kernel2", (2, 2, 7, 8), (3, 2, 2, 2), 5150, 3, padding=1, dilation=2),
    bwd("bwd-asymmetric-stride-pad-dilation", (2, 3, 9, 10), (4, 3, 3, 2), 5160, 4,
        stride=(1, 2), padding=(2, 1), dilation=(3, 1)),
    bwd("bwd-unvisited-rows-dilation3-stride2", (2, 2, 12, 11), (4, 2, 3, 3), 5170, 3,
        stride=2, dilation=3),
    bwd("bwd-float32-dilation2x3", (2, 3, 9, 8), (5, 3, 3, 2), 5180, 2, dtype="float32",
        padding=1, dilation=(2, 3)),
    bwd("bwd-stride1x2-dilation2x1-odd-width", (2, 3, 10, 9), (4, 3, 3, 2), 5190, 2,
        stride=(1, 2), dilation=(2, 1)),
    # 'same' (even kernels, with dilation) and 'valid'; probes, layouts, invalid arguments (edge)
    fwd("fwd-same-even-kernel", (2, 3, 7, 9), (4, 3, 4, 2), 5210, 2, "edge", padding="same"),
    fwd("fwd-same-even-kernel-dilated", (2, 3, 7, 9), (4, 3, 2, 4), 5220, 1, "edge",
        padding="same", dilation=(3, 2)),
    fwd("fwd-valid-dilation2", (2, 3, 7, 9), (4, 3, 3, 2), 5230, 1, "edge", padding="valid",
        dilation=2),
    bwd("bwd-same-even-kernel", (2, 3, 7, 9), (4, 3, 4, 2), 5240, 2, "edge", padding="same"),
    bwd("bwd-same-even-kernel-dilated", (2, 3, 7, 9), (4, 3, 2, 4), 5250, 1, "edge",
        padding="same", dilation=(3, 2)),
    bwd("bwd-valid-dilation2", (2, 3, 7, 9), (4, 3, 3, 2), 5260, 2, "edge", padding="valid",
        dilation=2),
    fwd("fwd-dilated-kernel-larger-than-input", (2, 2, 5, 6), (3, 2, 3, 3), 5270, 1, "edge",
        padding=2, dilation=3),
    bwd("bwd-onehot-dilation2-stride2", (2, 3, 11, 13), (5, 3, 3, 3), 5280, 2, "edge",
        dout=(1, 3, 2, 1), stride=2, padding=1, dilation=2),
    fwd("fwd-readonly-fortran", (2, 3, 9, 10), (4, 3, 3, 2), 5290, 1, "edge", layout="F",
        readonly=True, stride=(1, 2), dilation=(2, 1)),
    bwd("bwd-readonly-strided", (2, 3, 9, 10), (4, 3, 3, 2), 5300, 1, "edge",
        layout="strided", readonly=True, stride=(2, 1), dilation=(1, 2)),
    bwd("bwd-fortran", (2, 3, 9, 10), (4, 3, 3, 2), 5310, 1, "edge", layout="F",
        padding=1, dilation=2),
    fwd("fwd-dilated-kernel-too-large-raises", (2, 2, 6, 7), (3, 2, 3, 3), 5320, 1, "edge",
        raises="ValueError", dilation=3),
    bwd("bwd-dilated-kernel-too-large-raises", (2, 2, 6, 7), (3, 2, 3, 3), 5330, 1, "edge",
        raises="ValueError", dilation=3),
    fwd("fwd-same-stride2-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5340, 1, "edge",
        raises="ValueError", padding="same", stride=2),
    bwd("bwd-same-stride2-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5350, 1, "edge",
        raises="ValueError", padding="same", stride=(1, 2)),
    bwd("bwd-dout-batch1-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5510, 1, "edge", dout="batch1",
        raises="ValueError", stride=(2, 1), dilation=2),
    # integer inputs are outside the contract; b is (F,) or None, never broadcast (edge)
    Case("fwd-int-input-float-weights-raises", "conv2d",
         (randint((2, 3, 7, 9), 5390), np.full((4, 3, 3, 2), 0.5), randn((4,), 5392)), {}, 1,
         "edge", "ValueError"),
    Case("fwd-bias-shape1-raises", "conv2d",
         (randn((2, 3, 7, 9), 5400), randn((4, 3, 3, 2), 5401), randn((1,), 5402)), {}, 1, "edge",
         "ValueError"),
    fwd("fwd-stride0-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5360, 1, "edge",
        raises="ValueError", stride=(1, 0)),
    fwd("fwd-dilation0-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5370, 1, "edge",
        raises="ValueError", dilation=0),
    fwd("fwd-negative-padding-raises", (2, 3, 7, 9), (4, 3, 3, 2), 5380, 1, "edge",
        raises="ValueError", padding=(1, -1)),
    # groups: G == 2 with F/G > 1, depthwise G == C, invalid groups (extended)
    fwd("fwd-groups2", (2, 4, 6, 8), (6, 2, 3, 2), 5410, 2, "extended", groups=2),
    fwd("fwd-depthwise", (2, 3, 6, 7), (6, 1, 3, 3), 5420, 2, "extended", padding=1, groups=3),
    fwd("fwd-groups2-stride2-dilation2", (2, 4, 9, 8), (4, 2, 2, 3), 5430, 2, "extended",
        stride=2, dilation=2, groups=2),
    bwd("bwd-groups2", (2, 4, 6, 8), (6, 2, 3, 2), 5440, 2, "extended", groups=2),
    bwd("bwd-depthwise", (2, 3, 6, 7), (6, 1, 3, 3), 5450, 2, "extended", padding=1, groups=3),
    bwd("bwd-groups2-stride2-dilation2", (2, 4, 9, 8), (4, 2, 2, 3), 5460, 1, "extended",
        stride=2, dilation=2, groups=2),
    fwd("fwd-groups2-same-dilation2", (2, 4, 7, 9), (2, 2, 3, 2), 5490, 1, "extended",
        padding="same", dilation=2, groups=2),
    bwd("bwd-groups2-same-dilation2", (2, 4, 7, 9), (2, 2, 3, 2), 5500, 1, "extended",
        padding="same", dilation=2, groups=2),
    fwd("fwd-groups-not-dividing-channels-raises", (2, 5, 6, 7), (4, 2, 3, 3), 5470, 1,
        "extended", raises="ValueError", groups=2),
    fwd("fwd-groups-not-dividing-filters-raises", (2, 4, 6, 7), (3, 2, 3, 3), 5480, 1,
        "extended", raises="ValueError", groups=2),
)

# Medium cases for the speed comparison with the reference (not scored).
PERFORMANCE: tuple[Case, ...] = (
    fwd("perf-conv2d", (2, 128, 24, 24), (32, 128, 3, 3), 5900, 0, padding=2, dilation=2),
    bwd("perf-conv2d_backward", (2, 96, 24, 24), (48, 96, 3, 3), 5910, 0, padding=2,
        dilation=2),
)

# Functions compared exactly rather than within the tolerance: none here.
EXACT: tuple[str, ...] = ()
