"""What a batch writes: each submission's report and result documents (ours and
Gradescope's), the class summary page and the gradebook (CSV and JSON)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from grader import html, view
from grader.batch.discovery import Graded, Submission
from grader.batch.storage import write_atomic
from grader.models import GradeResult


def write_submission(out: Path, sub: Submission, result: GradeResult, digest: str) -> None:
    """The per-submission outputs: HTML report, result document, Gradescope results.json."""
    folder = out / "submissions" / sub.key
    write_atomic(folder / "report.html", html.render_report(result))
    write_atomic(folder / "results.json", json.dumps(gradescope(result), indent=2))
    write_atomic(folder / "result.json",
                 json.dumps({**result.to_json(), "content_hash": digest}, indent=2))


def gradescope(result: GradeResult) -> dict:
    """The Gradescope autograder `results.json` format."""
    tests = [{"name": f"{t.function}: {t.id}", "score": t.points, "max_score": t.max_points,
              "status": "passed" if t.status == "passed" else "failed",
              "output": "\n".join(filter(None, [t.message, t.diagnosis and t.diagnosis.hint]))}
             for t in result.tests]
    mistake = view.main_mistake(result)
    output = result.message or f"{result.score:g}/{result.max_score:g}" + (
        f"; main mistake: {mistake}" if mistake else "")
    if result.quiz:
        output += f"; concept questions {result.quiz.score:g}/{result.quiz.max_score:g} (not in the score)"
    return {"score": result.score, "output": output,
            "execution_time": result.duration_s, "tests": tests}


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(graded: list[Graded]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "exercise", "status", "score", "max_score", "tests_passed",
                     "tests_total", "cell_errors", "main_mistake", "message", "report",
                     "quiz_score", "quiz_max"])
    for g in graded:
        r = g.result
        passed = sum(t.status == "passed" for t in r.tests)
        quiz = (f"{r.quiz.score:g}", f"{r.quiz.max_score:g}") if r.quiz else ("", "")
        writer.writerow([_cell(v) for v in (
            g.submission.name, r.exercise, r.status, f"{r.score:g}", f"{r.max_score:g}", passed,
            len(r.tests), len(r.cell_errors), view.main_mistake(r), r.message,
            f"submissions/{g.submission.key}/report.html", *quiz)])
    return buffer.getvalue()


def write_summary(out: Path, graded: list[Graded]) -> Path:
    """The class summary page and the gradebook, from every result."""
    entries = [html.IndexEntry(g.submission.name, f"submissions/{g.submission.key}/report.html"
                               if (out / "submissions" / g.submission.key / "report.html").is_file()
                               else None, g.result) for g in graded]
    write_atomic(out / "index.html", html.render_index(entries))
    write_atomic(out / "grades.csv", gradebook_csv(graded))
    write_atomic(out / "results.json", json.dumps(
        [{**g.result.to_json(), "key": g.submission.key, "main_mistake": view.main_mistake(g.result)}
         for g in graded], indent=2))
    return out / "index.html"
