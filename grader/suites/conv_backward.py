"""Hidden suite for conv_backward: dx, dw, db of the NCHW convolution layer."""

from __future__ import annotations

import numpy as np

from grader.cases import Case, Layout, Tier, onehot, randn

# Names of the arrays `conv_backward` returns, for the failure messages.
RETURNS = {"conv_backward": ("dx", "dw", "db")}


def dout_shape(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride=1,
               padding=0) -> tuple[int, int, int, int]:
    """The forward output shape `(N, F, H_out, W_out)` (clamped to >= 1 for the raising cases)."""
    (n, _, height, width), (f, _, kernel_h, kernel_w) = x_shape, w_shape
    stride_h, stride_w = np.maximum(np.broadcast_to(stride, 2), 1)
    if padding == "same":  # the total padding d*(K-1) cancels the kernel extent
        return n, f, int((height - 1) // stride_h + 1), int((width - 1) // stride_w + 1)
    pad_h, pad_w = (0, 0) if padding == "valid" else np.broadcast_to(padding, 2)
    out_h = (height + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (width + 2 * pad_w - kernel_w) // stride_w + 1
    return n, f, max(int(out_h), 1), max(int(out_w), 1)


def grad(case_id: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], seed: int,
         points: float, tier: Tier = "core", dtype: str = "float64",
         dout: str | tuple[int, ...] = "randn", raises: str | None = None, layout: Layout = "C",
         readonly: bool = False, **kwargs) -> Case:
    """`conv_backward(dout, x, w, **kwargs)`; x from `seed`, w from `seed + 1`.

    `dout` of the forward output shape: "randn" (from `seed + 2`), "zeros", "one-row-short" or
    "batch1" (wrong shapes) or an index tuple for a one-hot probe.
    """
    x, w = randn(x_shape, seed, dtype), randn(w_shape, seed + 1, dtype)
    shape = dout_shape(x_shape, w_shape, **kwargs)
    if dout == "randn":
        g = randn(shape, seed + 2, dtype)
    elif dout == "zeros":
        g = np.zeros(shape, dtype=dtype)
    elif dout == "batch1":  # one image's dout for a batch of N: must not broadcast
        g = randn((1,) + shape[1:], seed + 2, dtype)
    elif dout == "one-row-short":
        g = randn(shape[:2] + (shape[2] - 1, shape[3]), seed + 2, dtype)
    else:
        g = onehot(shape, dout, dtype)
    return Case(case_id, "conv_backward", (g, x, w), kwargs, points, tier, raises, layout,
                readonly)


CASES: tuple[Case, ...] = (
    # distinct dims with F != C, padding 0 and > 0, stride 1 and 2, overlap, float32 (core)
    grad("distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 4010, 10),
    grad("pad1-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 4020, 10, padding=1),
    grad("stride2-distinct-dims", (2, 3, 7, 9), (5, 3, 3, 2), 4030, 9, stride=2),
    grad("stride2-pad1-overlap", (2, 3, 7, 9), (4, 3, 3, 2), 4040, 10, stride=2, padding=1),
    grad("pad2-kernel3x4", (2, 4, 6, 8), (3, 4, 3, 4), 4050, 8, padding=2),
    grad("kernel4x3-pad1-overlap", (2, 2, 6, 7), (5, 2, 4, 3), 4060, 7, padding=1),
    grad("float32-pad1", (2, 3, 7, 9), (5, 3, 3, 2), 4070, 8, dtype="float32", padding=1),
    grad("float32-stride2-pad1", (2, 3, 9, 8), (5, 3, 3, 3), 4080, 8, dtype="float32",
         stride=2, padding=1),
    # unvisited rows, corner sizes, probes, pairs, 'same', layouts, invalid arguments (edge)
    grad("stride3-not-dividing-gaps", (2, 3, 10, 8), (4, 3, 3, 2), 4090, 1, "edge", stride=3),
    grad("stride2-not-dividing", (2, 3, 8, 10), (5, 3, 3, 3), 4100, 1, "edge", stride=2),
    grad("n1-pad1", (1, 3, 6, 7), (4, 3, 3, 3), 4110, 2, "edge", padding=1),
    grad("f1-stride2", (2, 3, 6, 5), (1, 3, 3, 2), 4120, 2, "edge", stride=2),
    grad("1x1-kernel", (2, 3, 6, 7), (4, 3, 1, 1), 4130, 2, "edge"),
    grad("1x1-kernel-stride2-pad1", (2, 3, 6, 7), (4, 3, 1, 1), 4140, 2, "edge",
         stride=2, padding=1),
    grad("dout-zeros", (2, 3, 7, 9), (4, 3, 3, 2), 4150, 2, "edge", dout="zeros",
         stride=2, padding=1),
    grad("onehot-first-output", (2, 3, 7, 9), (4, 3, 3, 2), 4160, 2, "edge",
         dout=(0, 0, 0, 0), stride=2, padding=1),
    grad("onehot-interior-output", (2, 3, 7, 9), (4, 3, 3, 2), 4170, 1, "edge",
         dout=(1, 2, 2, 3), stride=2, padding=1),
    grad("onehot-last-output", (2, 3, 7, 9), (4, 3, 3, 2), 4180, 1, "edge",
         dout=(1, 3, 3, 4), stride=2, padding=1),
    grad("per-axis-stride-padding", (2, 3, 8, 9), (3, 3, 3, 4), 4190, 2, "edge",
         stride=(1, 2), padding=(2, 1)),
    grad("same-even-kernel", (2, 3, 7, 9), (4, 3, 4, 2), 4200, 2, "edge", padding="same"),
    grad("f-equals-c-stride2-pad1", (2, 4, 7, 6), (4, 4, 3, 2), 4280, 1, "edge",
         stride=2, padding=1),
    grad("f-equals-c-stride2-not-dividing", (2, 4, 8, 7), (4, 4, 3, 3), 4290, 1, "edge",
         stride=2),
    grad("readonly", (2, 3, 7, 9), (5, 3, 3, 2), 4210, 1, "edge", readonly=True, padding=1),
    grad("fortran-stride2", (2, 3, 7, 9), (5, 3, 3, 2), 4220, 1, "edge", layout="F", stride=2),
    grad("strided-pad1", (2, 3, 7, 9), (4, 3, 3, 2), 4230, 1, "edge", layout="strided",
         padding=1),
    grad("dout-shape-mismatch-raises", (2, 3, 7, 9), (4, 3, 3, 2), 4240, 1, "edge",
         dout="one-row-short", raises="ValueError"),
    grad("channel-mismatch-raises", (2, 3, 7, 9), (4, 2, 3, 2), 4250, 1, "edge",
         raises="ValueError"),
    grad("same-stride2-raises", (2, 3, 7, 9), (4, 3, 4, 2), 4270, 1, "edge",
         raises="ValueError", padding="same", stride=(2, 1)),
    grad("stride0-raises", (2, 3, 7, 9), (4, 3, 3, 2), 4260, 1, "edge", raises="ValueError",
         stride=0),
    grad("dout-batch1-raises", (2, 3, 7, 9), (4, 3, 3, 2), 4300, 1, "edge", dout="batch1",
         raises="ValueError", padding=1),
)

# One medium case, not scored: the reference takes a few ms, a Python-loop solution under a second.
PERFORMANCE: tuple[Case, ...] = (
    grad("perf-conv_backward", (2, 64, 32, 32), (16, 64, 3, 3), 4900, 0, padding=1),
)

# Functions compared exactly rather than within the tolerance: none here.
EXACT: tuple[str, ...] = ()
