"""Shared fixtures: exercises, and grading a learner source text through the real worker boundary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grader import exercises, grade, suites
from grader.models import GradeResult

ROOT = Path(__file__).resolve().parent.parent
SLUGS = tuple(e.slug for e in exercises.discover())


@pytest.fixture
def grade_text(tmp_path):
    """Grade source text for an exercise, optionally with tighter limits to keep tests quick."""

    def grade_it(slug: str, source: str, **limits) -> GradeResult:
        exercise = exercises.resolve(slug)
        if limits:
            exercise = dataclasses.replace(
                exercise, limits=dataclasses.replace(exercise.limits, **limits))
        return grade.grade_source(exercise, source, "submission.py")

    return grade_it


def points_of(slug: str, function: str) -> float:
    """The points the hidden suite gives to one function."""
    return sum(c.points for c in suites.get(slug).cases if c.function == function)

