"""Grading one submission file: read it, run the suite, return the result document.

Whatever goes wrong with the submission comes back as a `GradeResult` with status "error"
and a one-line reason; nothing about a submission raises out of here.
"""

from __future__ import annotations

from pathlib import Path

from grader import runner
from grader.models import Exercise, GradeResult


def grade_file(exercise: Exercise, path: Path, display_name: str | None = None) -> GradeResult:
    """Grade a learner `.py` file against `exercise`."""
    name = display_name or str(path)
    try:
        source = runner.read_source(str(path))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return GradeResult(exercise=exercise.slug, submission=name, status="error", score=0.0,
                           max_score=exercise.max_score, message=f"cannot read {name}: {reason}")
    return runner.grade_source(exercise, source, name)
