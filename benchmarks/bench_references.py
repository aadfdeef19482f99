"""Time each vectorized reference solution against its naive loop oracle on one medium case.

Usage: python benchmarks/bench_references.py [--repeats 3] [--function conv2d ...]

Runs are interleaved (reference, oracle, reference, ...) so machine noise hits both alike, and the
table shows medians. Each oracle call should stay under ~3 s. Uses only NumPy and the stdlib.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solutions import conv1d, conv_backward, conv_forward, conv_strided_dilated, pooling  # noqa: E402
from tests import oracles  # noqa: E402

MODULES = (conv1d, conv_forward, conv_backward, conv_strided_dilated, pooling)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# (function, case label, positional args, keyword args)
CASES = [
    ("convolve1d", "N=3000 M=201 full", (randn(3000), randn(201, seed=1)), {}),
    ("conv1d", "N8 C16 L256 F16 K5 s2 p2 d2",
     (randn(8, 16, 256), randn(16, 16, 5, seed=1), randn(16, seed=2)),
     {"stride": 2, "padding": 2, "dilation": 2}),
    ("conv_forward", "N4 C8 24x24 F16 k3 s1 p1",
     (randn(4, 8, 24, 24), randn(16, 8, 3, 3, seed=1), randn(16, seed=2)), {"padding": 1}),
    ("conv_backward", "N2 C8 24x24 F8 k3 s1 p1",
     (randn(2, 8, 24, 24, seed=3), randn(2, 8, 24, 24), randn(8, 8, 3, 3, seed=1)),
     {"padding": 1}),
    ("conv2d", "N4 C16 24x24 F16 k3 same d2 g2",
     (randn(4, 16, 24, 24), randn(16, 8, 3, 3, seed=1), randn(16, seed=2)),
     {"padding": "same", "dilation": 2, "groups": 2}),
    ("conv2d_backward", "N2 C16 32x32 F16 k3 s2 p1 d2 g2",
     (randn(2, 16, 15, 15, seed=3), randn(2, 16, 32, 32), randn(16, 8, 3, 3, seed=1)),
     {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
    ("max_pool_forward", "N16 C32 32x32 k3 s2 p1", (randn(16, 32, 32, 32), 3),
     {"stride": 2, "padding": 1}),
    ("max_pool_backward", "N16 C32 32x32 k3 s2 p1",
     (randn(16, 32, 16, 16, seed=3), randn(16, 32, 32, 32), 3), {"stride": 2, "padding": 1}),
    ("avg_pool_forward", "N16 C32 32x32 k3 s2 p1 excl", (randn(16, 32, 32, 32), 3),
     {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool_backward", "N16 C32 32x32 k3 s2 p1 excl",
     (randn(16, 32, 16, 16, seed=3), (16, 32, 32, 32), 3),
     {"stride": 2, "padding": 1, "count_include_pad": False}),
]


def reference(name: str):
    return next(getattr(m, name) for m in MODULES if hasattr(m, name))


def seconds(call, number: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def max_rel_err(got, want) -> float:
    pairs = zip(got, want, strict=True) if isinstance(got, tuple) else [(got, want)]
    return max(float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30)) for g, w in pairs)


def bench(name: str, args: tuple, kwargs: dict, repeats: int) -> tuple[float, float]:
    """Median seconds per call of the reference and of the oracle, measured interleaved."""
    ref, orc = reference(name), getattr(oracles, name)
    err = max_rel_err(ref(*args, **kwargs), orc(*args, **kwargs))  # also warms both up
    if err > 1e-10:
        raise SystemExit(f"{name}: reference and oracle disagree (relative error {err:.1e})")
    # fast references are timed over enough calls to last ~20 ms, so timer noise stays small
    number = max(1, int(0.02 / max(seconds(lambda: ref(*args, **kwargs)), 1e-7)))
    ref_times, orc_times = [], []
    for _ in range(repeats):
        ref_times.append(seconds(lambda: ref(*args, **kwargs), number))
        orc_times.append(seconds(lambda: orc(*args, **kwargs)))
    return statistics.median(ref_times), statistics.median(orc_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--function", action="append", metavar="NAME",
                        help="benchmark only this function (repeatable)")
    options = parser.parse_args()
    header = f"{'function':<18} {'case':<32} {'reference ms':>12} {'oracle ms':>10} {'speedup':>8}"
    print(header)
    print("-" * len(header))
    for name, label, args, kwargs in CASES:
        if options.function and name not in options.function:
            continue
        ref_s, orc_s = bench(name, args, kwargs, options.repeats)
        print(f"{name:<18} {label:<32} {ref_s * 1e3:>12.3f} {orc_s * 1e3:>10.1f} "
              f"{orc_s / ref_s:>7.0f}x", flush=True)


if __name__ == "__main__":
    main()
