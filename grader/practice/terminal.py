"""The practice commands as a learner meets them in a terminal: quiz, hint, interview, progress.

Each function does one command's work and returns the text to print (the quiz talks as it goes,
through the `echo` and `read_line` it is given, so that tests can pipe answers in). Errors are
`ProgressError` or `QuestionError` with one-line messages, for the CLI to report.
"""

from __future__ import annotations

import random
import shutil
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from grader.models import Exercise, GradeResult
from grader.practice import hints, interview, questions
from grader.practice.progress import Progress, ProgressError, Run

_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-=+*#@"


def _wrap(text: str, indent: str = "", hang: str = "") -> str:
    """Wrapped to the terminal (at most 100 columns), or to 80 columns when piped; `hang` is
    added to the indent of continuation lines."""
    columns = shutil.get_terminal_size().columns if sys.stdout.isatty() else 80
    width = max(40, min(columns, 100) - 1)
    return "\n".join(textwrap.fill(p, width, initial_indent=indent, subsequent_indent=indent + hang)
                     for p in text.split("\n"))


def pts(value: float) -> str:
    return f"{value:g}"


# ----------------------------------------------------------------------------- quiz

def render_question(d: questions.Drawn, number: int, total: int) -> str:
    q = d.question
    points = f"{pts(q.points)} point{'s' if q.points != 1 else ''}"
    lines = [f"Question {number} of {total} ({q.id}, {points})", _wrap(d.prompt)]
    if q.kind == "line":
        lines += [f"  {i:>2} | {line}" for i, line in enumerate(q.snippet.splitlines(), 1)]
    for letter, option in zip(questions.LETTERS, q.options):
        lines.append(_wrap(f"{letter}) {option.text}", "  ", "   "))
    hint = {"number": "a number", "shape": "a shape like (2, 3, 7, 9)", "line": "a line number",
            "choice": "a letter"}[q.kind]
    lines.append(f"Your answer ({hint}; Enter skips):")
    return "\n".join(lines)


def run_quiz(exercise: Exercise, seed: int | None, read_line: Callable[[], str],
             echo: Callable[[str], None], now: Callable[[], float] = time.time) -> int:
    """Ask every question in turn and judge each answer at once; 0 if all were right, else 1.
    End of input stops the quiz: the questions left count as skipped."""
    seed = random.randrange(10_000) if seed is None else seed
    drawn = questions.draw(exercise, seed)
    total = sum(d.question.points for d in drawn)
    echo(_wrap(f"{exercise.slug}: {len(drawn)} concept questions, seed {seed} "
               f"(`grader quiz {exercise.slug} --seed {seed}` asks the same numbers again)") + "\n")
    got, wrong, skipped = 0.0, [], 0
    for number, d in enumerate(drawn, 1):
        echo(render_question(d, number, len(drawn)))
        line = _readable(d, read_line, echo)
        if line is None:  # end of input
            skipped += len(drawn) - number + 1
            echo("(no more input: the remaining questions are skipped)\n")
            break
        if not line:
            skipped += 1
            echo("Skipped.\n")
            continue
        verdict = questions.judge(d, line)
        if verdict.correct:
            got += d.question.points
        else:
            wrong.append(d.question.id)
        echo(_wrap(verdict.feedback if verdict.correct else f"Wrong. {verdict.feedback}") + "\n")
    with Progress() as progress:
        progress.record(Run(exercise.slug, "quiz", now(), got, total, got == total,
                            tuple(f"quiz:{q}" for q in wrong), progress.hints_seen(exercise.slug)))
    echo(f"score {pts(got)}/{pts(total)}: {len(drawn) - len(wrong) - skipped} right, "
         f"{len(wrong)} wrong, {skipped} skipped (recorded; see `grader progress`)")
    return 0 if got == total else 1


def _readable(d: questions.Drawn, read_line: Callable[[], str],
              echo: Callable[[str], None]) -> str | None:
    """The next answer the question can read ("" to skip, None at the end of input); an
    unreadable one is asked again, so that a typo costs nothing."""
    while True:
        line = read_line()
        if line == "":
            return None
        if not line.strip():
            return ""
        try:
            questions.parse(d, line.strip())
        except ValueError as exc:
            echo(f"Could not read {line.strip()!r}: expected {exc}. Try again (Enter skips):")
            continue
        return line.strip()


# ----------------------------------------------------------------------------- hints

def next_hint(exercise: Exercise) -> str:
    ladder = hints.load(exercise)
    with Progress() as progress:
        before = progress.hints_seen(exercise.slug)
        seen = progress.see_hint(exercise.slug, len(ladder))
    text = f"Hint {seen} of {len(ladder)} for {exercise.slug}:\n{_wrap(ladder[seen - 1], '  ')}"
    if before == len(ladder):
        text += "\n(That was the last hint: the model answer is solutions/" \
                f"{exercise.slug}.py, after you have tried.)"
    return text


# ----------------------------------------------------------------------------- interview

def interview_start(exercise: Exercise, minutes: float, now: float | None = None) -> str:
    now = time.time() if now is None else now
    with Progress() as progress:
        iv = interview.start(progress, exercise, minutes, now)
    until = time.strftime("%H:%M:%S", time.localtime(iv.deadline))
    return "\n".join([
        interview.statement(exercise), "",
        f"Interview on {exercise.slug} started: {pts(minutes)} minutes, until {until}.",
        _wrap(f"Write your solution in {exercise.stub} (or any file) and grade it whenever you "
              "like with"),
        f"  grader check {exercise.slug} [--file YOUR_FILE]",
        _wrap("The interview ends at the first full pass or when the time is up; "
              f"`grader interview {exercise.slug} --status` shows the clock, `--finish` stops early."),
    ])


def interview_status(exercise: Exercise, finish: bool, now: float | None = None) -> str:
    now = time.time() if now is None else now
    with Progress() as progress:
        running, summary = interview.status(progress, exercise, now)
        if running is None:
            return f"No interview is running on {exercise.slug}; start one with " \
                   f"`grader interview {exercise.slug}`."
        if summary is None and finish:
            summary = interview.finish(progress, exercise, running, now, "finished early")
        if summary is not None:
            return render_summary(summary)
        checks = progress.interview_runs(running)
    best = max((r.score for r in checks), default=0.0)
    return (f"Interview on {exercise.slug}: {interview.clock(now - running.started)} elapsed, "
            f"{interview.clock(running.deadline - now)} left; {len(checks)} check(s), best score "
            f"{pts(best)}/{pts(exercise.max_score)}.")


def render_summary(s: interview.Summary) -> str:
    first = (f"first full pass after {interview.clock(s.first_pass_s)}" if s.first_pass_s is not None
             else "no full pass")
    lines = [_wrap(f"Interview over ({s.ended}): score {pts(s.score)}/{pts(s.max_score)} "
                   f"in {s.checks} check(s), {first}, {pts(round(s.minutes, 2))} minutes allowed.")]
    lines.append("\nFollow-up questions an interviewer asks next:")
    if s.followups:
        lines += [_wrap(f"{i}. {item}", "  ", "   ") for i, item in
                  enumerate(s.followups, 1)]
    else:
        lines.append(f"  (none in this statement yet; try `grader quiz {s.exercise}`)")
    lines.append(f"\nModel answer: {s.model_answer}")
    notes = s.model_answer.with_suffix(".md")
    if notes.is_file():
        lines.append(f"Answers to the follow-ups: {notes}")
    return "\n".join(lines)


def quiz_line(result: GradeResult) -> str:
    """The concept questions' points of a graded notebook or file, apart from the code's."""
    quiz = result.quiz
    if quiz is None:
        return ""
    lines = [f"concept questions: {pts(quiz.score)}/{pts(quiz.max_score)} (seed {quiz.seed}), "
             "counted apart from the code's score"]
    lines += [f"  {note}" for note in ([quiz.message] if quiz.message else list(quiz.nudges))]
    return "\n".join(lines)


def check_epilogue(exercise: Exercise, result: GradeResult, now: float | None = None) -> str:
    """What `grader check` adds after its report: the concept questions' points, if the file had
    answers; it records the check in the progress database, counts it for a running interview
    and says how many hints were used."""
    now = time.time() if now is None else now
    try:
        ladder = len(hints.load(exercise))
    except questions.QuestionError:
        ladder = 0
    with Progress() as progress:
        used = progress.hints_seen(exercise.slug)
        running, summary = interview.after_check(progress, exercise, result, used, now)
    lines = [line for line in (quiz_line(result), f"hints used: {used} of {ladder}" if ladder else "")
             if line]
    if summary is not None:
        lines += ["", render_summary(summary)]
    elif running is not None:
        lines.append(f"interview: {interview.clock(now - running.started)} elapsed, "
                     f"{interview.clock(running.deadline - now)} left")
    return "\n".join(lines)


def notebook_epilogue(exercise: Exercise, result: GradeResult) -> str:
    """`check_epilogue` for the notebook's check cell, where a broken progress database is a
    line of text under the grade rather than an error."""
    try:
        return check_epilogue(exercise, result)
    except ProgressError as exc:
        return "\n".join(filter(None, [quiz_line(result), f"(this check was not recorded: {exc})"]))


# ----------------------------------------------------------------------------- progress

@dataclass(frozen=True)
class Stats:
    """One exercise's record, as `grader progress` shows it."""

    exercise: str
    checks: int
    best: float | None
    max_score: float | None
    first_pass_s: float | None  # from the first check to the first full pass
    mistakes: tuple[tuple[str, int], ...]
    hints: int
    quizzes: int
    quiz_best: tuple[float, float] | None
    interviews: int
    series: tuple[tuple[float, float], ...]  # (time, score / max) of each check


def stats(progress: Progress) -> list[Stats]:
    runs = progress.runs()
    seen = progress.all_hints()
    out = []
    for slug in sorted({r.exercise for r in runs} | set(seen)):
        mine = [r for r in runs if r.exercise == slug]
        checks = [r for r in mine if r.kind == "check"]
        quizzes = [r for r in mine if r.kind == "quiz"]
        best = max(checks, key=lambda r: r.score, default=None)
        first = next((r for r in checks if r.passed), None)
        mistakes = Counter(f for r in mine if r.kind != "interview" for f in r.findings)
        top_quiz = max(quizzes, key=lambda r: r.score / r.max_score if r.max_score else 0, default=None)
        out.append(Stats(
            exercise=slug, checks=len(checks), best=best.score if best else None,
            max_score=best.max_score if best else None,
            first_pass_s=first.at - checks[0].at if first else None,
            mistakes=tuple(mistakes.most_common(3)), hints=seen.get(slug, 0), quizzes=len(quizzes),
            quiz_best=(top_quiz.score, top_quiz.max_score) if top_quiz else None,
            interviews=sum(r.kind == "interview" for r in mine),
            series=tuple((r.at, r.score / r.max_score if r.max_score else 0.0) for r in checks)))
    return out


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def sparkline(values: list[float], unicode: bool = True) -> str:
    bars = _BARS if unicode else _ASCII_BARS
    return "".join(bars[min(len(bars) - 1, int(v * (len(bars) - 1) + 0.5))] for v in values)


def progress_text(progress: Progress, unicode: bool = True) -> str:
    rows = stats(progress)
    if not rows:
        return (f"No progress recorded yet in {progress.path}.\nStart with `grader check <exercise>`,"
                " `grader quiz <exercise>` or `grader interview <exercise>`.")
    table = [("exercise", "best", "checks", "first pass", "hints", "quiz best", "interviews")]
    for s in rows:
        best = f"{pts(s.best)}/{pts(s.max_score)}" if s.best is not None else "-"
        quiz = f"{pts(s.quiz_best[0])}/{pts(s.quiz_best[1])}" if s.quiz_best else "-"
        table.append((s.exercise, best, str(s.checks), duration(s.first_pass_s), str(s.hints), quiz,
                      str(s.interviews)))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [f"Progress ({progress.path})", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines += ["", "Mistakes met most often:"]
    for s in rows:
        if s.mistakes:
            lines.append(f"  {s.exercise}: " + ", ".join(f"{m} ({n}x)" for m, n in s.mistakes))
    if len(lines) and lines[-1] == "Mistakes met most often:":
        lines[-1] += " none yet"
    lines += ["", "Score over time (one mark per check, oldest first; low to high = 0 to 100%):"]
    name = max(len(s.exercise) for s in rows)
    for s in rows:
        marks = sparkline([v for _, v in s.series[-40:]], unicode) if s.series else "-"
        lines.append(f"  {s.exercise.ljust(name)}  {marks}")
    return "\n".join(lines)


def show_questions(slug: str, answers: dict | None = None) -> None:
    """Print an exercise's concept questions with the numbers of `answers["seed"]` (a notebook's
    questions cell); the answers themselves are graded by `check(...)` and `grader grade`."""
    from grader.exercises import resolve

    seed = (answers or {}).get("seed", 0)
    drawn = questions.draw(resolve(slug), seed if isinstance(seed, int) else 0)
    print(f"{slug}: {len(drawn)} concept questions for seed {seed}. Put each answer in `answers` "
          "under the question's id, run that cell, then the check cell.\n")
    for number, d in enumerate(drawn, 1):
        print(render_question(d, number, len(drawn)).rsplit("\n", 1)[0] + "\n")
