"""Rendering results for people: the terminal report of `grader check` and the catalogue table.

Everything here ends up on a terminal, so no text leaves it with a control character: an escape
sequence in a learner's exception message could clear the screen and draw a fake score.
"""

from __future__ import annotations

import re
import shutil
import textwrap

from grader import view
from grader.models import Exercise, GradeResult, TestResult

_LABELS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
_COLORS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33"}
# A report fits a 25-line screen with the practice footer `grader check` adds (a blank line, the
# quiz score, the hints used): failed tests beyond it are counted (--verbose: all of them).
TARGET_LINES = 22
FAILED_SHOWN = 3, 8  # failed tests listed per function: at least, at most
FINDINGS_IN_FULL = 2  # the rest of a function's findings are named on one line
# C0 and C1 controls and DEL, the Unicode marks that reorder or hide text on a terminal, and lone
# surrogates (which no terminal can be sent).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` on one line, every control character shown as `?`."""
    return _CONTROLS.sub("?", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))


def _fmt(points: float) -> str:
    return f"{round(points, 2):g}"  # scaled points (a share of a case) need no more digits


def _paint(text: str, status: str, color: bool) -> str:
    return f"\033[{_COLORS[status]}m{text}\033[0m" if color else text


def _short(text: str, width: int) -> str:
    """One line of at most `width` characters, cut with "..." when longer."""
    text = printable(text).rstrip()
    return text if len(text) <= width else text[:max(width - 3, 0)].rstrip() + "..."


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(printable(text).split()), width, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False) or [indent]


def _finding_lines(finding: view.Finding, width: int) -> list[str]:
    n = len(finding.tests)
    head = f"  {finding.kind}: {finding.key} (explains {n} failed test{'s' * (n != 1)})"
    lines = [_short(head, width)]
    lines += _wrap(finding.message, width, "    ")
    if finding.detail:
        lines += _wrap(finding.detail, width, "    ")
    if finding.hint:
        lines += _wrap(f"hint: {finding.hint}", width, "    ")
    return lines


def _test_lines(tests: list[TestResult], width: int, color: bool) -> list[str]:
    """One line per test: verdict, id, points, message, in aligned columns."""
    id_width = min(max((len(t.id) for t in tests), default=0), max(width // 3, 8))
    label_width = max((len(_LABELS[t.status]) for t in tests), default=0)
    lines = []
    for test in tests:
        label = _LABELS[test.status].ljust(label_width)
        pts = f"{_fmt(test.points)}/{_fmt(test.max_points)}"
        rest = _short(f" {test.id:<{id_width}} {pts:>5}  {test.message}", width - 4 - label_width)
        lines.append(f"    {_paint(label, test.status, color)}{rest}")
    return lines


def _speed_lines(speed: view.Speed, width: int) -> list[str]:
    lines = _wrap(f"speed: {speed.ratio:.1f}x the reference's time: {speed.message}", width, "  ")
    if speed.note:
        lines += _wrap(f"note: {speed.note}; hint: {speed.hint}" if speed.hint
                       else f"note: {speed.note}", width, "    ")
    return lines


def _section_lines(section: view.Section, width: int, color: bool, verbose: bool,
                   shown_failed: int) -> list[str]:
    lines = [_short(f"{section.function}  {_fmt(section.points)}/{_fmt(section.max_points)} "
                    f"points, {len(section.passed)} of {section.total} tests passed", width)]
    full = section.findings if verbose else section.findings[:FINDINGS_IN_FULL]
    for finding in full:
        lines += _finding_lines(finding, width)
    if len(section.findings) > len(full):
        rest = ", ".join(f"{f.key} ({len(f.tests)})" for f in section.findings[len(full):])
        lines += _wrap(f"also: {rest}; --verbose explains them", width, "  ")
    explained = {t for f in section.findings for t in f.tests}
    # the failures no finding explains first: those are the ones to read one by one
    failed = sorted(section.failed, key=lambda t: t.id in explained)
    shown = failed if verbose else failed[:shown_failed]
    same = {(t.status, t.message) for t in failed}
    if len(failed) > 1 and len(same) == 1 and not verbose:
        lines.append(_short(f"  failed: all {len(failed)} tests, each with: {failed[0].message}",
                            width))
    elif failed:
        lines.append("  failed:")
        lines += _test_lines(shown, width, color)
        if len(failed) > len(shown):
            rest = len(failed) - len(shown)
            lines.append(_short(f"    ... and {rest} more failed test{'s' * (rest != 1)} "
                                "(--verbose lists every test)", width))
    if verbose and section.passed:
        lines.append("  passed:")
        lines += _test_lines(list(section.passed), width, color)
    elif section.passed:
        n = len(section.passed)
        lines.append(f"  passed: {n} test{'s' * (n != 1)}" + ("" if not failed else
                                                                " (--verbose lists them)"))
        if section.scaled:  # one line: the share is the same for every case of the function
            first = section.scaled[0]
            share = round(100 * first.points / first.max_points)
            lines.append(_short(f"    {len(section.scaled)} raised as required, scaled to {share}%:"
                                " the share of valid-input points earned", width))
    if section.speed:
        lines += _speed_lines(section.speed, width)
    return lines


def _cell_error_lines(result: GradeResult, width: int) -> list[str]:
    if not result.cell_errors:
        return []
    lines = ["", "errors in your cells (the grader skipped them, as Jupyter did):"]
    return lines + [_short(f"  cell {e.cell}: {e.message}" if e.cell else f"  {e.message}", width)
                    for e in result.cell_errors]


def render_text(result: GradeResult, color: bool = False, width: int | None = None,
                verbose: bool = False) -> str:
    """The report `grader check` prints: per function, its findings first, then its failed
    tests one line each, then a count of the passed ones (all of them listed when `verbose`);
    no line wider than `width` (default: the terminal's, 80 when not a terminal)."""
    width = max(width or shutil.get_terminal_size().columns, 40)
    lines = [shorten_middle(f"{result.exercise}: {result.submission}", width)]
    if result.status == "error":
        lines += ["", *_wrap(f"could not grade: {result.message}", width, "  "), "",
                  f"score {_fmt(result.score)}/{_fmt(result.max_score)}"]
        return "\n".join(lines)
    lines += _cell_error_lines(result, width)
    sections = view.sections(result)
    # what is left of the screen after findings, counts and speed goes to the failed tests
    fixed = len(lines) + 2 + sum(1 + len(_section_lines(s, width, color, False, 0)) for s in sections)
    failing = sum(bool(s.failed) for s in sections)
    share = (TARGET_LINES - fixed) // max(failing, 1)
    shown = min(max(share, FAILED_SHOWN[0]), FAILED_SHOWN[1])
    for section in sections:
        lines += ["", *_section_lines(section, width, color, verbose, shown)]
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
    text = printable(text)
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
            status = f"could not grade: {printable(result.message)}"[:90]
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
