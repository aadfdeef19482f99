"""The client-side first step: a settled result (the submission cannot be graded at all, or
is unchanged since an earlier run: the rerun cache, keyed by content and exercise), or the job of
grading it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from grader import grade
from grader.batch.discovery import Graded, Submission, infer_exercise
from grader.batch.exports import write_submission
from grader.batch.storage import result_from_json
from grader.models import Exercise


def _unknown(catalogue: list[Exercise]) -> Exercise:
    """Stands in for the exercise of a submission that cannot be matched to one."""
    return Exercise("unknown", "unknown exercise", "", Path("."), (), {"core": 100.0},
                    catalogue[0].limits)


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
