"""Hidden suite for pooling: max and average pooling, forward and backward."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from grader.cases import Case, Layout, Tier, negative, randint, randn, ties

MAX_FWD, MAX_BWD = "max_pool_forward", "max_pool_backward"
AVG_FWD, AVG_BWD = "avg_pool_forward", "avg_pool_backward"

# Max-pool outputs are copies of input values, so they are compared exactly.
EXACT = (MAX_FWD,)


def out_shape(x_shape: tuple[int, ...], k, stride=None, padding=0,
              count_include_pad: bool = True) -> tuple[int, int, int, int]:
    """The pooled shape `(N, C, H_out, W_out)` (clamped to >= 1 for the raising cases)."""
    kernel_h, kernel_w = np.broadcast_to(k, 2)
    stride_h, stride_w = np.maximum(np.broadcast_to(k if stride is None else stride, 2), 1)
    pad_h, pad_w = np.broadcast_to(padding, 2)
    out_h = (x_shape[2] + 2 * pad_h - kernel_h) // stride_h + 1
    out_w = (x_shape[3] + 2 * pad_w - kernel_w) // stride_w + 1
    return x_shape[0], x_shape[1], max(int(out_h), 1), max(int(out_w), 1)


def pool(case_id: str, function: str, make: Callable[..., np.ndarray], x_shape: tuple[int, ...],
         seed: int, points: float, tier: Tier = "core", dtype: str = "float64", k=2,
         raises: str | None = None, layout: Layout = "C", readonly: bool = False,
         **kwargs) -> Case:
    """One pooling case with kernel_size `k`: x = `make(x_shape, seed)`, dout from `seed + 1`.

    Forward functions get `(x, k)`, max backward `(dout, x, k)`, average backward
    `(dout, x_shape, k)`, then `**kwargs` (stride, padding, count_include_pad).
    """
    x = make(x_shape, seed, dtype)
    dout = randn(out_shape(x_shape, k, **kwargs), seed + 1, dtype)
    args = {MAX_FWD: (x, k), AVG_FWD: (x, k), MAX_BWD: (dout, x, k), AVG_BWD: (dout, x_shape, k)}
    return Case(case_id, function, args[function], kwargs, points, tier, raises, layout, readonly)


def integers(shape: tuple[int, ...], seed: int, dtype: str = "float64") -> np.ndarray:
    """Small int64 values whatever `dtype` asks for: an input outside the pooling contract."""
    return randint(shape, seed)


def wrong_dout(case: Case) -> Case:
    """The case with its dout's last two axes swapped: the size still fits, the shape does not."""
    dout, *rest = case.args
    return replace(case, args=(np.ascontiguousarray(dout.swapaxes(2, 3)), *rest))


CASES: tuple[Case, ...] = (
    # max_pool_forward: ordinary and tie-heavy inputs, stride=None, overlap, padding (core)
    pool("max-fwd-k2-default-stride", MAX_FWD, randn, (2, 3, 8, 6), 6010, 5),
    pool("max-fwd-ties-k3-s2-overlap", MAX_FWD, ties, (2, 3, 9, 7), 6020, 5, k=3, stride=2),
    pool("max-fwd-ties-k3-s1-pad1", MAX_FWD, ties, (2, 3, 6, 8), 6030, 4, k=3, stride=1,
         padding=1),
    pool("max-fwd-float32-k2", MAX_FWD, randn, (2, 3, 8, 6), 6040, 3, dtype="float32"),
    # max_pool_backward: the first tied maximum takes the whole gradient; overlaps add up (core)
    pool("max-bwd-ties-k2", MAX_BWD, ties, (2, 3, 6, 8), 6110, 4),
    pool("max-bwd-ties-k3-s2-overlap", MAX_BWD, ties, (2, 2, 9, 7), 6120, 5, k=3, stride=2),
    pool("max-bwd-ties-k2-s1-overlap", MAX_BWD, ties, (2, 2, 6, 5), 6130, 4, stride=1),
    pool("max-bwd-ties-k3-s1-pad1", MAX_BWD, ties, (2, 3, 6, 8), 6140, 2, k=3, stride=1,
         padding=1),
    pool("max-bwd-ties-k3-default-stride-pad1", MAX_BWD, ties, (2, 2, 7, 8), 6760, 1, k=3,
         stride=None, padding=1),
    pool("max-bwd-float32-ties", MAX_BWD, ties, (2, 3, 8, 6), 6150, 3, dtype="float32"),
    pool("max-bwd-ties-k2x3-s2-square-input", MAX_BWD, ties, (2, 2, 9, 9), 6160, 1, k=(2, 3),
         stride=2),
    # avg_pool_forward: both divisors with padding (core)
    pool("avg-fwd-k2-default-stride", AVG_FWD, randn, (2, 3, 8, 6), 6210, 4),
    pool("avg-fwd-k3-s2-pad1-include-pad", AVG_FWD, randn, (2, 3, 7, 9), 6220, 5, k=3,
         stride=2, padding=1, count_include_pad=True),
    pool("avg-fwd-k3-s2-pad1-exclude-pad", AVG_FWD, randn, (2, 3, 7, 9), 6230, 5, k=3,
         stride=2, padding=1, count_include_pad=False),
    pool("avg-fwd-float32-k3-s2-pad1", AVG_FWD, randn, (2, 3, 9, 8), 6240, 3, dtype="float32",
         k=3, stride=2, padding=1),
    # avg_pool_backward: x_shape is a tuple of ints (core)
    pool("avg-bwd-k2-default-stride", AVG_BWD, randn, (2, 3, 8, 6), 6310, 3),
    pool("avg-bwd-k3-s2-pad1-include-pad", AVG_BWD, randn, (2, 3, 7, 9), 6320, 4, k=3,
         stride=2, padding=1, count_include_pad=True),
    pool("avg-bwd-k3-s2-pad1-exclude-pad", AVG_BWD, randn, (2, 3, 7, 9), 6330, 5, k=3,
         stride=2, padding=1, count_include_pad=False),
    pool("avg-bwd-float32-k3-s2-pad1", AVG_BWD, randn, (2, 3, 9, 8), 6340, 3, dtype="float32",
         k=3, stride=2, padding=1),
    pool("avg-bwd-k3x2-s2-pad1-square-input", AVG_BWD, randn, (2, 2, 9, 9), 6350, 1, k=(3, 2),
         stride=2, padding=1),
    # all-negative input with padding, non-square windows and strides (edge)
    pool("max-fwd-negative-k3-s2-pad1", MAX_FWD, negative, (2, 2, 7, 8), 6410, 1, "edge", k=3,
         stride=2, padding=1),
    pool("max-bwd-negative-k3-s2-pad1", MAX_BWD, negative, (2, 2, 7, 8), 6420, 1, "edge", k=3,
         stride=2, padding=1),
    pool("max-fwd-nonsquare-k2x3-s1x2", MAX_FWD, randn, (2, 3, 7, 9), 6430, 1, "edge",
         k=(2, 3), stride=(1, 2)),
    pool("max-bwd-nonsquare-k2x3", MAX_BWD, randn, (2, 3, 6, 9), 6440, 1, "edge", k=(2, 3)),
    pool("max-bwd-ties-nonsquare-k3x2-s2x1", MAX_BWD, ties, (2, 2, 7, 6), 6450, 1, "edge",
         k=(3, 2), stride=(2, 1)),
    pool("avg-fwd-nonsquare-k3x2-s2x1-pad1-exclude-pad", AVG_FWD, randn, (2, 3, 7, 8), 6460, 1,
         "edge", k=(3, 2), stride=(2, 1), padding=1, count_include_pad=False),
    pool("avg-bwd-nonsquare-k3x2-s2x1-pad1-exclude-pad", AVG_BWD, randn, (2, 3, 7, 8), 6470, 1,
         "edge", k=(3, 2), stride=(2, 1), padding=1, count_include_pad=False),
    # gaps with H and W not divisible, global windows, kernel 1, N == C == 1 (edge)
    pool("max-fwd-gaps-k2-s3-not-divisible", MAX_FWD, randn, (2, 2, 9, 10), 6510, 1, "edge",
         stride=3),
    pool("max-bwd-gaps-k2-s3-not-divisible", MAX_BWD, ties, (2, 2, 9, 10), 6520, 1, "edge",
         stride=3),
    pool("avg-fwd-gaps-k2-s3-not-divisible", AVG_FWD, randn, (2, 2, 9, 10), 6530, 1, "edge",
         stride=3),
    pool("avg-bwd-gaps-k2-s3-not-divisible", AVG_BWD, randn, (2, 2, 9, 10), 6540, 1, "edge",
         stride=3),
    pool("max-fwd-global", MAX_FWD, randn, (2, 3, 5, 7), 6550, 1, "edge", k=(5, 7)),
    pool("max-bwd-global-ties", MAX_BWD, ties, (2, 3, 5, 7), 6560, 1, "edge", k=(5, 7)),
    pool("avg-fwd-global", AVG_FWD, randn, (2, 3, 5, 7), 6570, 1, "edge", k=(5, 7)),
    pool("avg-bwd-global", AVG_BWD, randn, (2, 3, 5, 7), 6580, 1, "edge", k=(5, 7)),
    pool("max-fwd-kernel1-stride2", MAX_FWD, randn, (2, 3, 7, 6), 6590, 1, "edge", k=1,
         stride=2),
    pool("avg-bwd-kernel1-stride2", AVG_BWD, randn, (2, 3, 7, 6), 6600, 1, "edge", k=1,
         stride=2),
    pool("max-fwd-n1-c1-negative-pad1", MAX_FWD, negative, (1, 1, 6, 5), 6610, 1, "edge",
         k=(3, 2), stride=(2, 1), padding=1),
    pool("max-bwd-n1-c1-negative-pad1", MAX_BWD, negative, (1, 1, 6, 5), 6620, 1, "edge",
         k=(3, 2), stride=(2, 1), padding=1),
    pool("avg-fwd-n1-c1-pad1-exclude-pad", AVG_FWD, randn, (1, 1, 6, 5), 6630, 1, "edge",
         k=(3, 2), stride=(2, 1), padding=1, count_include_pad=False),
    # explicit stride=None, read-only and non-contiguous inputs (edge)
    pool("max-bwd-explicit-stride-none", MAX_BWD, ties, (2, 3, 6, 8), 6710, 1, "edge", k=(3, 2),
         stride=None),
    pool("max-fwd-readonly-fortran", MAX_FWD, ties, (2, 3, 9, 7), 6720, 1, "edge", k=3,
         stride=2, layout="F", readonly=True),
    pool("max-bwd-readonly-strided", MAX_BWD, ties, (2, 2, 9, 7), 6730, 1, "edge", k=3,
         stride=2, layout="strided", readonly=True),
    pool("avg-fwd-fortran-explicit-stride-none", AVG_FWD, randn, (2, 3, 9, 8), 6740, 1, "edge",
         k=(3, 2), stride=None, layout="F"),
    pool("avg-bwd-readonly-strided", AVG_BWD, randn, (2, 3, 7, 9), 6750, 1, "edge", k=3,
         stride=2, padding=1, layout="strided", readonly=True),
    # padding larger than half the kernel (edge)
    pool("max-fwd-padding-too-large-raises", MAX_FWD, randn, (2, 3, 8, 6), 6810, 0.5, "edge",
         raises="ValueError", padding=2),
    pool("max-bwd-padding-too-large-raises", MAX_BWD, randn, (2, 3, 8, 6), 6820, 1, "edge",
         raises="ValueError", k=(3, 2), padding=(1, 2)),
    pool("avg-fwd-padding-too-large-raises", AVG_FWD, randn, (2, 3, 8, 6), 6830, 0.5, "edge",
         raises="ValueError", k=3, padding=2),
    pool("avg-bwd-padding-too-large-raises", AVG_BWD, randn, (2, 3, 8, 6), 6840, 1, "edge",
         raises="ValueError", k=(2, 3), padding=(2, 1)),
    # integer inputs are outside the contract: a clear ValueError, not numpy's -inf overflow (edge)
    pool("max-fwd-int-input-raises", MAX_FWD, integers, (2, 3, 6, 6), 6870, 0.5, "edge",
         raises="ValueError", k=3, stride=1, padding=1),
    pool("avg-fwd-int-input-raises", AVG_FWD, integers, (2, 3, 6, 6), 6880, 0.5, "edge",
         raises="ValueError"),
    # a dout of the right size but the wrong shape (H_out and W_out swapped) (edge)
    wrong_dout(pool("max-bwd-dout-transposed-raises", MAX_BWD, randn, (2, 3, 8, 6), 6850, 0.5,
                    "edge", raises="ValueError")),
    wrong_dout(pool("avg-bwd-dout-transposed-raises", AVG_BWD, randn, (2, 3, 9, 6), 6860, 0.5,
                    "edge", raises="ValueError", k=3, stride=1, padding=1)),
)

# Medium cases for the speed comparison with the reference (not scored). Large windows with stride 1
# give the reference enough work per byte that crosses the worker boundary; max_pool_backward uses
# small windows, where the reference's per-window argmax is cheap next to a Python loop's.
PERFORMANCE: tuple[Case, ...] = (
    pool("perf-max_pool_forward", MAX_FWD, randn, (4, 32, 48, 48), 6900, 0, k=5, stride=1,
         padding=2),
    pool("perf-max_pool_backward", MAX_BWD, randn, (16, 16, 64, 64), 6910, 0, k=2),
    pool("perf-avg_pool_forward", AVG_FWD, randn, (4, 48, 48, 48), 6920, 0, k=5, stride=1,
         padding=2),
    pool("perf-avg_pool_backward", AVG_BWD, randn, (4, 48, 48, 48), 6930, 0, k=5, stride=1,
         padding=2),
)

# Names of the arrays a function returns as a tuple: none here.
RETURNS: dict[str, tuple[str, ...]] = {}
