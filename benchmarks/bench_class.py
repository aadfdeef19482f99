"""The bundled class graded by two checkouts side by side: is this one slower than an older one?

Usage: python benchmarks/bench_class.py OLD_CHECKOUT [--repeats 3] [--jobs 2]

OLD_CHECKOUT is another checkout of the project, for example a worktree of the commit before a
change (`git worktree add /tmp/old a076713`). Each run is `python -m grader grade
examples/submissions --out FRESH --jobs N` in a subprocess started in one checkout, so that each
grades with its own code and its own hidden suites; both grade this checkout's bundled class (the
20 submissions `grader demo` grades), and a run counts only if every submission has its row in
grades.csv. Runs alternate new, old, new, old, ... so that machine noise hits both alike. Printed:
each side's median wall time and CPU seconds (every process involved, the sandboxed kernels and
workers included, see `bench_grading.TreeCPU`), and the ratios new/old of the medians and the
median of the paired ratios. Exit status 0 when the new checkout's median wall time is at most
5% above the old one's.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import TreeCPU  # noqa: E402

CLASS = ROOT / "examples" / "submissions"
SUBMISSIONS = sum(1 for p in CLASS.iterdir() if p.suffix in (".py", ".ipynb"))  # graded per run
NOISE = 1.05


def grade_class(checkout: Path, jobs: int, meter: TreeCPU) -> tuple[float, float]:
    """Wall and CPU seconds of `checkout` grading the bundled class into a fresh folder."""
    out = Path(tempfile.mkdtemp(prefix="convgrade-bench-class-"))
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    try:
        own, sandboxed = meter.seconds()
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "grader", "grade", str(CLASS), "--out",
                               str(out / "out"), "--jobs", str(jobs)],
                              cwd=checkout, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        own_after, sandboxed_after = meter.seconds()
        grades = out / "out" / "grades.csv"
        rows = list(csv.DictReader(grades.open())) if grades.is_file() else []
        if len(rows) != SUBMISSIONS:
            raise SystemExit(f"{checkout}: {len(rows)} of {SUBMISSIONS} graded (exit "
                             f"{done.returncode}): {done.stderr.strip()[-400:]}")
        return wall, (own_after - own) + (sandboxed_after - sandboxed)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the other checkout, graded as 'old'")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each checkout (3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="--jobs of grader grade (the number of cores)")
    args = parser.parse_args()
    checkouts = {"new": ROOT, "old": args.old.resolve()}
    if not (checkouts["old"] / "grader" / "__main__.py").is_file():
        raise SystemExit(f"{args.old}: not a checkout of the project (no grader/__main__.py)")
    runs: dict[str, list[tuple[float, float]]] = {"new": [], "old": []}
    meter = TreeCPU()
    try:
        for i in range(args.repeats):
            for side, checkout in checkouts.items():
                wall, cpu = grade_class(checkout, args.jobs, meter)
                runs[side].append((wall, cpu))
                print(f"run {i + 1} {side}: {wall:.2f} s wall, {cpu:.2f} CPU s", flush=True)
    finally:
        meter.close()
    print(f"\nbundled class ({SUBMISSIONS} submissions), jobs={args.jobs}, "
          f"{args.repeats} interleaved runs each; load average {os.getloadavg()[0]:.1f} at the end")
    medians = {}
    for side in ("old", "new"):
        walls, cpus = [r[0] for r in runs[side]], [r[1] for r in runs[side]]
        medians[side] = statistics.median(walls), statistics.median(cpus)
        print(f"{side}: median {medians[side][0]:.2f} s wall ({', '.join(f'{w:.2f}' for w in walls)}), "
              f"median {medians[side][1]:.2f} CPU s ({', '.join(f'{c:.2f}' for c in cpus)})")
    paired = [n[0] / o[0] for n, o in zip(runs["new"], runs["old"])]
    paired_cpu = [n[1] / o[1] for n, o in zip(runs["new"], runs["old"])]
    wall_ratio = medians["new"][0] / medians["old"][0]
    print(f"new/old wall: {wall_ratio:.3f} (median of paired ratios {statistics.median(paired):.3f})")
    print(f"new/old CPU:  {medians['new'][1] / medians['old'][1]:.3f} "
          f"(median of paired ratios {statistics.median(paired_cpu):.3f})")
    return 0 if wall_ratio <= NOISE else 1


if __name__ == "__main__":
    sys.exit(main())
