"""Other correct idioms against the model answers, on the suites' medium (speed feedback) cases.

Usage: python benchmarks/bench_idioms.py [--repeats 3] [--function NAME]

The grader's speed feedback (`grader.speed.verdict`) divides a learner's time by the model answer's
on each suite's PERFORMANCE case: above `grader.speed.SLOWER_RATIO` there is a note, and that
ratio alone decides it. The Python lines the worker counts only word it: `python-loops` needs
`grader.speed.LOOPS_LINES_PER_OUTPUT` lines or more per extra output element, counted on the
function's first scored case and on it with the batch doubled; a loop-free answer is told it is
slower (`slow-einsum` when np.einsum ran without `optimize`). A correct answer in any idiom an
interviewer accepts must never get the loops note:
this prints, side by side, the model answer and a few such idioms (einsum or tensordot over a
window view instead of an explicit im2col, one reduction over the window axes instead of a loop
over the taps, a running `np.where` instead of `argmax`), timed in this process on one BLAS
thread, their lines per output counted by the worker's own counter, and the verdict the grader's
rule gives. In the grader both sides also pay the worker round trip, which brings the ratios
closer to 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import speed, suites  # noqa: E402
from grader.worker import _LineCounter  # noqa: E402  the worker's counter, run in this process


def _padded(x, p, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=value)


def conv_forward_einsum(x, w, b, stride=1, padding=0):
    win = sliding_window_view(_padded(x, padding), w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwuv,fcuv->nfhw", win, w, optimize=True) + b[:, None, None]


def conv_forward_tensordot(x, w, b, stride=1, padding=0):
    win = sliding_window_view(_padded(x, padding), w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.tensordot(win, w, axes=((1, 4, 5), (1, 2, 3)))  # (N, H_out, W_out, F)
    return out.transpose(0, 3, 1, 2) + b[:, None, None]


def conv_backward_einsum(dout, x, w, stride=1, padding=0):
    xp = _padded(x, padding)
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    dw = np.einsum("nfhw,nchwuv->fcuv", dout, win, optimize=True)
    dxp, (H_out, W_out) = np.zeros_like(xp), dout.shape[2:]
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            share = np.einsum("nfhw,fc->nchw", dout, w[:, :, u, v], optimize=True)
            dxp[:, :, u:u + stride * H_out:stride, v:v + stride * W_out:stride] += share
    H, W = x.shape[2:]
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))


def _windows(x, kernel_size, stride, padding, value):
    stride = kernel_size if stride is None else stride
    win = sliding_window_view(_padded(x, padding, value), (kernel_size, kernel_size), axis=(2, 3))
    return win[:, :, ::stride, ::stride]


def max_pool_forward_reduce(x, kernel_size, stride=None, padding=0):
    return _windows(x, kernel_size, stride, padding, -np.inf).max(axis=(4, 5))


def avg_pool_forward_mean(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _windows(x, kernel_size, stride, padding, 0.0).mean(axis=(4, 5))


def max_pool_backward_where(dout, x, kernel_size, stride=None, padding=0):
    s = kernel_size if stride is None else stride
    win = _windows(x, kernel_size, stride, padding, -np.inf)
    best, first = win[..., 0, 0], np.zeros(dout.shape, int)
    for t in range(1, kernel_size ** 2):
        u, v = divmod(t, kernel_size)
        better = win[..., u, v] > best
        best, first = np.where(better, win[..., u, v], best), np.where(better, t, first)
    u, v = np.divmod(first, kernel_size)
    N, C, H_out, W_out = dout.shape
    dxp = np.zeros(_padded(x, padding).shape)
    index = (np.arange(N)[:, None, None, None], np.arange(C)[:, None, None],
             np.arange(H_out)[:, None] * s + u, np.arange(W_out) * s + v)
    np.add.at(dxp, index, dout)
    return dxp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]


def conv1d_einsum(x, w, b=None, stride=1, padding=0, dilation=1):
    win = sliding_window_view(np.pad(x, ((0, 0), (0, 0), (padding, padding))), w.shape[2], axis=2)
    return np.einsum("nclk,fck->nfl", win, w, optimize=True) + b[:, None]


IDIOMS = [
    ("conv_forward", "conv_forward", conv_forward_einsum),
    ("conv_forward", "conv_forward", conv_forward_tensordot),
    ("conv_backward", "conv_backward", conv_backward_einsum),
    ("conv1d", "conv1d", conv1d_einsum),
    ("pooling", "max_pool_forward", max_pool_forward_reduce),
    ("pooling", "avg_pool_forward", avg_pool_forward_mean),
    ("pooling", "max_pool_backward", max_pool_backward_where),
]


def best_seconds(call, repeats: int) -> float:
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def max_rel_err(got, want) -> float:
    pairs = zip(got, want, strict=True) if isinstance(got, tuple) else [(got, want)]
    return max(float(np.max(np.abs(g - w)) / np.max(np.abs(w))) for g, w in pairs)


def count(idiom, case) -> tuple[int, int, bool]:
    """Python lines the idiom runs, output elements, np.einsum without optimize: on `case`."""
    with _LineCounter() as counter:
        value = idiom(*case.args, **case.kwargs)
    items = value if isinstance(value, tuple) else (value,)
    return counter.lines, sum(v.size for v in items), counter.einsum_unoptimized


def lines_per_output(slug: str, function: str, idiom) -> tuple[float, bool]:
    """As the grader counts them: per extra output element, between the function's first scored
    case and that case with its batch doubled (a call's fixed lines do not count)."""
    case = speed._small_case(slug, function)
    small, large = count(idiom, case), count(idiom, speed._doubled(slug, case))
    return max(large[0] - small[0], 0) / (large[1] - small[1]), small[2] or large[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--function", action="append", metavar="NAME",
                        help="only the idioms of this function (repeatable)")
    options = parser.parse_args()
    print(f"| function | idiom | model answer ms | idiom ms | ratio (a note above "
          f"{speed.SLOWER_RATIO:g}) | Python lines per output (loops at "
          f"{speed.LOOPS_LINES_PER_OUTPUT:g}) | the grader's verdict |")
    print("|---|---|---:|---:|---:|---:|---|")
    for slug, function, idiom in IDIOMS:
        if options.function and function not in options.function:
            continue
        case = next(c for c in suites.get(slug).performance if c.function == function)
        reference = getattr(suites.get(slug).reference, function)
        want = reference(*case.args, **case.kwargs)
        err = max_rel_err(idiom(*case.args, **case.kwargs), want)
        if err > 1e-10:
            raise SystemExit(f"{idiom.__name__}: disagrees with the model answer ({err:.1e})")
        ref_s = best_seconds(partial(reference, *case.args, **case.kwargs), options.repeats)
        alt_s = best_seconds(partial(idiom, *case.args, **case.kwargs), options.repeats)
        lines, einsum = lines_per_output(slug, function, idiom)
        text = speed.verdict(alt_s / ref_s, lines, einsum)[0]
        print(f"| {function} | `{idiom.__name__}` | {ref_s * 1e3:.2f} | {alt_s * 1e3:.2f} | "
              f"{alt_s / ref_s:.1f} | {lines:.3f} | {text} |", flush=True)

if __name__ == "__main__":
    main()
