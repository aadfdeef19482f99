"""Every idiom an interviewer hopes to see, written as a candidate would, earns full marks and a
truthful speed line: never the `python-loops` note, never a claim of extra work or copies; when
it is slower than the model answer, the line says only that, measured."""

from __future__ import annotations

import pytest

from grader import exercises, grade, sandbox, speed
from tests.conftest import ROOT

SPEED = ROOT / "tests" / "submissions" / "speed"
# einsum-no-optimize is left out: its slow-einsum note is true (tests/test_speed_notes.py)
IDIOMS = sorted(p for p in SPEED.glob("*/*.py") if p.stem != "einsum-no-optimize")


def test_every_exercise_has_idioms_of_each_kind():
    """The forward passes by window view + matrix product, tensordot, einsum(optimize=True) and
    explicit im2col or a tap loop; the backwards by transposed correlation and tap scatter;
    pooling by window reductions and by tap loops."""
    by_slug = {slug: {p.stem for p in IDIOMS if p.parent.name == slug}
               for slug in ("conv1d", "conv_forward", "conv_backward", "conv_strided_dilated",
                            "pooling")}
    assert {"sliding-window", "tensordot", "einsum-optimize", "im2col", "per-tap"} \
        <= by_slug["conv_forward"] and by_slug["conv_forward"] <= by_slug["conv1d"]
    assert {"transposed-correlation", "per-tap-scatter", "im2col"} == by_slug["conv_backward"]
    assert {"einsum-optimize", "im2col-transposed", "per-tap"} == by_slug["conv_strided_dilated"]
    assert {"window-reductions", "tap-loop", "bincount"} == by_slug["pooling"]


@pytest.mark.slow
@pytest.mark.parametrize("path", IDIOMS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_correct_idiom_is_never_told_it_loops_or_does_more_work(path):
    result = grade.grade_file(exercises.resolve(path.parent.name), path)
    assert result.isolation == sandbox.description()  # learner code ran as it would for anyone
    assert result.score == result.max_score, [t.message for t in result.tests if t.points == 0]
    for summary in result.functions:
        timed = summary.speed
        assert timed is not None, f"{summary.function} was not timed"
        assert timed.note != "python-loops" and timed.python_lines_per_output is not None
        assert timed.python_lines_per_output < speed.LOOPS_LINES_PER_OUTPUT
        assert "work" not in timed.message and "copies" not in timed.message
        if timed.note == "slow":  # only what was measured
            assert timed.message == speed.verdict(timed.ratio_to_reference, 0.0, False)[0]
    assert all(p.diagnosis is None for p in result.performances)


def test_a_slow_loop_free_answer_is_told_the_measurement_not_a_cause():
    """Over the threshold without Python loops or np.einsum's written order: what was measured
    (no loops; slower than the model answer), nothing about work or copies it may not do."""
    text, note = speed.verdict(6.0, 0.0, False)
    assert note is None and "no Python loops" in text and "model answer" in text
    assert "work" not in text and "copies" not in text
