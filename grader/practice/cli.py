"""The practice commands of `grader`: quiz, hint, interview and progress, and what `grader
check` adds for a learner (its row in the progress database, a running interview's clock).

Like grader/cli.py, this only parses and delegates (to grader.practice.terminal)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from grader import exercises
from grader.models import Exercise, GradeResult
from grader.practice.progress import ProgressError
from grader.practice.questions import QuestionError


def _fail(message: str) -> None:
    click.echo(f"grader: error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (ProgressError, QuestionError, exercises.ExerciseError) as exc:
        _fail(str(exc))


def after_check(target: Exercise, result: GradeResult, quiet: bool) -> None:
    """Record the check in the learner's progress (and a running interview) and print what that
    adds, unless `quiet` (--json keeps stdout and stderr machine-readable). A broken progress
    database is a warning here: the grade itself was shown."""
    from grader.practice import terminal

    try:
        text = terminal.check_epilogue(target, result)
    except ProgressError as exc:
        click.echo(f"grader: warning: this check was not recorded: {exc}", err=True)
        return
    if text and not quiet:
        click.echo("\n" + text)


@click.command()
@click.argument("exercise")
@click.option("--seed", type=int, default=None,
              help="Draw the numbers from this seed (default: a new one each time, printed).")
def quiz(exercise: str, seed: int | None) -> None:
    """Answer an exercise's concept questions, one at a time, with the explanation after each.

    Answers are typed, or piped one per line; an empty line skips a question. Every run is
    recorded in your progress. Exit status: 0 when every answer was right, 1 otherwise.

    Examples:

    \b
        grader quiz conv_forward
        grader quiz conv_strided_dilated --seed 7
        printf '16\\nb\\n' | grader quiz conv_forward --seed 3
    """
    from grader.practice import terminal

    stdin = click.get_text_stream("stdin")
    with _errors():
        sys.exit(terminal.run_quiz(exercises.resolve(exercise), seed, stdin.readline, click.echo))


@click.command()
@click.argument("exercise")
def hint(exercise: str) -> None:
    """Show the next hint for an exercise, from the first step to the key line of the idea.

    The number of hints seen is remembered, and `grader check` and `grader progress` report it.

    Example:

    \b
        grader hint conv_backward
    """
    from grader.practice import terminal

    with _errors():
        click.echo(terminal.next_hint(exercises.resolve(exercise)))


@click.command()
@click.argument("exercise")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=45.0,
              show_default=True, help="Time allowed.")
@click.option("--status", is_flag=True, help="Show the clock of the running interview.")
@click.option("--finish", is_flag=True, help="End the running interview now and show its summary.")
def interview(exercise: str, minutes: float, status: bool, finish: bool) -> None:
    """Solve an exercise against the clock, as in an interview.

    Starts the clock and shows the statement. Grade your solution whenever you like with
    `grader check`; the interview ends at the first full pass or when the time is up, with
    the score, the time to the first full pass, the follow-up questions and the model answer.

    Examples:

    \b
        grader interview conv_forward --minutes 30
        grader check conv_forward --file my_conv.py
        grader interview conv_forward --status
        grader interview conv_forward --finish
    """
    from grader.practice import terminal

    with _errors():
        target = exercises.resolve(exercise)
        if status or finish:
            click.echo(terminal.interview_status(target, finish))
        else:
            click.echo(terminal.interview_start(target, minutes))


@click.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the progress as a web page to this file.")
def progress(html_path: Path | None) -> None:
    """Show your progress: per exercise the best score, checks, time to the first full pass,
    hints, quizzes, the mistakes met most often and the score over time.

    Kept in a SQLite file in your data folder (CONVGRADE_HOME overrides where).

    Examples:

    \b
        grader progress
        grader progress --html progress.html
    """
    from grader.practice import page, terminal
    from grader.practice.progress import Progress

    with _errors(), Progress() as db:
        click.echo(terminal.progress_text(db, unicode=_can_print("▁█")))
        if html_path is not None:
            from grader import batch

            try:
                batch.write_atomic(html_path, page.render(db))
            except OSError as exc:
                _fail(f"cannot write {html_path}: {exc.strerror or exc}")
            click.echo(f"\nwrote {html_path}")


def _can_print(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


COMMANDS = (quiz, hint, interview, progress)
