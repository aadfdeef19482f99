"""Are the hidden suites sound? Tables well formed, the reference scores 100, the stub 0, an honest
naive-loop solution 100 — all graded through the real worker boundary."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from grader import exercises, grade, suites
from tests.conftest import ROOT, SLUGS

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize("slug", SLUGS)
def test_case_table_is_well_formed(slug):
    exercise = exercises.resolve(slug)
    cases = suites.get(slug).cases
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert all(KEBAB.match(i) for i in ids), [i for i in ids if not KEBAB.match(i)]
    assert {c.function for c in cases} == set(exercise.functions)
    per_tier = Counter()
    for row in (*cases, *suites.get(slug).extras):  # the exercise's points count both
        per_tier[row.tier] += row.points
        assert row.points > 0
    assert dict(per_tier) == pytest.approx(exercise.points)
    assert sum(per_tier.values()) == pytest.approx(100)


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_scores_full_marks(slug):
    result = grade.grade_file(exercises.resolve(slug), ROOT / "solutions" / f"{slug}.py")
    failed = [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert result.score == 100 and not failed, failed


@pytest.mark.parametrize("slug", SLUGS)
def test_untouched_stub_scores_zero(slug):
    exercise = exercises.resolve(slug)
    result = grade.grade_file(exercise, exercise.stub)
    assert result.status == "graded" and result.score == 0 and not result.passed
    value_cases = [t for t in result.tests if "raises" not in t.id]
    assert all("not implemented" in t.message for t in result.tests), \
        [t.message for t in value_cases if "not implemented" not in t.message]


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_naive_loop_solution_scores_full_marks(slug):
    """Does an honest, slow, learner-style solution earn every point?"""
    result = grade.grade_file(exercises.resolve(slug),
                              ROOT / "tests" / "submissions" / "naive" / f"{slug}.py")
    failed = [(t.id, t.message) for t in result.tests if t.status != "passed"]
    assert result.score == 100 and not failed, failed
