"""Grading one submission file: read it, run the suite in a worker, time it, return the result.

Whatever goes wrong with the submission comes back as a `GradeResult` with status "error"
and a one-line reason; nothing about a submission raises out of here, not even a grader bug it
provokes (then the reason names the exception, under the submission's own exercise).
"""

from __future__ import annotations

import dataclasses
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader import extras, findings, kernel, runner, sandbox, speed, suites
from grader.boundary import CallOutcome, Channel, WorkerSession
from grader.models import CellError, Exercise, GradeResult, Limits, Performance, TestResult
from grader.practice import questions

MAX_SOURCE_BYTES = 1024 * 1024
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_CELLS = 500


def grade_file(exercise: Exercise, path: Path, display_name: str | None = None) -> GradeResult:
    """Grade a learner `.py` file or `.ipynb` notebook against `exercise`."""
    name = display_name or str(path)
    try:
        if path.suffix == ".ipynb":
            nb = read_notebook(path)
            sources = [c.source for c in nb.cells if c.cell_type == "code"]
            return questions.attach(exercise, grade_notebook(exercise, nb, name), sources)
        source = read_source(path)
        return questions.attach(exercise, grade_source(exercise, source, name), [source])
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return failed(exercise, name, reason)
    except Exception as exc:  # noqa: BLE001 - whatever a submission provokes, it gets a report
        return failed(exercise, name, f"the grader failed on it ({type(exc).__name__}: {exc})")


def warm_up(exercise: Exercise) -> None:
    """Compute now what grading `exercise` needs once per process (the reference's answers and
    its timing), e.g. while a notebook's kernel boots."""
    for case in suites.get(exercise.slug).cases:
        runner.expected(exercise.slug, case.id)
    speed.time_reference(exercise)


def failed(exercise: Exercise, name: str, message: str) -> GradeResult:
    """The result of a submission that could not be graded at all; `message` is the reason alone
    (every report puts "could not be graded" before it, once). No learner code ran for it, so
    its isolation is "none"."""
    return GradeResult(exercise=exercise.slug, submission=name, status="error", score=0.0,
                       max_score=exercise.max_score, message=" ".join(message[:2000].split())[:500],
                       isolation="none")


def grade_notebook(exercise: Exercise, nb: nbformat.NotebookNode, display_name: str) -> GradeResult:
    """Run the notebook in a limited kernel, then grade what it defined through that kernel
    (or, if it stops answering, through a fresh worker replaying the cells that ran cleanly)."""
    limits = exercise.limits

    def grade_run(run: kernel.NotebookRun) -> GradeResult:
        result = grade_session(exercise, _replay(run, limits), display_name, first=run.channel,
                               where="notebook")
        return dataclasses.replace(result, cell_errors=tuple(run.errors))

    return kernel.run_notebook(nb, limits, limits.total_timeout_s, grade_run, exercise.withheld)


def _replay(run: kernel.NotebookRun, limits: Limits) -> dict:
    """The load request of a fresh worker replaying the cells that ran cleanly in the kernel.
    The cells go as written: the worker turns IPython syntax into Python itself, under each
    cell's time limit, so no learner text is transformed in the grader's process."""
    cells = [{"name": name, "source": source} for name, source in run.ok_cells]
    return {"cells": cells, "cell_timeout_s": limits.cell_timeout_s, "ipython": True}


@dataclass(frozen=True)
class Opened:
    """A submission loaded in its worker (`loaded` says whether it imported), for grading one
    call at a time; `start` is when its time budget started."""

    session: WorkerSession
    loaded: CallOutcome
    where: str  # file | notebook
    start: float
    cell_errors: tuple[CellError, ...] = ()


@contextmanager
def open_submission(exercise: Exercise, path: Path, name: str) -> Iterator[Opened]:
    """A `.py` file or notebook loaded as `grade_file` loads it, kept open for the caller (a
    notebook's kernel is served from a thread of its own meanwhile); OSError or ValueError
    with a one-line reason when the file cannot be read."""
    start, limits = time.monotonic(), exercise.limits
    if path.suffix != ".ipynb":
        with _started(exercise, {"source": read_source(path), "filename": name}, start) as (
                session, loaded):
            yield Opened(session, loaded, "file", start)
        return
    nb = read_notebook(path)
    handed: queue.Queue[Opened | BaseException] = queue.Queue()
    done = threading.Event()

    def hold(run: kernel.NotebookRun) -> None:
        # the time limit counts from here, as in grade_notebook
        with _started(exercise, _replay(run, limits), time.monotonic(), run.channel) as (
                session, loaded):
            handed.put(Opened(session, loaded, "notebook", start, tuple(run.errors)))
            done.wait()

    def serve() -> None:
        try:
            kernel.run_notebook(nb, limits, limits.total_timeout_s, hold, exercise.withheld)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            handed.put(exc)

    thread = threading.Thread(target=serve, name="convgrade-notebook", daemon=True)
    thread.start()
    opened = handed.get()
    try:
        if isinstance(opened, BaseException):
            raise opened
        yield opened
    finally:
        done.set()
        thread.join()


@contextmanager
def _started(exercise: Exercise, load: dict, start: float,
             first: Channel | None = None) -> Iterator[tuple[WorkerSession, CallOutcome]]:
    """A worker session on learner code loaded by `load` (see `WorkerSession`), started: the
    session and what loading gave. The exercise's total time limit counts from `start`."""
    with WorkerSession(load, list(exercise.functions), exercise.limits, first,
                       exercise.withheld) as session:
        session.deadline = start + exercise.limits.total_timeout_s
        yield session, session.start()


def grade_source(exercise: Exercise, source: str, display_name: str) -> GradeResult:
    """Grade learner source code (the text of a `.py` file) against the exercise's hidden suite."""
    return grade_session(exercise, {"source": source, "filename": display_name}, display_name)


def grade_session(exercise: Exercise, load: dict, display_name: str,
                  first: Channel | None = None, where: str = "file") -> GradeResult:
    """Run the suite against learner code loaded by `load` (see `WorkerSession`)."""
    start = time.monotonic()
    with _started(exercise, load, start, first) as (session, loaded):
        if loaded.kind != "value":
            return load_failed(exercise, display_name, loaded, time.monotonic() - start, where)
        deadline = session.deadline
        results = runner.run_cases(exercise, session, deadline, where)
        results += extras.run_extras(exercise, session, deadline, where)
        performances, wrong = speed.measure(exercise, session, results, deadline)
        results += wrong
        sources = sources_of(session.load)
    return assemble(exercise, display_name, results, performances, sources, start)


def assemble(exercise: Exercise, name: str, results: list[TestResult],
             performances: tuple[Performance, ...], sources: dict[str, list[str]],
             start: float) -> GradeResult:
    """The result document of graded tests: tracebacks with the submission's source lines,
    findings per function, score."""
    results = [dataclasses.replace(r, traceback=with_source_lines(r.traceback, sources))
               if r.traceback else r for r in results]
    summaries = findings.summarize(exercise, results, performances)
    results = findings.explain_tests(results, summaries)
    return GradeResult(
        exercise=exercise.slug, submission=name, status="graded",
        score=round(sum(r.points for r in results), 6), max_score=exercise.max_score,
        tests=tuple(results), duration_s=round(time.monotonic() - start, 3),
        isolation=sandbox.description(),
        performance=max(performances, key=lambda p: p.ratio_to_reference, default=None),
        performances=performances, functions=summaries)


def sources_of(load: dict) -> dict[str, list[str]]:
    """The submitted source the grader holds, by the file or cell name its frames carry."""
    if "source" in load:
        return {load["filename"]: load["source"].splitlines()}
    return {cell["name"]: cell["source"].splitlines() for cell in load.get("cells", ())}


_FRAME = re.compile(r"(?P<head>.{1,300}?), line (?P<lineno>\d{1,7}), in (?P<name>[^:\n]{1,200}):")


def with_source_lines(trace: str, sources: dict[str, list[str]]) -> str:
    """The learner's frames (`file, line N, in f:`), each with its line of source taken from the
    submission the grader holds: a sandboxed worker cannot read it back, and what it reports
    about its own source is not trusted anyway."""
    lines = []
    for frame in trace.splitlines():
        match = _FRAME.match(frame)
        source = sources.get(match["head"]) if match else None
        lineno = int(match["lineno"]) if match else 0
        if source is not None and 1 <= lineno <= len(source):
            frame = f"{match.group(0)} {source[lineno - 1].strip()}"[:300]
        lines.append(frame)
    return "\n".join(lines)


def load_failed(exercise: Exercise, name: str, outcome: CallOutcome, duration: float,
                 where: str) -> GradeResult:
    if outcome.kind == "raised":
        error = outcome.error
        line = f" (line {error['lineno']})" if error.get("lineno") else ""
        message = f"your {where} could not be imported: {error.get('type')}{line}: " \
                  f"{error.get('message', '')}"
        if error.get("type") == "ModuleNotFoundError":
            message += (f" (a solution is one {where}: it runs alone, where only Python's standard "
                        "library and numpy can be imported; put your helpers in it)")
    else:
        message = f"your {where} could not be imported: {outcome.reason}"
    return GradeResult(exercise=exercise.slug, submission=name, status="error", score=0.0,
                       max_score=exercise.max_score, message=message[:500],
                       duration_s=round(duration, 3), isolation=sandbox.description())


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A submitted notebook, parsed and validated; ValueError with a one-line reason otherwise."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"notebook larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    if not data.strip():
        raise ValueError("the notebook file is empty")
    try:
        nb = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
        nbformat.validate(nb)
    except UnicodeDecodeError:
        raise ValueError("the notebook is not UTF-8 text") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds, even RecursionError
        if type(exc).__name__ == "NotJSONError":
            raise ValueError("not a valid notebook: the file is not valid JSON") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"not a valid notebook: {first[:200]}") from None
    if len(nb.cells) > MAX_CELLS:
        raise ValueError(f"notebook has more than {MAX_CELLS} cells")
    return nb


def read_source(path: Path) -> str:
    """A learner `.py` file as text; raises ValueError with a one-line reason when unusable."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"file larger than {MAX_SOURCE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("file is not UTF-8 text") from None
