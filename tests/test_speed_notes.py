"""Speed notes say what was measured: Python lines per output element, then the time ratio."""

from __future__ import annotations

from grader import exercises, grade, speed
from tests.conftest import ROOT

SPEED = ROOT / "tests" / "submissions" / "speed" / "conv_forward"


def _speed(path):
    result = grade.grade_file(exercises.resolve("conv_forward"), path)
    assert result.score == 100
    (summary,) = result.functions
    return result.performance, summary.speed


def test_naive_loops_are_told_python_loops_from_the_lines_they_run():
    perf, speed = _speed(ROOT / "tests" / "submissions" / "naive" / "conv_forward.py")
    assert speed.python_lines_per_output >= 1
    assert speed.note == "python-loops" and perf.diagnosis.slug == "python-loops"


def test_einsum_without_optimize_is_told_why_it_is_slow_never_loops():
    perf, speed = _speed(SPEED / "einsum-no-optimize.py")
    assert speed.python_lines_per_output < 0.5
    assert speed.note != "python-loops"
    assert perf.diagnosis is None or perf.diagnosis.slug == "slow-einsum"
    if speed.ratio_to_reference > 3:  # slow enough for a note: it names the contraction order
        assert perf.diagnosis.slug == "slow-einsum" and "optimize" in perf.diagnosis.hint


def test_sliding_window_answer_gets_no_note_about_loops_or_einsum():
    perf, speed = _speed(SPEED / "sliding-window.py")
    assert speed.python_lines_per_output < 0.5
    assert perf.diagnosis is None and speed.note != "python-loops"


def test_the_grader_clock_decides_the_note_and_the_line_count_only_words_it():
    """Whatever the learner's worker counts (lines, np.einsum), far slower than the reference is a
    note, and on par is none: the count picks `python-loops` over `slow`, nothing more."""
    for lines, einsum in ((None, False), (0.0, False), (0.0, True), (7.0, False)):
        text, slug = speed.verdict(40.0, lines, einsum)
        assert text != speed.verdict(1.0, lines, einsum)[0]
        assert (slug == "python-loops") == (lines == 7.0)
        assert speed.verdict(1.0, lines, einsum) == ("on par with the vectorized reference", None)
