"""Grading the jobs: in threads on this machine, or as tasks on a Dask cluster; each result
finished (written) here as it arrives."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from grader import exercises, grade, kernel, sandbox
from grader.batch.discovery import SUFFIXES, Graded, Submission, find
from grader.batch.exports import write_submission, write_summary
from grader.batch.rerun import Job, prepare
from grader.batch.storage import result_from_json
from grader.models import Exercise

if TYPE_CHECKING:
    from grader.distributed import Cluster


class BatchError(Exception):
    """A batch that cannot start or go on (no Dask, no scheduler or lost it); one line."""


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
