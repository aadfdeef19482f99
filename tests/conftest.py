"""Shared fixtures: exercises, and grading a learner source text through the real worker boundary."""

from __future__ import annotations

import dataclasses
import os
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


@pytest.fixture(autouse=True, scope="session")
def _progress_home(tmp_path_factory):
    """No test records progress in the real home folder: every grader run of the suite, in this
    process or in a subprocess, writes its progress database under a temporary CONVGRADE_HOME."""
    saved = os.environ.get("CONVGRADE_HOME")
    os.environ["CONVGRADE_HOME"] = str(tmp_path_factory.mktemp("convgrade-home"))
    yield
    if saved is None:
        os.environ.pop("CONVGRADE_HOME", None)
    else:
        os.environ["CONVGRADE_HOME"] = saved


def points_of(slug: str, function: str) -> float:
    """The points the hidden suite gives to one function."""
    return sum(c.points for c in suites.get(slug).cases if c.function == function)

