"""Time each reference solution against PyTorch CPU and the naive oracle, on a fixed case set.

Usage: python benchmarks/bench_torch.py [--threads 1] [--dtype float32] [--repeats 7] [--only conv2d]
                                        [--no-oracle] [--root DIR]    (docs/performance.md explains)

For every case (conv2d, conv1d, max and avg pooling; forward and backward where a reference has
one) and each dtype, the reference and torch are called alternately (ref, torch, ref, torch, ...)
after a warm-up, so machine noise hits both alike. The table shows median times, the median of the
paired ratios reference/torch, and each one's share of the machine's measured matmul peak (FLOPs /
time / the faster of numpy's and torch's 1024^3 GEMM; convolutions only), and the minor page
faults per call of each. numpy's BLAS and torch get the same thread count.

torch is optional (`pip install -e ".[bench]"`): without it the torch columns say so and the rest
still runs. The oracle column is the naive loop oracle's time extrapolated from a slice of the case
(one image and one filter or channel; the loops are linear in N*F, quadratic for convolve1d), run
once in float64: the full cases would take hours.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--dtype", action="append", choices=["float32", "float64"],
                        help="dtype to run (repeatable; default both)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="run only cases whose function or label contains TEXT (repeatable)")
    parser.add_argument("--no-oracle", action="store_true", help="skip the oracle column")
    parser.add_argument("--root", metavar="DIR",
                        help="import solutions/ from DIR (say, a copy of an older version) instead")
    return parser.parse_args()


OPTIONS = parse_args()
# thread counts must be fixed before numpy (OpenBLAS) and torch (OpenMP) start their pools
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(OPTIONS.threads)

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if OPTIONS.root:  # its solutions/ shadows ours; tests/oracles.py still comes from here if it has none
    sys.path.insert(0, str(Path(OPTIONS.root).resolve()))

from solutions import conv1d, conv_backward, conv_forward, conv_strided_dilated, pooling  # noqa: E402
from tests import oracles  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the optional extra is missing: reference and oracle columns only
    torch = None

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None

Arrays = tuple  # positional arguments of one call
SETTLE_S = 0.15  # pause before each timing with several threads (see `interleaved`)


@dataclass
class Case:
    """One row: a reference call, the equivalent torch call, and how to slice it for the oracle."""

    family: str  # conv2d | conv1d | pool
    label: str
    function: str  # name of the reference function
    args: Callable[[np.dtype], Arrays]  # dtype -> positional arguments of the reference
    kwargs: dict
    torch_call: Callable[..., object] | None  # (torch tensors of args) -> result, or None
    flops: float  # 0 when not a matmul-like workload
    oracle_slice: Callable[[Arrays], tuple[Arrays, float]] | None  # args -> (small args, scale)


def rng_normal(shape: tuple[int, ...], dtype, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float64).astype(dtype)


def reference(name: str) -> Callable:
    modules = (conv1d, conv_forward, conv_backward, conv_strided_dilated, pooling)
    return next(getattr(m, name) for m in modules if hasattr(m, name))


# ---------------------------------------------------------------- conv2d cases

def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_cases(N, C, H, W, F, k, s=1, p=0, d=1) -> list[Case]:
    """conv_forward/conv_backward (no dilation) and conv2d/conv2d_backward rows for one shape."""
    Ho, Wo = out_size(H, k, s, p, d), out_size(W, k, s, p, d)
    label = f"N{N} C{C} {H}x{W} F{F} k{k}" + (f" s{s}" if s > 1 else "") + (f" d{d}" if d > 1 else "")
    label += f" p{p}"
    fwd_flops = 2.0 * N * F * C * k * k * Ho * Wo

    def fwd_args(dt):
        return rng_normal((N, C, H, W), dt, 0), rng_normal((F, C, k, k), dt, 1), rng_normal(F, dt, 2)

    def bwd_args(dt):
        return rng_normal((N, F, Ho, Wo), dt, 3), rng_normal((N, C, H, W), dt, 0), \
            rng_normal((F, C, k, k), dt, 1)

    def torch_fwd(x, w, b):
        return TF.conv2d(x, w, b, stride=s, padding=p, dilation=d)

    def torch_bwd(dout, x, w):
        # exactly dx, dw, db, as a training step's backward computes them
        return torch.ops.aten.convolution_backward(dout, x, w, [F], [s, s], [p, p], [d, d], False,
                                                   [0, 0], 1, [True, True, True])

    def fwd_slice(args):
        x, w, b = args
        return (x[:1], w[:1], b[:1]), N * F

    def bwd_slice(args):
        dout, x, w = args
        return (dout[:1, :1], x[:1], w[:1]), N * F

    kw = {"stride": s, "padding": p} | ({"dilation": d} if d > 1 else {})
    pairs = [("conv2d", "conv2d_backward")]
    if d == 1:
        pairs.insert(0, ("conv_forward", "conv_backward"))
    rows = []
    for fwd, bwd in pairs:
        rows.append(Case("conv2d", label, fwd, fwd_args, kw, torch_fwd, fwd_flops, fwd_slice))
        rows.append(Case("conv2d", label, bwd, bwd_args, kw, torch_bwd, 2 * fwd_flops, bwd_slice))
    return rows


# ---------------------------------------------------------------- conv1d cases

def convolve_case(n: int, m: int) -> Case:
    def args(dt):
        return rng_normal(n, dt, 0), rng_normal(m, dt, 1)

    def torch_call(a, v):  # true convolution = correlation with the flipped kernel, 'full' padding
        return TF.conv1d(a[None, None], v.flip(0)[None, None], padding=m - 1)[0, 0]

    def oracle_slice(a):
        a, v = a
        small = 1000
        return (a[:small], v), (n + m - 1) * n / ((small + m - 1) * small)

    return Case("conv1d", f"signal {n:.0e} samples, kernel {m}, full", "convolve1d", args, {},
                torch_call, 2.0 * n * m, oracle_slice)


def conv1d_layer_case(N, C, L, F, K, p) -> Case:
    L_out = L + 2 * p - K + 1

    def args(dt):
        return rng_normal((N, C, L), dt, 0), rng_normal((F, C, K), dt, 1), rng_normal(F, dt, 2)

    def oracle_slice(a):
        x, w, b = a
        return (x[:1], w[:1], b[:1]), N * F

    return Case("conv1d", f"layer N{N} C{C} L{L} F{F} K{K} p{p}", "conv1d", args, {"padding": p},
                lambda x, w, b: TF.conv1d(x, w, b, padding=p), 2.0 * N * F * C * K * L_out,
                oracle_slice)


# ---------------------------------------------------------------- pooling cases

def pool_cases(N, C, H, W, k, s) -> list[Case]:
    label = f"N{N} C{C} {H}x{W} {k}x{k} s{s}"
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1

    def x_args(dt):
        return (rng_normal((N, C, H, W), dt, 0),)

    def max_bwd_args(dt):
        return rng_normal((N, C, Ho, Wo), dt, 3), rng_normal((N, C, H, W), dt, 0)

    def avg_bwd_args(dt):
        return rng_normal((N, C, Ho, Wo), dt, 3), (N, C, H, W)

    def torch_max_bwd(dout, x):
        # the reference is handed x, not the forward's argmax, so torch finds the argmax too
        def call():
            indices = torch.ops.aten.max_pool2d_with_indices(x, [k, k], [s, s])[1]
            return torch.ops.aten.max_pool2d_with_indices_backward(
                dout, x, [k, k], [s, s], [0, 0], [1, 1], False, indices)
        return call

    def torch_avg_bwd(dout, x_shape):
        x = torch.empty(x_shape, dtype=dout.dtype)
        return lambda: torch.ops.aten.avg_pool2d_backward(dout, x, [k, k], [s, s], [0, 0], False,
                                                          True, None)

    def x_slice(a):
        return (a[0][:1, :1],), N * C

    def max_bwd_slice(a):
        return (a[0][:1, :1], a[1][:1, :1]), N * C

    def avg_bwd_slice(a):
        return (a[0][:1, :1], (1, 1, H, W)), N * C

    kw = {"kernel_size": k, "stride": s}
    return [
        Case("pool", label, "max_pool_forward", x_args, kw,
             lambda x: TF.max_pool2d(x, k, s), 0, x_slice),
        Case("pool", label, "max_pool_backward", max_bwd_args, kw, Prepared(torch_max_bwd), 0,
             max_bwd_slice),
        Case("pool", label, "avg_pool_forward", x_args, kw,
             lambda x: TF.avg_pool2d(x, k, s), 0, x_slice),
        Case("pool", label, "avg_pool_backward", avg_bwd_args, kw, Prepared(torch_avg_bwd), 0,
             avg_bwd_slice),
    ]


class Prepared:
    """A torch call with untimed set-up: `prepare(*tensors)` returns the zero-argument call to time."""

    def __init__(self, prepare: Callable[..., Callable[[], object]]) -> None:
        self.prepare = prepare


CASES: list[Case] = [
    *conv2d_cases(8, 16, 32, 32, 32, 3, s=1, p=1),
    *conv2d_cases(32, 3, 64, 64, 16, 5, s=2, p=2),
    *conv2d_cases(8, 16, 32, 32, 16, 3, d=2, p=2),
    *conv2d_cases(8, 64, 56, 56, 64, 3, s=1, p=1),  # ResNet-like
    convolve_case(100_000, 31),
    conv1d_layer_case(16, 64, 1024, 64, 5, 2),
    *pool_cases(32, 64, 56, 56, 2, 2),
    *pool_cases(32, 64, 56, 56, 3, 2),
]


# ---------------------------------------------------------------- timing

def seconds(call: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def calls_per_timing(call: Callable[[], object]) -> int:
    """Enough calls that one timing lasts ~30 ms: timer and scheduling noise then stay small."""
    return max(1, int(0.03 / max(seconds(call, 1), 1e-7)))


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def interleaved(calls: list[Callable[[], object]],
                repeats: int) -> tuple[list[list[float]], list[float]]:
    """Seconds per call of each, `repeats` timings taken alternately after two warm-up calls each,
    and each one's page faults per call (fresh memory is slow to fault in on a VM: a call that
    faults in its temporaries every time is slower than one the allocator serves from reuse)."""
    for call in calls:
        call(), call()
    numbers = [calls_per_timing(call) for call in calls]
    times: list[list[float]] = [[] for _ in calls]
    faults = [0.0 for _ in calls]
    for _ in range(repeats):
        for k, (call, number, out) in enumerate(zip(calls, numbers, times)):
            if OPTIONS.threads > 1:
                # OpenBLAS's idle threads spin for ~0.1 s after a call (OpenMP's for less): let them
                # sleep, or they would take a core from whichever implementation runs next
                time.sleep(SETTLE_S)
            before = minor_faults()
            out.append(seconds(call, number))
            faults[k] += (minor_faults() - before) / number / repeats
    return times, faults


def matmul_peak(dtype, repeats: int) -> tuple[float, float | None]:
    """Best FLOP/s of a 1024^3 GEMM in numpy and in torch (None without torch)."""
    n = 1024
    a, b = rng_normal((n, n), dtype, 0), rng_normal((n, n), dtype, 1)
    calls = [lambda: a @ b]
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        calls.append(lambda: ta @ tb)
    for call in calls:
        call()
    best = [min(seconds(call, 1) for _ in range(max(repeats, 5))) for call in calls]
    peaks = [2.0 * n ** 3 / t for t in best]
    return peaks[0], (peaks[1] if len(peaks) > 1 else None)


def as_tuple(result) -> tuple:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def max_rel_err(got, want) -> float:
    errs = []
    for g, w in zip(as_tuple(got), as_tuple(want), strict=True):
        g, w = np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64)
        errs.append(float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30)))
    return max(errs)


def to_numpy(result):
    return tuple(r.numpy() for r in as_tuple(result))


def torch_callable(case: Case, args: Arrays) -> Callable[[], object]:
    tensors = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    if isinstance(case.torch_call, Prepared):
        return case.torch_call.prepare(*tensors)
    return lambda: case.torch_call(*tensors)


def oracle_seconds(case: Case) -> float:
    """The oracle's time on the whole case, extrapolated from one run on a float64 slice."""
    small, scale = case.oracle_slice(case.args(np.float64))
    oracle = getattr(oracles, case.function)
    return seconds(lambda: oracle(*small, **case.kwargs), 1) * scale


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = ""
    if threadpool_info is not None:
        blas = "; ".join(f"{i['internal_api']} {i.get('version') or ''} "
                         f"{i.get('architecture') or ''} threads={i['num_threads']}".replace("  ", " ")
                         for i in threadpool_info())
    torch_v = f"torch {torch.__version__} (threads {torch.get_num_threads()})" if torch else "no torch"
    return (f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}, numpy {np.__version__}, "
            f"{torch_v}; {blas or 'threadpoolctl not installed'}; "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")


def fmt_ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:.3f}" if s < 0.01 else f"{s * 1e3:.2f}" if s < 1 \
        else f"{s * 1e3:.0f}"


def fmt_pct(flops: float, s: float | None, peak: float | None) -> str:
    return "-" if not flops or s is None or peak is None else f"{100 * flops / s / peak:.0f}%"


def main() -> None:
    if threadpool_limits is not None:
        threadpool_limits(OPTIONS.threads)
    if torch is not None:
        torch.set_num_threads(OPTIONS.threads)
    print(machine_line())
    print(f"references: {Path(conv_forward.__file__).parent}; load average {load()} at the start")
    if torch is None:
        print("torch is not installed: the torch columns are skipped (pip install -e '.[bench]')")
    cases = [c for c in CASES if not OPTIONS.only
             or any(t in c.function or t in c.label or t == c.family for t in OPTIONS.only)]
    oracle_s = {}
    if not OPTIONS.no_oracle:
        for case in cases:
            oracle_s[id(case)] = oracle_seconds(case)
    for dtype in OPTIONS.dtype or ["float32", "float64"]:
        numpy_peak, torch_peak = matmul_peak(dtype, OPTIONS.repeats)
        peak = max(numpy_peak, torch_peak or 0.0)  # the machine's peak: the faster GEMM
        print(f"\n### {dtype}, {OPTIONS.threads} thread(s): matmul peak numpy {numpy_peak / 1e9:.0f} GFLOP/s"
              + (f", torch {torch_peak / 1e9:.0f} GFLOP/s" if torch_peak else "") + "\n")
        header = ("| function | case | reference ms | torch ms | ref/torch | ref %peak | torch %peak "
                  "| faults/call ref, torch | oracle s (est.) | oracle/ref |")
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        ratios: dict[str, list[float]] = {}
        for case in cases:
            args = case.args(np.dtype(dtype))
            ref = reference(case.function)
            calls = [lambda ref=ref, args=args, kw=case.kwargs: ref(*args, **kw)]
            if torch is not None:
                tcall = torch_callable(case, args)
                err = max_rel_err(calls[0](), to_numpy(tcall()))
                if err > (1e-4 if dtype == "float32" else 1e-10):
                    raise SystemExit(f"{case.function} {case.label}: reference and torch disagree "
                                     f"(relative error {err:.1e})")
                calls.append(tcall)
            times, faults = interleaved(calls, OPTIONS.repeats)
            ref_s = statistics.median(times[0])
            torch_s = statistics.median(times[1]) if len(times) > 1 else None
            ratio = "-"
            if torch_s is not None:
                # median of the paired ratios: each pair ran back to back, under the same load
                paired = statistics.median(r / t for r, t in zip(times[0], times[1]))
                ratios.setdefault(case.family, []).append(paired)
                ratio = f"{paired:.2f}"
            orc = oracle_s.get(id(case))
            print(f"| {case.function} | {case.label} | {fmt_ms(ref_s)} | {fmt_ms(torch_s)} | {ratio} "
                  f"| {fmt_pct(case.flops, ref_s, peak)} | {fmt_pct(case.flops, torch_s, peak)} "
                  f"| {', '.join(f'{f:.0f}' for f in faults)} "
                  f"| {'-' if orc is None else f'{orc:.3g}'} "
                  f"| {'-' if orc is None else f'{orc / ref_s:.0f}x'} |", flush=True)
        if ratios:
            every = [r for rs in ratios.values() for r in rs]
            parts = [f"{fam} {geomean(rs):.2f} (max {max(rs):.2f})" for fam, rs in ratios.items()]
            print(f"\ngeomean ref/torch, {dtype}: all {geomean(every):.2f} (max {max(every):.2f}); "
                  + "; ".join(parts) + f"; load average {load()}")


def load() -> str:
    """The 1-minute load average: other work on a shared machine skews every timing."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values))))


if __name__ == "__main__":
    main()
