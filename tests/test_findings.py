"""One finding per function: the data model, the result document (schema 2), and the engine."""

from __future__ import annotations

import json

import pytest

from grader import batch, exercises, findings, grade
from grader.models import SCHEMA_VERSION
from tests.conftest import ROOT

BUGGY = ROOT / "tests" / "submissions" / "buggy"
PATTERNS = sorted((ROOT / "tests" / "submissions" / "patterns").glob("*/*.py"))
SCHEMA1 = {"schema", "exercise", "submission", "status", "message", "score", "max_score", "tests",
           "performance"}


def _grade(slug: str, name: str):
    return grade.grade_file(exercises.resolve(slug), BUGGY / slug / name)


def test_result_document_is_schema2_and_keeps_every_schema1_field():
    result = _grade("conv_forward", "hw-swapped.py")
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["schema"] == SCHEMA_VERSION == 2
    assert SCHEMA1 <= set(doc)
    (entry,) = doc["functions"]
    assert entry["function"] == "conv_forward" and entry["max_points"] == 100
    top = entry["findings"][0]
    assert top["slug"] == "hw-swapped" and top["kind"] == "mistake"
    failing = {t["id"] for t in doc["tests"] if t["status"] != "passed"}
    assert set(top["tests"]) <= failing


def test_result_document_round_trips_through_the_gradebook_reader():
    result = _grade("conv_forward", "hw-swapped.py")
    again = batch.result_from_json(json.loads(json.dumps(result.to_json())))
    assert again.functions == result.functions


def test_every_failing_value_test_is_explained_by_some_finding():
    result = _grade("conv_strided_dilated", "dilation-ignored.py")
    explained = {t for f in result.functions for finding in f.findings for t in finding.tests}
    assert {t.id for t in result.tests if t.status != "passed"} <= explained


def test_a_correct_file_has_no_findings():
    result = grade.grade_file(exercises.resolve("conv_forward"), ROOT / "solutions" / "conv_forward.py")
    assert result.functions and not any(f.findings for f in result.functions)
    again = findings.summarize(exercises.resolve("conv_forward"), list(result.tests))
    assert [f.findings for f in again] == [f.findings for f in result.functions]


@pytest.mark.parametrize("path", PATTERNS, ids=[f"{p.parent.name}/{p.stem}" for p in PATTERNS])
def test_uncatalogued_mistake_is_stated_as_the_pattern_its_failures_share(path):
    """A mistake no variant knows is named by what its failing cases have in common, first."""
    result = grade.grade_file(exercises.resolve(path.parent.name), path)
    tops = [f.findings[0] for f in result.functions if f.findings]
    assert [f.key for f in tops] == [path.stem]
    assert tops[0].kind == "pattern" and tops[0].detail["exact"]
    (function,) = [f.function for f in result.functions if f.findings]
    failing = {t.id for t in result.tests if t.status != "passed" and t.function == function}
    assert set(tops[0].tests) == failing


def test_validation_counts_only_when_the_learner_raises(grade_text):
    """A ValueError from inside numpy is not the learner's validation."""
    source = (BUGGY.parent / "patterns" / "conv_forward" /
              "fails-when-the-stride-differs-per-axis.py").read_text()
    unchecked = source.replace('    if C_w != C:\n        raise ValueError(f"x has {C} channels, '
                               'w has {C_w}")\n', "")
    assert unchecked != source
    result = grade_text("conv_forward", unchecked)
    by_id = {t.id: t for t in result.tests}
    assert by_id["channel-mismatch-raises"].status == "failed"
    assert "library call" in by_id["channel-mismatch-raises"].message
