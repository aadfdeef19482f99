"""The timed interview: a clock kept in the progress database, checks counted against it.

`start` opens an interview for an exercise; every `grader check` of that exercise while it is
open is recorded under it (`after_check`); it ends at the first full pass, when its time is up
(noticed at the next check or `--status`), or on `--finish`. Its summary gives the best score
reached in time, the time to the first full pass, the exercise's follow-up questions and where
the model answer is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from grader.exercises import ROOT
from grader.models import Exercise, GradeResult
from grader.practice.progress import Interview, Progress, ProgressError, Run

_FOLLOWUPS = r"^##[^\n]*\bfollow-ups?\b[^\n]*$"  # "## Interview follow-ups", "## Follow-up questions"


@dataclass(frozen=True)
class Summary:
    exercise: str
    minutes: float
    ended: str  # "all tests passed" | "time is up" | "finished early"
    score: float
    max_score: float
    checks: int
    first_pass_s: float | None
    followups: tuple[str, ...]
    model_answer: Path


def start(progress: Progress, exercise: Exercise, minutes: float, now: float) -> Interview:
    """Open an interview; ProgressError if one is already running for this exercise."""
    if minutes <= 0:
        raise ProgressError("--minutes must be positive")
    running = progress.open_interview(exercise.slug)
    if running is not None and now < running.deadline:
        left = clock(running.deadline - now)
        raise ProgressError(f"an interview on {exercise.slug} is already running ({left} left); "
                            f"`grader interview {exercise.slug} --finish` ends it")
    if running is not None:  # its time ran out unnoticed: close it before the new one starts
        progress.finish_interview(running, running.deadline)
    return progress.start_interview(exercise.slug, now, now + minutes * 60)


def after_check(progress: Progress, exercise: Exercise, result: GradeResult, hints_used: int,
                now: float) -> tuple[Interview | None, Summary | None]:
    """Record a check; the open interview it counts for, and its summary if this ended it."""
    running = progress.open_interview(exercise.slug)
    counts = running is not None and now <= running.deadline
    findings = sorted({t.diagnosis.slug for t in result.tests if t.diagnosis})
    progress.record(Run(exercise.slug, "check", now, result.score, result.max_score, result.passed,
                        tuple(findings), hints_used, running.id if counts and running else None))
    if running is None:
        return None, None
    if result.passed and counts:
        return running, finish(progress, exercise, running, now, "all tests passed")
    if not counts:
        return running, finish(progress, exercise, running, running.deadline, "time is up")
    return running, None


def status(progress: Progress, exercise: Exercise, now: float) -> tuple[Interview | None, Summary | None]:
    """The open interview, or its summary when its time is up."""
    running = progress.open_interview(exercise.slug)
    if running is not None and now > running.deadline:
        return running, finish(progress, exercise, running, running.deadline, "time is up")
    return running, None


def finish(progress: Progress, exercise: Exercise, interview: Interview, at: float,
           ended: str) -> Summary:
    """Close the interview (once, even with several graders racing) and sum it up."""
    checks = [r for r in progress.interview_runs(interview) if r.at <= interview.deadline]
    best = max(checks, key=lambda r: r.score, default=None)
    first = next((r for r in checks if r.passed), None)
    summary = Summary(exercise=exercise.slug, minutes=(interview.deadline - interview.started) / 60,
                      ended=ended, score=best.score if best else 0.0, max_score=exercise.max_score,
                      checks=len(checks), first_pass_s=first.at - interview.started if first else None,
                      followups=followups(exercise), model_answer=ROOT / "solutions" / f"{exercise.slug}.py")
    if progress.finish_interview(interview, at):
        progress.record(Run(exercise.slug, "interview", at, summary.score, summary.max_score,
                            first is not None, (), progress.hints_seen(exercise.slug), interview.id))
    return summary


def followups(exercise: Exercise) -> tuple[str, ...]:
    """The items of the statement's follow-up section (its list, or its paragraphs); the lines
    before the list introduce it and are left out."""
    text = (exercise.path / "README.md").read_text()
    match = re.search(_FOLLOWUPS + r"(.*?)(?=^##\s|\Z)", text, re.M | re.S | re.I)
    if not match:
        return ()
    items: list[str] = []
    for line in match.group(1).strip().splitlines():
        item = re.match(r"\s*(?:[-*]|\d+[.)])\s+(.*)", line)
        if item:
            items.append(item.group(1).strip())
        elif line.strip() and items:
            items[-1] += " " + line.strip()
    return tuple(items) or tuple(p.strip() for p in match.group(1).split("\n\n") if p.strip())


def statement(exercise: Exercise) -> str:
    """The statement as the candidate sees it: the README without its follow-up questions."""
    text = (exercise.path / "README.md").read_text()
    return re.sub(_FOLLOWUPS + r".*?(?=^##\s|\Z)", "", text, flags=re.M | re.S | re.I).rstrip()


def clock(seconds: float) -> str:
    """12:05, or 1:02:03 past an hour."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

