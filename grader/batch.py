"""Batch grading for instructors: find submissions, grade them in parallel, write every output.

One broken submission never stops the batch: whatever happens to it becomes its result (status
"error" with a reason). Each submission's outputs are written atomically as soon as it is graded,
and a rerun skips submissions whose content and exercise are unchanged, so an interrupted batch
simply resumes. The class summary and the gradebook are rewritten from all results at the end.

Each submission goes through three steps: `prepare` (here: find its exercise, read its bytes,
reuse an earlier result), `grade_document` (anywhere: a pure function of the exercise, the name
and the bytes, returning the result document as plain data) and `finish` (here: write its
outputs). Local batches run the middle step in threads; `--scheduler` runs it on a Dask cluster
(`grader.distributed`, imported only then).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from grader import exercises, grade, html, kernel, sandbox, view
from grader.models import (
    CellError,
    Diagnosis,
    Exercise,
    Finding,
    FunctionFindings,
    GradeResult,
    Performance,
    QuizScore,
    Speed,
    TestResult,
)

if TYPE_CHECKING:
    from grader.distributed import Cluster

SUFFIXES = (".ipynb", ".py")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SAFE_PART = re.compile(r"[A-Za-z0-9.-]([A-Za-z0-9._-]*[A-Za-z0-9.-])?")
# A `def` at the start of a line. No part of it can cross a line end, so a search over a whole
# file is linear: no run of blank lines is rescanned from every line that starts it.
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.M)


@dataclass(frozen=True)
class Submission:
    """One submitted file: its name in reports, where it is, and the key its outputs live under."""

    name: str
    path: Path
    key: str
    problem: str = ""  # why it cannot be graded at all (a symlink, not a regular file, ...)


def find(paths: Iterable[Path]) -> list[Submission]:
    """Every `.ipynb`/`.py` file under the given files and folders, in a stable order.

    Symlinks and special files are kept as submissions with a problem, never followed: a
    submission must not make the grader read a file outside it.
    """
    found: list[tuple[str, Path, str]] = []
    for root in paths:
        if root.is_symlink() or not root.is_dir():
            found.append((root.name, root, _problem(root)))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if path.suffix in SUFFIXES:
                    found.append((str(path.relative_to(root)), path, _problem(path)))
    counts: dict[str, int] = {}
    for name, _, _ in found:
        counts[name] = counts.get(name, 0) + 1
    return [Submission(name=name, path=path, problem=problem,
                       key=report_key(name if counts[name] == 1 else str(path.absolute())))
            for name, path, problem in found]


def report_key(name: str) -> str:
    """The folder a submission's reports live in, from its relative path alone: never from the
    other submissions or the order they were found in, so a rerun keeps every report in place.
    A path whose folder name would be ambiguous (unsafe characters, `__`, `_` at the edge of a
    part, too long) gets a hash of the path instead of a counter."""
    parts = name.split("/")
    if all(_SAFE_PART.fullmatch(part) and "__" not in part for part in parts) and len(name) <= 120:
        return "__".join(parts)
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{_UNSAFE.sub('_', name.replace('/', '__'))[-100:]}-{digest}"


def _problem(path: Path) -> str:
    if path.is_symlink():
        return "symbolic links are not graded"
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix not in SUFFIXES:
        return "not a .ipynb or .py file"
    return ""


def infer_exercise(path: Path, catalogue: list[Exercise]) -> Exercise | None:
    """A notebook's exercise from its metadata; a `.py` file's from the functions it defines.

    The size is checked before anything is read, and a `.py` file is scanned once for its `def`
    lines (wherever they are, even in a file that does not parse): linear time in its size."""
    limit = grade.MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else grade.MAX_SOURCE_BYTES
    try:
        if path.stat().st_size > limit:
            return None
        with open(path, "rb") as handle:
            # Latin-1 never fails: a file that is not UTF-8 is still matched to its exercise, so
            # that its report can say what is wrong with it.
            text = handle.read(limit).decode("latin-1")
    except OSError:
        return None
    by_slug = {e.slug: e for e in catalogue}
    if path.suffix == ".ipynb":
        try:
            slug = json.loads(text)["metadata"]["convgrade"]["exercise"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        return by_slug.get(slug) if isinstance(slug, str) else None
    defined = set(_DEF.findall(text))
    best = max(catalogue, key=lambda e: (len(defined & set(e.functions)), e.slug in path.stem))
    if defined & set(best.functions) or best.slug in path.stem:
        return best
    return None


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a kill never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Graded:
    """A submission with its result, and whether it was reused from an earlier run."""

    submission: Submission
    result: GradeResult
    reused: bool = False


def _unknown(catalogue: list[Exercise]) -> Exercise:
    """Stands in for the exercise of a submission that cannot be matched to one."""
    return Exercise("unknown", "unknown exercise", "", Path("."), (), {"core": 100.0},
                    catalogue[0].limits)


class BatchError(Exception):
    """A batch that cannot start or go on (no Dask, no scheduler or lost it); one line."""


@dataclass(frozen=True)
class Job:
    """A submission to grade: its exercise and its bytes, read once, so that what is graded is
    exactly what `digest` (the key of the rerun check) describes, wherever it is graded."""

    submission: Submission
    exercise: Exercise
    data: bytes
    digest: str


def prepare(sub: Submission, override: Exercise | None, catalogue: list[Exercise],
            out: Path) -> Graded | Job:
    """The client-side first step: a settled result (the submission cannot be graded at all, or
    is unchanged since an earlier run), or the job of grading it."""
    exercise = override or (None if sub.problem else infer_exercise(sub.path, catalogue))
    if sub.problem or exercise is None:
        why = sub.problem or _why_no_exercise(sub.path)
        result = grade.failed(override or _unknown(catalogue), sub.name, why)
        write_submission(out, sub, result, "")
        return Graded(sub, result)
    try:
        data = _read(sub.path)
    except OSError as exc:
        result = grade.failed(exercise, sub.name, str(exc.strerror or exc))
        write_submission(out, sub, result, "")
        return Graded(sub, result)
    digest = hashlib.sha256(exercise.slug.encode() + data).hexdigest()
    saved = out / "submissions" / sub.key / "result.json"
    if saved.is_file():
        try:
            doc = json.loads(saved.read_text())
            if doc.get("content_hash") == digest:
                return Graded(sub, result_from_json(doc), reused=True)
        except (ValueError, KeyError, TypeError):
            pass
    return Job(sub, exercise, data, digest)


def _read(path: Path) -> bytes:
    """The file's bytes, up to one byte past the grader's size limit: enough for grading to
    refuse an oversized file, without ever holding a huge one in memory. Within the limit, the
    digest is that of the whole file, as before, so earlier results are still reused."""
    limit = grade.MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else grade.MAX_SOURCE_BYTES
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


@cache
def _copies() -> Path:
    """The folder submission copies are graded from: this user's own, hidden from every sandbox.

    One per user and machine rather than one per process, because Dask worker processes end
    without running exit hooks and would each leave a folder behind."""
    folder = Path(tempfile.gettempdir()) / f"convgrade-copies-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    except OSError:
        private = False
    if not private:  # someone else's folder, or a symlink planted there: one of our own instead
        folder = Path(tempfile.mkdtemp(prefix="convgrade-copies-"))
    sandbox.hide(folder)
    return folder


def grade_document(exercise: Exercise, name: str, data: bytes) -> dict:
    """Grade a submission's bytes; its result document (`GradeResult.to_json()`).

    A pure function of plain data, so that it runs on any machine with convgrade installed: in
    a thread of a local batch, or as a task on a Dask worker, which then needs neither the
    submissions nor the exercises folder, and sends back a document, never a learner object.
    """
    suffix = Path(name).suffix
    if suffix not in SUFFIXES:
        return grade.failed(exercise, name, "not a .ipynb or .py file").to_json()
    if not _copies().is_dir():  # a long-lived Dask worker may outlive a /tmp cleaner
        _copies.cache_clear()
    with tempfile.TemporaryDirectory(dir=_copies()) as folder:
        path = Path(folder) / f"submission{suffix}"  # never the learner's own file name
        path.write_bytes(data)
        return grade.grade_file(exercise, path, name).to_json()


def finish(job: Job, doc: dict, out: Path) -> Graded:
    """The client-side last step: the submission's outputs, from its result document."""
    result = result_from_json(doc)
    write_submission(out, job.submission, result, job.digest)
    return Graded(job.submission, result)


def not_graded(job: Job, reason: str, out: Path) -> Graded:
    """A submission whose grading failed for good for a reason outside it (a lost worker, a
    failed task): recorded with the reason, and saved without its digest so a rerun retries it."""
    result = grade.failed(job.exercise, job.submission.name, reason)
    write_submission(out, job.submission, result, "")
    return Graded(job.submission, result)


def _grade_one(sub: Submission, override: Exercise | None, catalogue: list[Exercise],
               out: Path) -> Graded:
    prepared = prepare(sub, override, catalogue, out)
    if isinstance(prepared, Graded):
        return prepared
    return finish(prepared, grade_document(prepared.exercise, sub.name, prepared.data), out)


def _why_no_exercise(path: Path) -> str:
    if path.suffix == ".ipynb":
        try:
            grade.read_notebook(path)
        except (OSError, ValueError) as exc:
            return str(exc)
        return "its metadata names no known exercise (metadata.convgrade.exercise); use --exercise"
    try:
        grade.read_source(path)
    except (OSError, ValueError) as exc:
        return str(exc)
    return "it defines none of the exercise functions; use --exercise"


def write_submission(out: Path, sub: Submission, result: GradeResult, digest: str) -> None:
    """The per-submission outputs: HTML report, result document, Gradescope results.json."""
    folder = out / "submissions" / sub.key
    write_atomic(folder / "report.html", html.render_report(result))
    write_atomic(folder / "results.json", json.dumps(gradescope(result), indent=2))
    write_atomic(folder / "result.json",
                 json.dumps({**result.to_json(), "content_hash": digest}, indent=2))


def result_from_json(doc: dict) -> GradeResult:
    """Rebuild a `GradeResult` from its result document (for reused submissions)."""

    def diagnosis(d: dict | None) -> Diagnosis | None:
        return Diagnosis(**d) if d else None

    tests = tuple(TestResult(**{**t, "diagnosis": diagnosis(t.get("diagnosis"))})
                  for t in [*doc.get("tests", []), *doc.get("extras", [])])
    perfs = tuple(Performance(**{**p, "diagnosis": diagnosis(p.get("diagnosis"))})
                  for p in doc.get("performances", []))
    fields = {k: doc[k] for k in ("exercise", "submission", "status", "score", "max_score",
                                  "message", "isolation", "duration_s") if k in doc}
    worst = max(perfs, key=lambda p: p.ratio_to_reference, default=None)
    quiz = doc.get("quiz")
    return GradeResult(**fields, tests=tests, performances=perfs, performance=worst,
                       cell_errors=tuple(CellError(**c) for c in doc.get("cell_errors", [])),
                       functions=tuple(_function_from_json(f) for f in doc.get("functions", [])),
                       quiz=QuizScore(**{k: tuple(v) if isinstance(v, list) else v
                                         for k, v in quiz.items()}) if quiz else None)


def _function_from_json(doc: dict) -> FunctionFindings:
    findings = tuple(Finding(**{**{k: v for k, v in f.items() if k != "heatmap"},
                                "tests": tuple(f.get("tests", ()))})
                     for f in doc.get("findings", []))
    speed = Speed(**doc["speed"]) if doc.get("speed") else None
    return FunctionFindings(**{**doc, "findings": findings, "speed": speed})


def gradescope(result: GradeResult) -> dict:
    """The Gradescope autograder `results.json` format."""
    tests = [{"name": f"{t.function}: {t.id}", "score": t.points, "max_score": t.max_points,
              "status": "passed" if t.status == "passed" else "failed",
              "output": "\n".join(filter(None, [t.message, t.diagnosis and t.diagnosis.hint]))}
             for t in result.tests]
    mistake = view.main_mistake(result)
    output = result.message or f"{result.score:g}/{result.max_score:g}" + (
        f"; main mistake: {mistake}" if mistake else "")
    if result.quiz:
        output += f"; concept questions {result.quiz.score:g}/{result.quiz.max_score:g} (not in the score)"
    return {"score": result.score, "output": output,
            "execution_time": result.duration_s, "tests": tests}


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(graded: list[Graded]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "exercise", "status", "score", "max_score", "tests_passed",
                     "tests_total", "cell_errors", "main_mistake", "message", "report",
                     "quiz_score", "quiz_max"])
    for g in graded:
        r = g.result
        passed = sum(t.status == "passed" for t in r.tests)
        quiz = (f"{r.quiz.score:g}", f"{r.quiz.max_score:g}") if r.quiz else ("", "")
        writer.writerow([_cell(v) for v in (
            g.submission.name, r.exercise, r.status, f"{r.score:g}", f"{r.max_score:g}", passed,
            len(r.tests), len(r.cell_errors), view.main_mistake(r), r.message,
            f"submissions/{g.submission.key}/report.html", *quiz)])
    return buffer.getvalue()


def write_summary(out: Path, graded: list[Graded]) -> Path:
    """The class summary page and the gradebook, from every result."""
    entries = [html.IndexEntry(g.submission.name, f"submissions/{g.submission.key}/report.html"
                               if (out / "submissions" / g.submission.key / "report.html").is_file()
                               else None, g.result) for g in graded]
    write_atomic(out / "index.html", html.render_index(entries))
    write_atomic(out / "grades.csv", gradebook_csv(graded))
    write_atomic(out / "results.json", json.dumps(
        [{**g.result.to_json(), "key": g.submission.key, "main_mistake": view.main_mistake(g.result)}
         for g in graded], indent=2))
    return out / "index.html"


def grade_batch(paths: list[Path], out: Path, jobs: int, override: Exercise | None = None,
                progress: Callable[[Graded], None] = lambda g: None,
                scheduler: str | None = None) -> list[Graded]:
    """Grade every submission under `paths` into `out`; results in submission order.

    With `scheduler` (a Dask scheduler's address) the grading runs on that cluster instead of
    in `jobs` threads here; every output is written the same way. Raises `BatchError` when the
    cluster cannot be used: before `out` is touched if it cannot be reached (the last outputs
    stay as they were), after writing what was graded if it is lost midway."""
    catalogue = exercises.discover()
    submissions = find(paths)
    cluster = _connect(scheduler) if scheduler is not None else None
    fallback = override or catalogue[0]
    done: dict[str, Graded] = {}

    def record(graded: Graded) -> None:
        done[graded.submission.key] = graded
        progress(graded)

    try:
        if cluster is None:
            _grade_here(submissions, jobs, record, fallback,
                        lambda sub: _grade_one(sub, override, catalogue, out))
        else:
            _grade_on_cluster(cluster, out, record, fallback, _jobs(
                submissions, record, fallback, lambda sub: prepare(sub, override, catalogue, out)))
    finally:
        ordered = [done[s.key] for s in submissions if s.key in done]
        write_summary(out, ordered)
    return ordered


def _internal_error(sub: Submission, exercise: Exercise, exc: Exception) -> Graded:
    return Graded(sub, grade.failed(exercise, sub.name, f"internal error: {exc!r}"))


def _grade_here(submissions: list[Submission], jobs: int, record: Callable[[Graded], None],
                fallback: Exercise, grade_one: Callable[[Submission], Graded]) -> None:
    """Grade in `jobs` threads on this machine (each one drives a sandboxed worker or kernel)."""
    if any(s.path.suffix == ".ipynb" for s in submissions):
        kernel.prestart(max(1, jobs))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, s): s for s in submissions}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    graded = future.result()
                except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
                    graded = _internal_error(sub, fallback, exc)
                record(graded)
    finally:
        kernel.close_pool()


def _jobs(submissions: list[Submission], record: Callable[[Graded], None], fallback: Exercise,
          prepare_one: Callable[[Submission], Graded | Job]) -> Iterator[tuple[Job, tuple]]:
    """The jobs for a cluster with their task arguments, prepared lazily as the cluster takes
    them (only the submissions in flight are held in memory); settled ones are recorded here."""
    for sub in submissions:
        try:
            prepared = prepare_one(sub)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            prepared = _internal_error(sub, fallback, exc)
        if isinstance(prepared, Graded):
            record(prepared)
        else:
            yield prepared, (prepared.exercise, sub.name, prepared.data)


def _connect(scheduler: str) -> Cluster:
    """A connection to the cluster; Dask is imported only here, so local batches never load it."""
    try:
        from grader import distributed
    except ImportError as exc:
        raise BatchError(f"grading on a Dask cluster needs Dask ({exc}): "
                         "pip install 'convgrade[dask]'") from None
    try:
        return distributed.Cluster(scheduler)
    except distributed.ClusterError as exc:
        raise BatchError(str(exc)) from None


def _grade_on_cluster(cluster: Cluster, out: Path, record: Callable[[Graded], None],
                      fallback: Exercise, pending: Iterator[tuple[Job, tuple]]) -> None:
    """Grade the jobs as tasks on the cluster; finish each one here as its document arrives."""
    from grader import distributed  # already imported by `_connect`

    try:
        with cluster:
            for job, doc, reason in cluster.grade(grade_document, pending):
                try:
                    graded = finish(job, doc, out) if doc is not None else not_graded(job, reason, out)
                except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
                    graded = _internal_error(job.submission, fallback, exc)
                record(graded)
    except distributed.ClusterError as exc:
        raise BatchError(str(exc)) from None
