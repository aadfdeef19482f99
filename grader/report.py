"""Rendering results for people: the terminal report of `grader check` and the catalogue table."""

from __future__ import annotations

from grader.models import Exercise, GradeResult, TestResult

_LABELS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
_COLORS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33"}


def _fmt(points: float) -> str:
    return f"{points:g}"


def _paint(text: str, status: str, color: bool) -> str:
    return f"\033[{_COLORS[status]}m{text}\033[0m" if color else text


def _test_lines(test: TestResult, id_width: int, color: bool) -> list[str]:
    label = _paint(f"{_LABELS[test.status]:<7}", test.status, color)
    pts = f"{_fmt(test.points)}/{_fmt(test.max_points)}"
    line = f"  {label} {test.id:<{id_width}}  {test.tier:<8} {pts:>7}"
    lines = [f"{line}   {test.message}" if test.message else line]
    if test.diagnosis:
        lines.append(f"      mistake: {test.diagnosis.slug}: {test.diagnosis.message}")
        lines.append(f"      hint: {test.diagnosis.hint}")
    lines += [f"      {frame}" for frame in test.traceback.splitlines()]
    return lines


def render_text(result: GradeResult, color: bool = False) -> str:
    """The report `grader check` prints: per function, each case with verdict and points."""
    lines = [f"{result.exercise}: {result.submission}"]
    if result.status == "error":
        lines += ["", f"  could not grade: {result.message}", "",
                  f"score {_fmt(result.score)}/{_fmt(result.max_score)}"]
        return "\n".join(lines)
    width = max((len(t.id) for t in result.tests), default=10)
    functions = list(dict.fromkeys(t.function for t in result.tests))
    for function in functions:
        tests = [t for t in result.tests if t.function == function]
        got = sum(t.points for t in tests)
        top = sum(t.max_points for t in tests)
        lines += ["", f"{function}  ({_fmt(got)}/{_fmt(top)})"]
        for test in tests:
            lines += _test_lines(test, width, color)
    if result.performance:
        perf = result.performance
        lines += ["", f"speed: {perf.function} takes {perf.ratio_to_reference:.1f}x the "
                      f"reference's time: {perf.verdict}"]
    passed = sum(t.status == "passed" for t in result.tests)
    summary = (f"score {_fmt(result.score)}/{_fmt(result.max_score)}: {passed} of "
               f"{len(result.tests)} tests passed")
    lines += ["", _paint(summary, "passed" if result.passed else "failed", color)]
    return "\n".join(lines)


def render_catalogue(exercises: list[Exercise]) -> str:
    """The table `grader list` prints."""
    rows = [("slug", "title", "functions", "points")]
    rows += [(e.slug, e.title, ", ".join(e.functions), _fmt(e.max_score)) for e in exercises]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def shorten_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut in the middle: both the folder a name starts
    with and the file name it ends with stay readable."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return f"{text[:head]}…{text[len(text) - (width - 1 - head):]}"


def render_batch_counts(results: list[tuple[GradeResult, bool]]) -> str:
    """The last line of `grader grade`: what happened, counted ("19 submissions graded (18
    unchanged), 1 could not be graded")."""
    graded = [reused for result, reused in results if result.status != "error"]
    errors = len(results) - len(graded)
    line = f"{len(graded)} submission{'s' if len(graded) != 1 else ''} graded"
    if any(graded):
        line += f" ({sum(graded)} unchanged)"
    if errors:
        line += f", {errors} could not be graded"
    return line


def render_batch_summary(rows: list[tuple[str, GradeResult, bool]]) -> str:
    """The table `grader grade` prints at the end: one line per submission."""
    table = [("submission", "exercise", "score", "status")]
    for name, result, reused in rows:
        if result.status == "error":
            status = f"could not grade: {result.message}"[:90]
        else:
            passed = sum(t.status == "passed" for t in result.tests)
            status = f"{passed}/{len(result.tests)} tests passed"
            if result.cell_errors:
                status += f", {len(result.cell_errors)} cell error(s)"
        if reused:
            status += " (unchanged, not regraded)"
        score = f"{_fmt(result.score)}/{_fmt(result.max_score)}"
        table.append((shorten_middle(name, 48), result.exercise, score, status))
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths)), row[3]])
                     for row in table)
