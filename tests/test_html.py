"""HTML reports: content, self-containment, escaping of learner text, the class summary's numbers."""

from __future__ import annotations

import dataclasses
import re

import pytest

from grader.html import (
    TRUNCATED,
    IndexEntry,
    _cap,
    _cap_tail,
    _heat,
    _num,
    _ticks,
    render_check,
    render_index,
    render_report,
)
from grader.models import (
    CellError,
    Diagnosis,
    Finding,
    FunctionFindings,
    GradeResult,
    Performance,
    TestResult,
)

CSP = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
       'style-src \'unsafe-inline\'; img-src data:">')
EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
CAPTION = "Where dx is wrong in"

PADDING = Diagnosis("padding-ignored", "The padding is missing or one-sided.", "Pad both sides.")
CROP = Diagnosis("dx-not-cropped", "dx still includes the padding.", "Crop the padding.")
LOOPS = Diagnosis("python-loops", "Correct, but much slower.", "Vectorize: gather every window.")
HEATMAP = [[1.0, 0.5, 0.0], [0.25, 0.0, 0.75]]


def passed_result() -> GradeResult:
    tests = (TestResult("distinct-dims", "conv_forward", "core", "passed", 60, 60),
             TestResult("pad1", "conv_forward", "core", "passed", 40, 40))
    perf = Performance("conv_forward", 1.1, "on par with the vectorized reference", 8.5, 7.9)
    return GradeResult("conv_forward", "solutions/conv_forward.py", "graded", 100, 100, tests,
                       performance=perf, performances=(perf,), isolation="bubblewrap")


def failed_result(**changes) -> GradeResult:
    tests = (
        TestResult("stride1", "conv_backward", "core", "passed", 38, 38),
        TestResult("stride2-pad1-distinct-dims", "conv_backward", "core", "failed", 0, 6,
                   "dx has shape (2, 3, 9, 11), expected (2, 3, 7, 9)", CROP),
        TestResult("pad1", "conv_backward", "core", "failed", 0, 10, "dx is wrong: relative error 0.3",
                   PADDING, heatmap=HEATMAP, heatmap_shape=[2, 3, 2, 3], heatmap_output="dx"),
        TestResult("huge", "conv_backward", "edge", "timeout", 0, 4, "timed out after 5 s"),
        TestResult("crash", "conv_forward", "edge", "error", 0, 18, "raised ValueError: bad",
                   traceback="Traceback (most recent call last):\nValueError: bad"),
        TestResult("ok", "conv_forward", "core", "passed", 24, 24),
    )
    perf = Performance("conv_backward", 31.4, "far slower than the reference", 250.0, 8.0, LOOPS)
    cells = (CellError(3, "error", "ZeroDivisionError: division by zero",
                       'Traceback (most recent call last):\n  File "<cell 3>", line 1\nZeroDivisionError'),
             CellError(7, "timeout", "cell did not finish in 10 s"))
    fields = dict(exercise="conv_backward", submission="alice.ipynb", status="graded", score=62,
                  max_score=100, tests=tests, performance=perf, performances=(perf,),
                  cell_errors=cells, isolation="basic")
    return GradeResult(**{**fields, **changes})


def error_result(**changes) -> GradeResult:
    fields = dict(exercise="conv_forward", submission="bob.py", status="error", score=0, max_score=100,
                  message="your file could not be imported: SyntaxError (line 1): '(' was never closed")
    return GradeResult(**{**fields, **changes})


def svg_blocks(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def cells(heatmap: str) -> int:
    """The heatmap's cells: one square subpath each (M x y h c v c h -c z)."""
    return len(re.findall(r"h\d+v\d+h-\d+z", heatmap))


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<(svg|table) id="{element_id}".*?</\1>', page, flags=re.S)
    assert match, f"no #{element_id} in the page"
    return match.group(0)


def assert_self_contained(page: str) -> None:
    """No script, no external resource: the CSP is there and nothing would need it."""
    assert CSP in page
    assert "<script" not in page.lower()
    assert "<img" not in page.lower() and "<link" not in page.lower() and "<iframe" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


# --- the per-submission report -----------------------------------------------------------------

def test_passed_report_shows_score_and_verdicts():
    page = render_report(passed_result())
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert "100 / 100" in page and "all tests passed" in page
    assert "isolation: bubblewrap" in page
    assert "2 of 2 tests passed" in page
    # passed tests fold into a <details> that lists them
    assert re.search(r"<details[^>]*><summary[^>]*>2 passed tests</summary>.*distinct-dims.*60/60",
                     page, flags=re.S)
    assert "on par with the vectorized reference" in page and "1.1×" in page
    assert CAPTION not in page  # nothing failed, so no heatmap


def test_failed_report_shows_diagnoses_heatmap_speed_and_cell_errors():
    page = render_report(failed_result())
    assert_self_contained(page)
    assert "62 / 100" in page and "isolation: basic" in page
    # per function, with its subtotal: findings first, then failed tests, then passed folded
    assert "38 / 58 points" in page and "24 / 42 points" in page
    backward = page[page.index("38 / 58 points"):page.index("24 / 42 points")]
    assert backward.index("dx-not-cropped") < backward.index("<table") < backward.index("<details")
    assert ">fail<" in page and ">timeout<" in page and ">error<" in page
    for diagnosis in (CROP, PADDING):
        assert page.count(diagnosis.message) == 1 and diagnosis.hint in page
    # the heatmap: its cells (one path per colour), dark red for the largest error, light for
    # none, its axes named, the case's shape and the error scale
    (heat,) = [s for s in svg_blocks(page) if 'aria-label="error heatmap' in s]
    assert cells(heat) == 6
    assert f'fill="{_heat(1.0)}"' in heat and f'fill="{_heat(0.0)}"' in heat
    assert re.findall(r'class="cg-axis"[^>]*>([^<]*)<', heat) == ["H", "W →"]
    assert CAPTION in page and "shape (2, 3, 2, 3)" in page and 'class="cg-legend"' in page
    # speed and the python-loops hint
    assert "31.4×" in page and "python-loops" in page and LOOPS.hint in page
    # the learner's own cell errors: number, kind, message and the traceback in <pre>
    assert "Errors in your notebook cells" in page
    assert "ZeroDivisionError: division by zero" in page and "cell did not finish in 10 s" in page
    assert re.search(r"<pre[^>]*>Traceback \(most recent call last\):\n  File &#34;&lt;cell 3&gt;&#34;",
                     page)
    assert re.search(r">\s*7\s*</td>", page) and ">timeout<" in page
    # the test's own traceback shows under it
    assert re.search(r"<pre[^>]*>Traceback \(most recent call last\):\nValueError: bad</pre>", page)


def test_error_report_says_why():
    result = error_result()
    page = render_report(result)
    assert_self_contained(page)
    assert "could not be graded:" in page and "SyntaxError (line 1)" in page
    assert "0 / 100" in page and "not graded" in page
    assert 'class="cg-tests"' not in page


def test_oversized_heatmap_is_cut_to_24_by_24():
    big = [[0.5] * 40 for _ in range(30)]
    test = TestResult("big", "f", "core", "failed", 0, 1, "wrong", PADDING, heatmap=big)
    page = render_report(GradeResult("ex", "s.py", "graded", 0, 1, (test,)))
    (heat,) = svg_blocks(page)
    assert cells(heat) == 24 * 24


def test_heatmap_with_bad_values_still_renders():
    test = TestResult("odd", "f", "core", "failed", 0, 1, "wrong", PADDING,
                      heatmap=[[float("nan"), -3.0, 7.0, "x"]])  # type: ignore[list-item]
    page = render_report(GradeResult("ex", "s.py", "graded", 0, 1, (test,)))
    (heat,) = svg_blocks(page)
    assert cells(heat) == 4
    assert f'fill="{_heat(0.0)}"' in heat and f'fill="{_heat(1.0)}"' in heat


# --- the notebook fragment ---------------------------------------------------------------------

def test_check_is_a_fragment_with_inline_styles_only():
    fragment = render_check(failed_result())
    for tag in ("<!doctype", "<html", "<head", "<body", "<style", "<script", "<link"):
        assert tag not in fragment.lower()
    assert fragment.lstrip().startswith("<div")
    assert "62 / 100" in fragment and "<svg" in fragment and "<path" in fragment
    assert CROP.hint in fragment and "ZeroDivisionError" in fragment and "python-loops" in fragment


def test_check_and_report_share_the_same_markup():
    """Both come from the same macros: the tests tables are byte for byte the same."""
    result = failed_result()

    def tables(page: str) -> list[str]:
        return re.findall(r'<table class="cg-tests".*?</table>', page, flags=re.S)

    assert tables(render_check(result)) == tables(render_report(result))
    assert len(tables(render_check(result))) == 4  # failed and passed tests of two functions


# --- escaping and length caps ------------------------------------------------------------------

def hostile_result() -> GradeResult:
    diagnosis = Diagnosis(EVIL, EVIL, EVIL)
    tests = (TestResult(EVIL, EVIL, EVIL, "failed", 0, 1, EVIL, diagnosis, traceback=EVIL,
                        heatmap=[[0.5]]),
             TestResult("x", "f", "core", EVIL, 0, 1, EVIL))
    perf = Performance(EVIL, 40.0, EVIL, diagnosis=diagnosis)
    return GradeResult(EVIL, EVIL, "graded", 0, 2, tests, message=EVIL, performances=(perf,),
                       isolation=EVIL, cell_errors=(CellError(1, EVIL, EVIL, EVIL),))


@pytest.mark.parametrize("render", [
    render_report, render_check,
    lambda r: render_index([IndexEntry(EVIL, "javascript:alert(1)", r)], title=EVIL),
    lambda r: render_index([IndexEntry(EVIL, None, error_result(message=EVIL, exercise=EVIL))]),
])
def test_hostile_text_appears_only_escaped(render):
    page = render(hostile_result())
    assert EVIL_ESCAPED in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "onerror=alert(1)>" not in page
    assert "javascript:" not in page.replace(EVIL_ESCAPED, "")


def test_a_safe_link_is_kept_and_a_dangerous_one_dropped():
    page = render_index([IndexEntry("a.py", "reports/a%20b.html", passed_result()),
                         IndexEntry("b.py", "data:text/html,hi", passed_result())])
    assert 'href="reports/a%20b.html"' in page
    assert "data:text/html" not in page


def test_long_learner_text_is_truncated_with_a_marker():
    long_message = "M" * 10_000
    long_traceback = "T" * 9_000 + "\nValueError: the real error"
    test = TestResult("t", "f", "core", "failed", 0, 1, long_message, traceback=long_traceback)
    cell = CellError(2, "error", "C" * 10_000, "Traceback\n" + "U" * 10_000)
    result = GradeResult("ex", "N" * 5_000 + ".py", "graded", 0, 1, (test,), cell_errors=(cell,))
    for page in (render_report(result), render_check(result)):
        assert TRUNCATED in page
        for letter in "MTCUN":
            assert letter * 2_001 not in page
        assert "ValueError: the real error" in page  # a traceback keeps its end
    index = render_index([IndexEntry("N" * 5_000, None, error_result(message="E" * 10_000))])
    assert TRUNCATED in index and "N" * 201 not in index and "E" * 2_001 not in index


def test_filters():
    assert _cap("short") == "short"
    assert _cap("x" * 50, 10) == "x" * 10 + " … " + TRUNCATED
    assert _cap_tail("abcdef", 3) == TRUNCATED + " …\ndef"
    assert _cap(None) == ""
    assert (_num(10), _num(10.0), _num(62.5), _num(61.666666), _num(float("nan"))) == \
        ("10", "10", "62.5", "61.67", "–")
    assert _heat(0) == "#fff5f0" and _heat(1) == "#67000d"
    assert _heat(-1) == _heat(0) and _heat(5) == _heat(1) and _heat(float("nan")) == _heat(1)


# --- the class summary -------------------------------------------------------------------------

def class_entries() -> list[IndexEntry]:
    """Six submissions: two full, two around 60, one at 5, one that could not be graded."""
    def scored(name: str, score: float, failing: set[str]) -> IndexEntry:
        ids = ("core-a", "core-b", "edge-c")
        tests = tuple(TestResult(i, "conv_forward", i.split("-")[0],
                                 "failed" if i in failing else "passed", 0 if i in failing else 1, 1,
                                 diagnosis=PADDING if i in failing else None)
                      for i in ids)
        return IndexEntry(name, f"{name}.html",
                          GradeResult("conv_forward", name, "graded", score, 100, tests))

    return [scored("ann", 100, set()), scored("ben", 95, set()),
            scored("cat", 62, {"edge-c"}), scored("dan", 61, {"edge-c", "core-b"}),
            scored("eve", 5, {"edge-c", "core-b", "core-a"}),
            IndexEntry("fay", "fay.html", error_result(submission="fay"))]


def test_index_page_numbers():
    page = render_index(class_entries(), title="Week 3")
    assert_self_contained(page)
    assert "<title>Week 3</title>" in page
    assert re.search(r">\s*6\s*</div><div[^>]*>submissions<", page)
    mean = (100 + 95 + 62 + 61 + 5 + 0) / 6
    assert f"{mean:.1f} %" in page and "61.5 %" in page  # mean and median
    # every submission is listed with its link, score, status and cell-error count
    table = section(page, "submissions-conv_forward")
    # every submission of the exercise, best score first, with its link, score and main mistake
    assert re.findall(r'href="(\w+)\.html"', table) == ["ann", "ben", "cat", "dan", "eve", "fay"]
    assert "95 / 100" in table and ">error<" in table and PADDING.slug in table
    # the one that could not be graded, with its reason
    errors = section(page, "errors")
    assert "fay" in errors and "SyntaxError (line 1)" in errors


def test_index_histogram_has_one_bar_per_non_empty_bin():
    page = render_index(class_entries())
    histogram = section(page, "histogram")
    # 0-10: eve and fay (error, counted as 0); 60-70: cat, dan; 90-100: ben and ann (100 included)
    assert histogram.count("<rect") == 3
    for label in ("0–10 %: 2", "60–70 %: 2", "90–100 %: 2"):
        assert label in histogram
    assert "score (% of maximum)" in histogram and ">submissions<" in histogram
    assert histogram.count("–") >= 10  # every bin has its axis label


def test_pass_rates_put_the_most_failed_case_first():
    page = render_index(class_entries())
    table = section(page, "pass-rates-conv_forward")
    order = re.findall(r"<span[^>]*>(core-a|core-b|edge-c)</span>", table)
    assert order == ["edge-c", "core-b", "core-a"]  # 2/5, 3/5, 4/5 passed: the error one not counted
    assert "40 %" in table and "2/5" in table and "80 %" in table


def test_pass_rates_list_only_tests_below_100_percent():
    entries = [e for e in class_entries() if e.name in ("ann", "cat")]
    page = render_index(entries)
    assert re.findall(r"<span[^>]*>(core-a|core-b|edge-c)</span>",
                      section(page, "pass-rates-conv_forward")) == ["edge-c"]
    assert "2 other tests passed by every graded submission." in page


def test_most_frequent_mistakes_count_submissions_not_tests():
    page = render_index(class_entries())
    table = section(page, "mistakes-conv_forward")
    assert PADDING.slug in table and PADDING.message in table
    # eve fails three tests with it, dan two, cat one: three submissions, each linked
    assert re.search(r">\s*3\s*</td>", table)
    assert re.findall(r'href="(\w+)\.html"', table) == ["cat", "dan", "eve"]


def test_index_reads_top_down_and_keeps_speed_notes_apart():
    slow = Performance("conv_forward", 40.0, "far slower than the reference", 80.0, 2.0, LOOPS)
    entries = class_entries()
    entries[0] = IndexEntry("ann", "ann.html", dataclasses.replace(
        entries[0].result, performances=(slow,), performance=slow))
    page = render_index(entries)
    order = [page.index(marker) for marker in (
        'id="histogram"', 'id="mistakes"', 'id="errors"', 'id="pass-rates-conv_forward"',
        'id="submissions-conv_forward"')]
    assert order == sorted(order)
    assert "python-loops" not in section(page, "mistakes-conv_forward")
    notes = page[page.index('class="cg-speed-notes"'):page.index('id="errors"')]
    assert "python-loops" in notes and 'href="ann.html"' in notes
    # whole-number ticks only, from 0 to at least the tallest bar
    ticks = [int(t) for t in re.findall(r'class="cg-tick"[^>]*>(\d+)<', section(page, "histogram"))]
    assert ticks == [0, 1, 2]


def test_histogram_ticks_are_whole_numbers():
    for top in range(0, 40):
        ticks = _ticks(top)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 6
        assert all(isinstance(t, int) for t in ticks) and ticks == sorted(set(ticks))


def test_empty_index_renders():
    page = render_index([])
    assert_self_contained(page)
    assert "No submissions." in page
    assert section(page, "histogram").count("<rect") == 0


def test_findings_of_the_result_document_come_first_with_their_numbers():
    """Schema 2: the function's ranked findings are shown as they are, a pattern by its id, a
    factor in words, the heatmap of the test the finding names."""
    scaled = Finding("probe", "Your output is the right answer times a constant.", "Check scaling.",
                     ("pad1",), slug="scaled-output", detail={"factor": 0.5}, heatmap_test="pad1")
    stride = Finding("pattern", "fails only where stride > 1", "Check the stride.",
                     ("stride2-pad1-distinct-dims",), pattern="fails-when-stride-gt-1",
                     detail={"when": "stride > 1", "exact": True})
    functions = (FunctionFindings("conv_backward", 38, 58, (scaled, stride)),)
    page = render_report(failed_result(functions=functions))
    backward = page[page.index("38 / 58 points"):page.index("24 / 42 points")]
    assert backward.index("scaled-output") < backward.index("fails-when-stride-gt-1") \
        < backward.index("<table")
    assert "off by a factor of 0.5" in backward
    assert "where stride &gt; 1" not in backward.replace("fails only where stride &gt; 1", "")
    assert PADDING.message not in backward  # the document's findings replace the per-test ones
    (heat,) = [s for s in svg_blocks(page) if 'aria-label="error heatmap' in s]
    assert cells(heat) == 6
