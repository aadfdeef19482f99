"""HTML views of grading results: one report per submission, a Jupyter fragment, a class summary.

All markup lives in jinja2 templates (`grader/templates/`) rendered with autoescaping on, so
learner-controlled text (file names, messages, tracebacks, cell errors) can only ever appear as
text. Python here computes the numbers the templates show and provides small filters; it never
assembles HTML. Pages are self-contained (inline CSS and SVG, no scripts, no fetches) and carry a
Content-Security-Policy that would block anything else even if it slipped in.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from grader import view
from grader.models import GradeResult

TRUNCATED = "[truncated]"
TEXT_LIMIT = 2000  # messages, diagnoses, tracebacks: enough for a real traceback, not a novel
NAME_LIMIT = 200  # submission names and ids sit in table cells and headings
HEATMAP_MAX = 24  # the grader pools heatmaps to 24 x 24; anything larger is cut, not drawn

# Light to dark red ("Reds"-like); interpolated so that 0 is almost white and 1 is dark red.
_HEAT_STOPS = ((255, 245, 240), (252, 187, 161), (251, 106, 74), (203, 24, 29), (103, 0, 13))


def _cap(text: object, limit: int = TEXT_LIMIT) -> str:
    """The first `limit` characters of `text`, with a visible marker when something was cut."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … {TRUNCATED}"


def _cap_tail(text: object, limit: int = TEXT_LIMIT) -> str:
    """The last `limit` characters: the end of a traceback is where the error is named."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{TRUNCATED} …\n{text[-limit:]}"


def _num(value: object) -> str:
    """Points and scores as people write them: 10, 62.5, 61.67 (never 61.666667 or 10.0);
    a dash for anything that is not a finite number rather than failing the whole page."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return f"{round(number, 2):g}" if math.isfinite(number) else "–"


def _heat(value: object) -> str:
    """The fill colour of one heatmap cell; bad values (NaN, out of range) are clamped."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = 0.0
    v = min(max(v, 0.0), 1.0) if math.isfinite(v) else 1.0
    pos = v * (len(_HEAT_STOPS) - 1)
    i = min(int(pos), len(_HEAT_STOPS) - 2)
    t = pos - i
    lo, hi = _HEAT_STOPS[i], _HEAT_STOPS[i + 1]
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"


def _heat_paths(grid: list[list[float]], cell: int, x0: int, y0: int) -> list[tuple[str, str]]:
    """The heatmap as one SVG path per colour, errors rounded to tenths: `(fill, d)` pairs, a
    few kilobytes even for 24 x 24 cells (one <rect> per cell would weigh ten times more in a
    notebook)."""
    shapes: dict[str, list[str]] = {}
    for i, row in enumerate(grid[:HEATMAP_MAX]):
        for j, value in enumerate(row[:HEATMAP_MAX]):
            try:
                v = round(float(value), 1)
            except (TypeError, ValueError):
                v = 0.0
            shapes.setdefault(_heat(v), []).append(
                f"M{x0 + j * cell} {y0 + i * cell}h{cell}v{cell}h-{cell}z")
    return [(fill, "".join(parts)) for fill, parts in shapes.items()]


def _safe_href(href: str | None) -> str | None:
    """Only relative links and http(s) URLs: a `javascript:` or `data:` link is dropped."""
    if not href:
        return None
    scheme = urlsplit(href).scheme.lower()
    return href if scheme in ("", "http", "https") else None


_ENV = Environment(
    loader=PackageLoader("grader", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a typo in a template fails loudly in the tests, not silently
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
)
_ENV.filters.update(cap=_cap, cap_tail=_cap_tail, num=_num, heat=_heat, heat_paths=_heat_paths,
                    main_mistake=view.main_mistake,
                    safe_href=_safe_href)
_ENV.globals.update(TEXT_LIMIT=TEXT_LIMIT, NAME_LIMIT=NAME_LIMIT, HEATMAP_MAX=HEATMAP_MAX)


@dataclass(frozen=True)
class IndexEntry:
    """One row of the class summary: a display name, the link to its report (or None), its result."""

    name: str
    href: str | None
    result: GradeResult


def render_report(result: GradeResult) -> str:
    """A complete, self-contained HTML page for one submission."""
    return _ENV.get_template("report.html.j2").render(result=result, sections=view.sections(result))


def render_check(result: GradeResult) -> str:
    """An HTML fragment (no <html>/<head>, inline styles only) for the output of a Jupyter cell."""
    return _ENV.get_template("check.html.j2").render(result=result, sections=view.sections(result))


def render_index(entries: list[IndexEntry], title: str = "Class summary") -> str:
    """The class summary page, in the order an instructor reads it: headline figures and the
    score histogram; the most frequent mistakes per exercise, with who made them; what could not
    be graded; then per exercise the tests not everyone passed and every submission by score."""
    percents = [_percent(e.result) for e in entries]
    bins = _histogram(percents)
    return _ENV.get_template("index.html.j2").render(
        title=title,
        entries=entries,
        count=len(entries),
        errors=[e for e in entries if e.result.status == "error"],
        mean=statistics.fmean(percents) if percents else None,
        median=statistics.median(percents) if percents else None,
        bins=bins,
        ticks=_ticks(max((b.count for b in bins), default=0)),
        exercises=_exercises(entries),
    )


def _percent(result: GradeResult) -> float:
    """Score as a percentage of the maximum, so exercises with different totals can be pooled."""
    if not result.max_score or not math.isfinite(result.score):
        return 0.0
    # rounded so that 70 % stored as 69.99999999 still lands in the 70-80 bin
    return round(min(max(result.score / result.max_score * 100.0, 0.0), 100.0), 6)


@dataclass(frozen=True)
class _Bin:
    low: int
    high: int
    count: int


def _histogram(percents: list[float]) -> list[_Bin]:
    """Ten bins 0-10 ... 90-100; a full score belongs to the last one."""
    counts = Counter(min(int(p // 10), 9) for p in percents)
    return [_Bin(10 * i, 10 * i + 10, counts.get(i, 0)) for i in range(10)]


def _ticks(top: int) -> list[int]:
    """Whole-number y ticks from 0, at most five of them, the last at or above `top`."""
    step = max(1, math.ceil(top / 4))
    return list(range(0, max(top, 1) + step, step))[:6] if top else [0, 1]


@dataclass(frozen=True)
class _PassRate:
    id: str
    function: str
    tier: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class _Mistake:
    key: str
    message: str
    students: tuple[IndexEntry, ...]


@dataclass(frozen=True)
class _Exercise:
    """One exercise of the class: its frequent mistakes, speed notes, hard tests, submissions."""

    slug: str
    mistakes: tuple[_Mistake, ...]
    speed_notes: tuple[_Mistake, ...]
    hard: tuple[_PassRate, ...]  # tests below 100 %, hardest first
    easy: int  # how many tests every graded submission passed
    entries: tuple[IndexEntry, ...]  # best score first


def _exercises(entries: list[IndexEntry]) -> list[_Exercise]:
    by_exercise: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        by_exercise.setdefault(entry.result.exercise, []).append(entry)
    out = []
    for slug in sorted(by_exercise):
        mine = by_exercise[slug]
        rates = _pass_rates(mine)
        hard = tuple(r for r in rates if r.passed < r.total)
        mistakes, notes = _mistakes(mine)
        ranked = tuple(sorted(mine, key=lambda e: (-_percent(e.result), e.name)))
        out.append(_Exercise(slug, mistakes, notes, hard, len(rates) - len(hard), ranked))
    return out


def _pass_rates(entries: list[IndexEntry]) -> list[_PassRate]:
    """Per hidden case, the share of graded submissions that passed it; hardest cases first."""
    passed: Counter = Counter()
    total: Counter = Counter()
    for entry in entries:
        if entry.result.status != "graded":
            continue  # nothing ran: counting those would make every case look equally hard
        for test in entry.result.tests:
            key = (test.id, test.function, test.tier)
            total[key] += 1
            passed[key] += test.status == "passed"
    rows = [_PassRate(*key, passed=passed[key], total=n) for key, n in total.items()]
    return sorted(rows, key=lambda r: (r.rate, -r.total, r.function, r.id))


def _mistakes(entries: list[IndexEntry]) -> tuple[tuple[_Mistake, ...], tuple[_Mistake, ...]]:
    """Each finding's key with the submissions showing it (most frequent first), and apart, the
    speed notes of correct but slow submissions."""
    who: dict[str, list[IndexEntry]] = {}
    messages: dict[str, str] = {}
    slow: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        for section in view.sections(entry.result):
            for finding in section.findings:
                messages.setdefault(finding.key, finding.message)
                if entry not in who.setdefault(finding.key, []):
                    who[finding.key].append(entry)
            if section.speed and section.speed.note:
                messages.setdefault(section.speed.note, section.speed.hint or section.speed.message)
                if entry not in slow.setdefault(section.speed.note, []):
                    slow[section.speed.note].append(entry)

    def ranked(found: dict[str, list[IndexEntry]]) -> tuple[_Mistake, ...]:
        return tuple(_Mistake(key, messages[key], tuple(people))
                     for key, people in sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0])))

    return ranked(who), ranked(slow)
