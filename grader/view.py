"""What every report shows, in the order a learner reads it: per function, its findings first,
then its failed tests, then how many passed, then its speed.

The terminal report, the HTML pages, the notebook check and the gradebook all read a result
through `sections`, so a finding is stated once per function everywhere, with the same words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from grader import models
from grader.models import Diagnosis, FunctionFindings, GradeResult, Performance, TestResult


@dataclass(frozen=True)
class Heatmap:
    """Where one test's answer is wrong: the pooled error grid, the test, which output it maps
    (dx, dw: for functions returning several), that output's shape in the case, and the names of
    the grid's row and column axes."""

    grid: list[list[float]]
    test: str
    output: str
    shape: tuple[int, ...] | None
    rows: str
    cols: str

    @property
    def pooled(self) -> bool:
        """Whether one cell of the grid stands for several positions of the output."""
        if not self.shape or not self.grid:
            return False
        height = self.shape[-2] if len(self.shape) > 1 else 1
        return self.shape[-1] > len(self.grid[0]) or height > len(self.grid)


@dataclass(frozen=True)
class Finding:
    """One thing the function's failures have in common, with the tests it explains."""

    kind: str  # mistake | pattern | shape | probe
    key: str  # the catalogued slug, or the pattern's id
    message: str
    hint: str
    tests: tuple[str, ...]
    detail: str = ""
    heatmap: Heatmap | None = None


@dataclass(frozen=True)
class Speed:
    """How fast a correct function is, what that means and what to do about it."""

    function: str
    ratio: float
    message: str
    note: str = ""  # python-loops | slow | "" when fine
    hint: str = ""


@dataclass(frozen=True)
class Section:
    """One function of a result, ready to show."""

    function: str
    points: float
    max_points: float
    findings: tuple[Finding, ...]
    failed: tuple[TestResult, ...]
    passed: tuple[TestResult, ...]
    speed: Speed | None

    @property
    def total(self) -> int:
        return len(self.failed) + len(self.passed)

    @property
    def scaled(self) -> tuple[TestResult, ...]:
        """Passed cases that earn part of their points (cases that must raise, see runner)."""
        return tuple(t for t in self.passed if t.points < t.max_points)


def axes(shape: tuple[int, ...] | None) -> tuple[str, str]:
    """The row and column axes of a heatmap of an output of `shape` (the grader sums the error
    over the leading axes): L alone for a signal, (C, L) for signals (N, C, L), (H, W) for
    images (N, C, H, W)."""
    if shape is not None and len(shape) == 1:
        return ("", "L")
    return ("C", "L") if shape is not None and len(shape) == 3 else ("H", "W")


def heatmap_of(test: TestResult | None) -> Heatmap | None:
    if test is None or not test.heatmap:
        return None
    shape = tuple(test.heatmap_shape) if test.heatmap_shape else None
    return Heatmap(test.heatmap, test.id, test.heatmap_output, shape, *axes(shape))


def detail_text(detail: dict | None) -> str:
    """A finding's numbers in words: a factor, an offset, an axis off by some cells, a case
    property the failures share."""
    if not detail:
        return ""
    parts = []
    if "when" in detail:
        parts.append(f"{'fails exactly' if detail.get('exact') else 'fails'} where {detail['when']}")
    if "factor" in detail:
        parts.append(f"off by a factor of {detail['factor']:.3g}")
    if "offset" in detail:
        offset = detail["offset"]
        values = offset if isinstance(offset, list) else [offset]
        shown = ", ".join(f"{v:.3g}" for v in values[:4]) + (", ..." if len(values) > 4 else "")
        parts.append(f"offset by {shown}" + (" per channel" if isinstance(offset, list) else ""))
    if "axis" in detail:
        text = f"{detail['axis']} is {detail.get('got')} instead of {detail.get('want')}"
        parts.append(text + (f" ({detail['formula']})" if detail.get("formula") else ""))
    return "; ".join(parts)


def _detail(finding: models.Finding) -> str:
    """The finding's detail in words, without what its message already says (a pattern names
    the cases it fails; a shape finding may name the axis)."""
    detail = dict(finding.detail or {})
    if finding.kind == "pattern":
        detail.pop("when", None)
        detail.pop("exact", None)
    if f"{detail.get('axis')} is {detail.get('got')} instead of {detail.get('want')}" in finding.message:
        detail.pop("axis", None)
    return detail_text(detail)


def _speed(function: str, perf: Performance | None, summary: FunctionFindings | None) -> Speed | None:
    if summary is not None and summary.speed is not None:
        speed = summary.speed
        return Speed(function, speed.ratio_to_reference, speed.message, speed.note or "", speed.hint)
    if perf is None:
        return None
    note = perf.diagnosis.slug if perf.diagnosis else ""
    return Speed(function, perf.ratio_to_reference, perf.verdict, note,
                 perf.diagnosis.hint if perf.diagnosis else "")


def _findings(tests: tuple[TestResult, ...], summary: FunctionFindings | None) -> tuple[Finding, ...]:
    """The function's ranked findings; for a result document from before findings existed
    (schema 1, e.g. reused from an earlier run), its tests' diagnoses grouped by slug."""
    by_id = {t.id: t for t in tests}
    if summary is not None:
        return tuple(Finding(f.kind, f.key, f.message, f.hint, f.tests, _detail(f),
                             heatmap_of(by_id.get(f.heatmap_test or "")))
                     for f in summary.findings)
    failed = [t for t in tests if t.status != "passed" and t.diagnosis]
    counts = Counter(t.diagnosis.slug for t in failed)
    found = []
    for slug, _ in counts.most_common():
        mine = [t for t in failed if t.diagnosis.slug == slug]
        d: Diagnosis = mine[0].diagnosis
        worst = max((t for t in mine if t.heatmap), key=lambda t: t.max_points, default=None)
        found.append(Finding("mistake", slug, d.message, d.hint, tuple(t.id for t in mine),
                             heatmap=heatmap_of(worst)))
    return tuple(found)


def sections(result: GradeResult) -> list[Section]:
    """The result's functions in suite order, each with its findings, tests and speed."""
    perfs = {p.function: p for p in result.performances}
    summaries = {f.function: f for f in result.functions}
    out = []
    for function in dict.fromkeys(t.function for t in result.tests):
        tests = tuple(t for t in result.tests if t.function == function)
        summary = summaries.get(function)
        out.append(Section(
            function, sum(t.points for t in tests), sum(t.max_points for t in tests),
            _findings(tests, summary), tuple(t for t in tests if t.status != "passed"),
            tuple(t for t in tests if t.status == "passed"),
            _speed(function, perfs.get(function), summary)))
    return out


def main_mistake(result: GradeResult) -> str:
    """The key of the submission's main finding: of each function's top-ranked finding, the one
    that explains most failed tests; "" when nothing was found."""
    tops = [s.findings[0] for s in sections(result) if s.findings]
    return max(tops, key=lambda f: len(f.tests)).key if tops else ""
