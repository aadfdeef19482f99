"""Grading throughput: convgrade on N copies of a correct notebook, side by side with nbgrader.

Usage: python benchmarks/bench_grading.py [--copies 16] [--jobs 2] [--exercise conv_backward]
                                          [--nbgrader PATH] [--repeats 1] [--breakdown]

The submission is the exercise's learner notebook (notebooks/<slug>.ipynb) with the reference
solution pasted into its `solution` cell (each solution is standalone): a correct learner. N
copies differ only by a trailing comment, so their content hashes differ and nothing is reused.
Measured, with the full worker boundary on
(each notebook in its own fresh, limited kernel, in the sandbox when bubblewrap is present):

- one notebook end to end, in this process with `grade.grade_file`: cold (the first grade in the
  process: first kernel, first imports of the suite and the reference) and warm (median of 3);
- `grader check exercises/<slug> --file one.ipynb` as a subprocess (median of 3): what a learner
  or an instructor waits for, interpreter start and imports included;
- a batch: `batch.grade_batch([dir], fresh_out, jobs)`, every result checked to score full marks;
- where nbgrader is installed (`--nbgrader`, default: `nbgrader` on PATH), `nbgrader autograde` on
  the same computation: a minimal course whose source notebook has the reference solution between
  `### BEGIN SOLUTION` / `### END SOLUTION` and an autograder-tests cell of asserts against a naive
  NumPy loop, released with `nbgrader generate_assignment`, N students submitting the released
  notebook with the solution filled in; grades are checked with `nbgrader export`.

With `--repeats R` the batch and nbgrader runs alternate (convgrade, nbgrader, convgrade, ...), so
machine noise hits both alike; the table shows medians, and the ratio is the median of the paired
ratios. CPU seconds per notebook are counted over every process involved (see `TreeCPU`): unlike
wall time they hardly depend on what else the machine runs. `--breakdown` times the phases of the
cold and of one warm notebook (kernel boot, cells, hidden suite, speed feedback, shutdown) by
wrapping the grader's functions in this process only. Goals: batch throughput at least 4x
nbgrader's, and one notebook end to end (`grader check`) under 1.5 s; exit status 0 when both are met.
"""

from __future__ import annotations

import argparse
import copy
import csv
import functools
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader import batch, exercises, grade, kernel, runner, sandbox, speed, suites  # noqa: E402

GOAL_RATIO = 4.0
GOAL_SINGLE_S = 1.5


# --- the submission ------------------------------------------------------------------------------


def solution_source(slug: str) -> str:
    """The reference solution as one cell: each solution is standalone."""
    return (ROOT / "solutions" / f"{slug}.py").read_text()


def learner_notebook(slug: str) -> nbformat.NotebookNode:
    """The learner notebook with the reference pasted into its `solution` cell."""
    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    cells = [c for c in nb.cells if "solution" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"notebooks/{slug}.ipynb: expected one `solution` cell, found {len(cells)}")
    cells[0].source = solution_source(slug)
    return nb


def with_comment(nb: nbformat.NotebookNode, index: int) -> nbformat.NotebookNode:
    """A copy whose solution cell ends with a distinct comment (so its content hash differs)."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if "solution" in c.get("metadata", {}).get("tags", []))
    cell.source = cell.source.rstrip("\n") + f"\n# submission {index:03d}\n"
    return nb


def write_copies(nb: nbformat.NotebookNode, folder: Path, copies: int, slug: str) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"student{i:03d}_{slug}.ipynb" for i in range(copies)]
    for i, path in enumerate(paths):
        nbformat.write(with_comment(nb, i), path)
    return paths


# --- convgrade -----------------------------------------------------------------------------------


def grade_single(exercise: exercises.Exercise, path: Path) -> float:
    start = time.perf_counter()
    result = grade.grade_file(exercise, path)
    elapsed = time.perf_counter() - start
    full_marks(result, path.name)
    return elapsed


def full_marks(result, name: str) -> None:
    if result.status != "graded" or result.score != result.max_score:
        problems = result.message or "; ".join(
            f"{t.id}: {t.message}" for t in result.tests if t.status != "passed")
        raise SystemExit(f"{name}: expected full marks, got {result.status} {result.score:g}/"
                         f"{result.max_score:g}: {problems or [e.message for e in result.cell_errors]}")


def grade_cli(slug: str, path: Path) -> float:
    command = [sys.executable, "-m", "grader", "check", f"exercises/{slug}", "--file", str(path)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"grader check failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def grade_batch(folder: Path, out: Path, jobs: int, copies: int,
                meter: TreeCPU) -> tuple[float, float, float]:
    """Wall time, CPU time (grader, kernels, sandboxes) and the kernels' share of it of one batch,
    every result checked."""
    sandbox.hide(out, folder)  # as `grader grade` does
    own, kernels = meter.seconds()
    start = time.perf_counter()
    graded = batch.grade_batch([folder], out, jobs)
    elapsed = time.perf_counter() - start
    own_after, kernels_after = meter.seconds()
    own, kernels = own_after - own, kernels_after - kernels
    if len(graded) != copies:
        raise SystemExit(f"batch graded {len(graded)} submissions, expected {copies}")
    for g in graded:
        if g.reused:
            raise SystemExit(f"{g.submission.name}: reused from an earlier run, expected a fresh grade")
        full_marks(g.result, g.submission.name)
    return elapsed, own + kernels, kernels


# --- where the time of one notebook goes ---------------------------------------------------------


class Phases:
    """Wraps the grader's phase functions (in this process only) and sums their wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def _timed_async(self, label: str, function):
        @functools.wraps(function)
        async def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
        return wrapper

    def _timed(self, label: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
        return wrapper

    def install(self) -> None:
        labels = {
            (grade, "read_notebook"): "read and validate the notebook",
            (kernel, "_execute"): "run the notebook in a kernel, total:",
            (kernel, "_start_kernel"): "  launch the kernel process (bwrap + python)",
            (kernel._QuietClient, "async_start_new_kernel_client"): "  wait until the kernel answers",
            (kernel, "_run_cells"): "  run the notebook's cells",
            (kernel, "_lend"): "  lend the kernel (serve its namespace on a socket)",
            (grade, "grade_session"): "grading session, total:",
            (runner, "run_cases"): "  hidden suite (run_cases, incl. diagnosis)",
            (suites, "get"): "    assemble the suite (cases, variants, reference, extras)",
            (speed, "measure"): "  speed feedback (speed.measure)",
            (speed, "_reference_runs"): "    time the reference (once per process)",
            (sandbox, "bwrap"): "probe bubblewrap (once per process)",
            (kernel, "_shutdown"): "kernel shutdown and cleanup",
        }
        self.order = list(labels.values())
        self.saved = [(owner, name, getattr(owner, name), name in vars(owner)) for owner, name in labels]
        labels = {name: label for (_, name), label in labels.items()}
        for owner, name, function, _ in self.saved:
            wrap = self._timed_async if inspect.iscoroutinefunction(function) else self._timed
            setattr(owner, name, wrap(labels[name], function))

    def uninstall(self) -> None:
        for owner, name, function, own in self.saved:
            if own:
                setattr(owner, name, function)
            else:  # a method inherited by the class: drop the wrapper, the base's shows again
                delattr(owner, name)


def breakdown(exercise: exercises.Exercise, path: Path, which: str) -> tuple[float, list[tuple[str, str]]]:
    """Phase times of one notebook grade (kernel started on demand, as for `grader check`)."""
    phases = Phases()
    phases.install()
    try:
        total = grade_single(exercise, path)
    finally:
        phases.uninstall()
    rows = [(f"  {label}", f"{phases.seconds[label]:.3f} s") for label in phases.order
            if phases.seconds.get(label, 0.0) >= 0.0005]
    return total, [(f"breakdown of the {which} notebook above", f"{total:.3f} s"), *rows]


class TreeCPU:
    """CPU seconds used by this process and by every process started below it.

    `os.times()` counts this process and the children it reaped (with what they reaped): exact for
    nbgrader and its kernels. It misses the sandboxed kernels: their bwrap is killed, so no parent
    of ours ever reaps them. For those, a thread looks at /proc every `interval` and keeps each
    sandboxed process's last CPU time (a process inside a bwrap that runs below us); what one
    spends in its last interval before it dies is missed (under 20 ms of a ~1 s kernel life). A
    scan reads only new and sandboxed processes: about 0.3 ms of CPU, 1.5% of one core.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.me = os.getpid()
        self.other: set[int] = set()  # processes not below us
        # pid: (start time, inside a bwrap, command)
        self.ours: dict[int, tuple[bytes, bool, bytes]] = {self.me: (b"", False, b"")}
        self.ticks: dict[tuple[int, bytes], int] = {}  # sandboxed processes: last CPU time seen
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self.thread.start()

    def _loop(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self.sample()

    @staticmethod
    def _stat(pid: int) -> tuple[bytes, int, int, bytes] | None:
        """(command, parent, CPU ticks, start time) of a process, from /proc/PID/stat."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        close = data.rindex(b")")
        fields = data[close + 2:].split()  # from field 3, state (man 5 proc)
        return data[data.index(b"(") + 1:close], int(fields[1]), int(fields[11]) + int(fields[12]), fields[19]

    def sample(self) -> None:
        with self.lock:
            alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
            self.other &= alive
            for pid in [p for p in self.ours if p not in alive]:
                del self.ours[pid]
            new = {pid: self._stat(pid) for pid in alive - self.other - self.ours.keys()}
            while True:  # adopt the new processes whose parent is ours, parents first
                adopted = {pid for pid, st in new.items() if st and st[1] in self.ours}
                for pid in adopted:
                    command, parent, _, start = new.pop(pid)
                    _, inside, parent_command = self.ours[parent]
                    self.ours[pid] = (start, inside or parent_command == b"bwrap", command)
                if not adopted:
                    break
            self.other |= new.keys()
            for pid, (start, inside, _) in self.ours.items():
                st = self._stat(pid) if inside else None
                if st is not None and st[3] == start:
                    self.ticks[pid, start] = max(self.ticks.get((pid, start), 0), st[2])

    def seconds(self) -> tuple[float, float]:
        """(this process with the children it reaped, the sandboxed processes)."""
        self.sample()
        with self.lock:
            sandboxed = sum(self.ticks.values()) / self.tick
        own = os.times()
        return own.user + own.system + own.children_user + own.children_system, sandboxed

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def import_seconds() -> float:
    """A fresh interpreter importing the grader's CLI and everything grading a notebook needs."""
    code = ("import time; t = time.perf_counter(); import grader.cli, grader.kernel, grader.runner, "
            "grader.speed, grader.html; print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip())


# --- nbgrader ------------------------------------------------------------------------------------

NAIVE_TESTS = '''\
import numpy as np


def _naive_conv_backward(dout, x, w, stride, padding):
    """Loops over every output position: the textbook definition."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + KH)
                    cols = slice(j * stride, j * stride + KW)
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))


rng = np.random.default_rng(0)
for N, C, H, W, F, K, s, p in [(2, 3, 7, 6, 4, 3, 1, 1), (2, 2, 9, 8, 3, 3, 2, 0), (1, 3, 5, 5, 2, 2, 2, 1)]:
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, K, K))
    dout = rng.standard_normal((N, F, (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1))
    for got, want in zip(conv_backward(dout, x, w, stride=s, padding=p),
                         _naive_conv_backward(dout, x, w, s, p)):
        assert got.shape == want.shape and got.dtype == np.float64
        assert np.allclose(got, want, rtol=1e-10, atol=1e-10)

x32, w32 = np.ones((1, 2, 4, 4), np.float32), np.ones((3, 2, 2, 2), np.float32)
assert all(g.dtype == np.float32 for g in conv_backward(np.ones((1, 3, 3, 3), np.float32), x32, w32))
try:
    conv_backward(np.ones((1, 3, 3, 3)), np.ones((1, 2, 4, 4)), np.ones((3, 5, 2, 2)))
except ValueError:
    pass
else:
    raise AssertionError("a channel mismatch must raise ValueError")
'''

NBGRADER_CONFIG = '''\
c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "convgrade-bench"
'''


def nbgrader_course(nbgrader: str, root: Path, slug: str, copies: int) -> list[str]:
    """A minimal course with one assignment `ps1` (conv_backward), released; the students' ids."""
    root.mkdir(parents=True)
    # The minimal setup of nbgrader 0.9: the course's root and id. `generate_assignment` adds the
    # assignment to the gradebook, and `autograde` adds each student it meets (create_student).
    (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(root=str(root)))
    learner = learner_notebook(slug)
    example = next(c for c in learner.cells if "example" in c.get("metadata", {}).get("tags", []))
    solution = nbformat.v4.new_code_cell(
        f"### BEGIN SOLUTION\n{solution_source(slug)}\n### END SOLUTION",
        metadata={"nbgrader": {"grade": False, "solution": True, "locked": False,
                               "task": False, "schema_version": 3, "grade_id": "solution"}})
    tests = nbformat.v4.new_code_cell(
        NAIVE_TESTS, metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                            "task": False, "points": 100, "schema_version": 3,
                                            "grade_id": "tests"}})
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {slug}\n\nImplement `conv_backward` below."),
        solution, nbformat.v4.new_code_cell(example.source), tests],
        metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                  "language_info": {"name": "python"}})
    (root / "source" / "ps1").mkdir(parents=True)
    nbformat.write(nb, root / "source" / "ps1" / "ps1.ipynb")
    students = [f"student{i:03d}" for i in range(copies)]
    nbgrader_run(nbgrader, root, "generate_assignment", "ps1", "--force")
    released = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for i, student in enumerate(students):
        nb = copy.deepcopy(released)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "solution")
        cell.source = f"{solution_source(slug)}\n# submission {i:03d}\n"
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "ps1.ipynb")
    return students


def nbgrader_run(nbgrader: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` from PATH: its own folder first, as in an activated environment.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(nbgrader).parent), os.environ.get("PATH", "")])}
    done = subprocess.run([nbgrader, *args], cwd=root, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed (exit {done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def nbgrader_autograde(nbgrader: str, root: Path, students: list[str],
                       meter: TreeCPU) -> tuple[float, float]:
    """Wall and CPU time of `nbgrader autograde ps1` (every student, serially, as nbgrader does)."""
    shutil.rmtree(root / "autograded", ignore_errors=True)
    cpu = sum(meter.seconds())
    start = time.perf_counter()
    nbgrader_run(nbgrader, root, "autograde", "ps1", "--force")
    elapsed = time.perf_counter() - start
    cpu = sum(meter.seconds()) - cpu
    grades = root / "grades.csv"
    grades.unlink(missing_ok=True)
    nbgrader_run(nbgrader, root, "export")
    with open(grades, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["assignment"] == "ps1"]
    scores = {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}
    wrong = {s: scores.get(s) for s in students if scores.get(s) != (100.0, 100.0)}
    if wrong:
        raise SystemExit(f"nbgrader did not record full marks for {len(wrong)} students: "
                         f"{dict(list(wrong.items())[:3])}")
    return elapsed, cpu


def runs(measured: list[tuple[float, ...]]) -> str:
    return f" (runs: {', '.join(f'{m[0]:.2f}' for m in measured)})" if len(measured) > 1 else ""


# --- the run -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=16, help="notebooks in the batch (default 16)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel jobs for convgrade's batch (default: the number of cores)")
    parser.add_argument("--exercise", default="conv_backward", help="exercise slug")
    parser.add_argument("--nbgrader", default=shutil.which("nbgrader"),
                        help="the nbgrader executable (default: nbgrader on PATH; '' or none: skipped)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="batch and nbgrader runs, alternated; medians are reported (default 1)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the phases of the cold and of one warm notebook")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.jobs < 1 or args.repeats < 1:
        parser.error("--copies, --jobs and --repeats must be at least 1")

    exercise = exercises.resolve(args.exercise)
    load = os.getloadavg()[0]
    rows: list[tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="convgrade-bench-"))
    meter = TreeCPU()
    try:
        folder = tmp / "submissions"
        paths = write_copies(learner_notebook(exercise.slug), folder, args.copies, exercise.slug)
        one = tmp / "one" / f"one_{exercise.slug}.ipynb"
        one.parent.mkdir()
        shutil.copy(paths[0], one)
        sandbox.hide(one.parent)

        details: list[tuple[str, str]] = []
        if args.breakdown:
            cold, details = breakdown(exercise, one, "cold")
        else:
            cold = grade_single(exercise, one)
        warm = statistics.median(grade_single(exercise, one) for _ in range(3))
        if args.breakdown:
            details += breakdown(exercise, one, "warm")[1]
        cli = statistics.median(grade_cli(exercise.slug, one) for _ in range(3))
        rows += [("machine", f"{os.cpu_count()} cores, load average {load:.2f} at start"),
                 ("isolation", sandbox.isolation()),
                 ("single notebook, in-process, cold", f"{cold:.3f} s"),
                 ("single notebook, in-process, warm (median of 3)", f"{warm:.3f} s"),
                 ("single notebook, `grader check` CLI (median of 3)", f"{cli:.3f} s"),
                 ("  of which: importing the grader (fresh interpreter)", f"{import_seconds():.3f} s"),
                 *details]

        students: list[str] = []
        if args.nbgrader and exercise.slug != "conv_backward":
            rows.append(("nbgrader", "skipped: its autograder tests are written for conv_backward only"))
        elif args.nbgrader:
            students = nbgrader_course(args.nbgrader, tmp / "course", exercise.slug, args.copies)
            version = nbgrader_run(args.nbgrader, tmp / "course", "--version").stdout.split()
            rows.append(("nbgrader", f"{version[-1] if version else '?'} ({args.nbgrader})"))
        ours: list[tuple[float, float, float]] = []
        theirs: list[tuple[float, float]] = []
        for repeat in range(args.repeats):
            ours.append(grade_batch(folder, tmp / f"out{repeat}", args.jobs, args.copies, meter))
            print(f"convgrade batch {repeat + 1}/{args.repeats}: {ours[-1][0]:.2f} s", file=sys.stderr)
            if students:
                theirs.append(nbgrader_autograde(args.nbgrader, tmp / "course", students, meter))
                print(f"nbgrader autograde {repeat + 1}/{args.repeats}: {theirs[-1][0]:.2f} s",
                      file=sys.stderr)
        batch_s, batch_cpu, kernels_cpu = (statistics.median(t) for t in zip(*ours))
        rows += [(f"convgrade batch, {args.copies} notebooks, jobs={args.jobs}",
                  f"{batch_s:.2f} s{runs(ours)}"),
                 ("convgrade batch: seconds per notebook", f"{batch_s / args.copies:.3f} s"),
                 ("convgrade batch: notebooks per second", f"{args.copies / batch_s:.2f}"),
                 ("convgrade batch: CPU seconds per notebook (all processes)",
                  f"{batch_cpu / args.copies:.3f} s")]
        if kernels_cpu:  # sandboxed kernels are counted apart; without bwrap, the grader reaps them
            rows += [("  of which in the sandboxed kernels", f"{kernels_cpu / args.copies:.3f} s"),
                     ("  of which in the grader process", f"{(batch_cpu - kernels_cpu) / args.copies:.3f} s")]
        ratio = None
        if theirs:
            nbg_s, nbg_cpu = (statistics.median(t) for t in zip(*theirs))
            # each nbgrader run follows a convgrade run: the median of the paired ratios
            paired = [t[0] / o[0] for o, t in zip(ours, theirs)]
            ratio = statistics.median(paired)
            spread = f" (runs: {', '.join(f'{r:.2f}' for r in paired)})" if len(paired) > 1 else ""
            rows += [(f"nbgrader autograde, {args.copies} notebooks (serial)",
                      f"{nbg_s:.2f} s{runs(theirs)}"),
                     ("nbgrader: seconds per notebook", f"{nbg_s / args.copies:.3f} s"),
                     ("nbgrader: notebooks per second", f"{args.copies / nbg_s:.2f}"),
                     ("nbgrader: CPU seconds per notebook (all processes)", f"{nbg_cpu / args.copies:.3f} s"),
                     ("throughput ratio convgrade / nbgrader", f"{ratio:.2f}x{spread}"),
                     ("CPU ratio nbgrader / convgrade", f"{nbg_cpu / batch_cpu:.2f}x")]
    finally:
        meter.close()
        kernel.close_pool()
        shutil.rmtree(tmp, ignore_errors=True)

    width = max(len(label) for label, _ in rows)
    print(f"{'metric':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    single_ok = cli < GOAL_SINGLE_S
    single = f"single (grader check) {cli:.2f} s {'<' if single_ok else '>='} {GOAL_SINGLE_S} s: " \
             f"{'PASS' if single_ok else 'FAIL'}"
    if ratio is None:
        print(f"\nratio: n/a (no nbgrader run; see --nbgrader); {single}")
        return 0 if single_ok else 1
    ratio_ok = ratio >= GOAL_RATIO
    print(f"\nratio {ratio:.2f}x {'>=' if ratio_ok else '<'} {GOAL_RATIO:g}x: "
          f"{'PASS' if ratio_ok else 'FAIL'}; {single}")
    return 0 if ratio_ok and single_ok else 1


if __name__ == "__main__":
    sys.exit(main())
