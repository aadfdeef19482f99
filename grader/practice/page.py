"""`grader progress --html`: the progress table and score charts as one self-contained page."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from grader.practice.progress import Progress
from grader.practice.terminal import duration, pts, stats

CHART_W, CHART_H = 160, 40


def _points(series: tuple[tuple[float, float], ...], width: int, height: int) -> str:
    """SVG polyline points: one per check, evenly spaced, 0% at the bottom, 100% at the top."""
    step = width / max(len(series) - 1, 1)
    return " ".join(f"{i * step:.1f},{2 + (1 - min(max(v, 0.0), 1.0)) * height:.1f}"
                    for i, (_, v) in enumerate(series))


_ENV = Environment(loader=PackageLoader("grader", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV.filters.update(pts=pts, duration=duration, points=_points)


def render(progress: Progress) -> str:
    return _ENV.get_template("progress.html.j2").render(
        path=str(progress.path), stats=stats(progress), W=CHART_W, H=CHART_H)
