"""The `grader` command: parses arguments and delegates; no grading logic lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader import exercises, grade, report


def _fail(message: str) -> None:
    click.echo(f"grader: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Convolution exercises for ML interview prep, and the grader that checks them."""


@cli.command("list")
def list_command() -> None:
    """List the exercises: slug, title, functions and points.

    Example:

    \b
        grader list
    """
    try:
        click.echo(report.render_catalogue(exercises.discover()))
    except exercises.ExerciseError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("exercise")
@click.option("--file", "file_", type=click.Path(dir_okay=False, path_type=Path),
              help="Grade this .py file instead of the stub in the exercise folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result document as JSON.")
def check(exercise: str, file_: Path | None, as_json: bool) -> None:
    """Grade a solution against an exercise's hidden tests.

    EXERCISE is an exercise folder (exercises/conv_backward) or its slug. Exit status: 0 when
    every test passed, 1 when some test failed, 2 on a usage error.

    Examples:

    \b
        grader check exercises/conv_backward
        grader check exercises/conv1d --file my_conv1d.py --json
    """
    try:
        target = exercises.resolve(exercise)
    except exercises.ExerciseError as exc:
        _fail(str(exc))
    path = file_ or target.stub
    if not path.is_file():
        _fail(f"no such file: {path}")
    result = grade.grade_file(target, path)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(report.render_text(result, color=sys.stdout.isatty()))
    sys.exit(0 if result.passed else 1)


def main() -> None:
    cli()
