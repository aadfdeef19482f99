"""Grading one submission file: read it, run the suite in a worker, time it, return the result.

Whatever goes wrong with the submission comes back as a `GradeResult` with status "error"
and a one-line reason; nothing about a submission raises out of here.
"""

from __future__ import annotations

import time
from pathlib import Path

from grader import runner, speed
from grader.boundary import CallOutcome, WorkerSession
from grader.models import Exercise, GradeResult

MAX_SOURCE_BYTES = 1024 * 1024


def grade_file(exercise: Exercise, path: Path, display_name: str | None = None) -> GradeResult:
    """Grade a learner `.py` file against `exercise`."""
    name = display_name or str(path)
    try:
        source = read_source(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return GradeResult(exercise=exercise.slug, submission=name, status="error", score=0.0,
                           max_score=exercise.max_score, message=f"cannot read {name}: {reason}")
    return grade_source(exercise, source, name)


def grade_source(exercise: Exercise, source: str, display_name: str) -> GradeResult:
    """Grade learner source code (the text of a `.py` file) against the exercise's hidden suite."""
    start = time.monotonic()
    deadline = start + exercise.limits.total_timeout_s
    with WorkerSession(source, display_name, list(exercise.functions),
                       exercise.limits) as session:
        loaded = session.start()
        if loaded.kind != "value":
            return _load_failed(exercise, display_name, loaded, time.monotonic() - start)
        results = runner.run_cases(exercise, session, deadline)
        performances = speed.measure(exercise, session, results, deadline)
    return GradeResult(
        exercise=exercise.slug, submission=display_name, status="graded",
        score=round(sum(r.points for r in results), 6), max_score=exercise.max_score,
        tests=tuple(results), duration_s=round(time.monotonic() - start, 3),
        performance=max(performances, key=lambda p: p.ratio_to_reference, default=None),
        performances=performances)


def _load_failed(exercise: Exercise, name: str, outcome: CallOutcome,
                 duration: float) -> GradeResult:
    if outcome.kind == "raised":
        error = outcome.error
        where = f" (line {error['lineno']})" if error.get("lineno") else ""
        message = f"your file could not be imported: {error.get('type')}{where}: " \
                  f"{error.get('message', '')}"
    else:
        message = f"your file could not be imported: {outcome.reason}"
    return GradeResult(exercise=exercise.slug, submission=name, status="error", score=0.0,
                       max_score=exercise.max_score, message=message[:500],
                       duration_s=round(duration, 3))


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
