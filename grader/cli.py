"""The `grader` command: parses arguments and delegates; no grading logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from grader import exercises, report, sandbox
from grader.practice import cli as practice

if TYPE_CHECKING:
    from grader.batch import Graded


def _fail(message: str) -> NoReturn:
    click.echo(f"grader: error: {message}", err=True)
    sys.exit(2)


def _exercise(target: str) -> exercises.Exercise:
    """The exercise named on the command line, with its hidden suite loaded (an instructor's
    broken extra test file is a one-line error here, not a traceback later)."""
    from grader import suites

    try:
        exercise = exercises.resolve(target)
        suites.get(exercise.slug)
        return exercise
    except exercises.ExerciseError as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convgrade", message="grader (convgrade) %(version)s")
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
              help="Grade this .py file or .ipynb notebook instead of the stub in the folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result document as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML report (with error heatmaps) to this file.")
@click.option("--verbose", "-v", is_flag=True,
              help="List every test, passed ones included (by default: failed ones and a count).")
def check(exercise: str, file_: Path | None, as_json: bool, html_path: Path | None,
          verbose: bool) -> None:
    """Grade a solution against an exercise's hidden tests.

    EXERCISE is an exercise folder (exercises/conv_backward) or its slug. Exit status: 0 when
    every test passed, 1 when some test failed, 2 on a usage error.

    Examples:

    \b
        grader check exercises/conv_backward
        grader check exercises/conv1d --file my_conv1d.py --json
        grader check conv_forward --file conv_forward.ipynb --html report.html
        grader check conv_backward --file my_backward.py --verbose
    """
    target = _exercise(exercise)
    path = file_ or target.stub
    if not path.is_file():
        _fail(f"no such file: {path}")
    _warn_if_basic()
    sandbox.hide(path.resolve().parent)
    notebook = path.suffix == ".ipynb"
    if notebook:  # started before the other imports: it boots (about 0.6 s) while we warm up
        from grader import kernel
        kernel.prestart(1, target.limits, target.withheld)
    from grader import batch, grade, html
    if notebook:
        grade.warm_up(target)
    result = grade.grade_file(target, path)
    if html_path is not None:
        batch.write_atomic(html_path, html.render_report(result))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(report.render_text(result, color=sys.stdout.isatty(), verbose=verbose))
    practice.after_check(target, result, quiet=as_json)
    sys.exit(0 if result.passed else 1)


@cli.command("test", context_settings={"ignore_unknown_options": True})
@click.argument("exercise")
@click.option("--file", "file_", type=click.Path(dir_okay=False, path_type=Path),
              help="Test this .py file or .ipynb notebook instead of the stub in the folder.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test_command(exercise: str, file_: Path | None, pytest_args: tuple[str, ...]) -> None:
    """Run an exercise's hidden tests as a pytest session: one item per test.

    EXERCISE is an exercise folder or its slug; PYTEST_ARGS go to pytest (-k, -x, -q, --lf,
    --junitxml...). Items are named SLUG::CASE-ID (extra tests SLUG::FILE::TEST). Points and
    verdicts are those of `grader check`. Exit status: pytest's (0 all passed, 1 some failed).

    Examples:

    \b
        grader test conv_backward --file my_conv_backward.py -q
        grader test conv_backward --file my_conv_backward.py -k stride2 -x
        grader test conv_forward --file conv_forward.ipynb --junitxml report.xml
        grader test conv_forward --file my_conv_forward.py -k test_more --lf
    """
    target = _exercise(exercise)
    path = file_ or target.stub
    if not path.is_file():
        _fail(f"no such file: {path}")
    _warn_if_basic()
    from grader import pytest_plugin

    sys.exit(pytest_plugin.run(target, path, list(pytest_args)))


@cli.command("grade")
@click.argument("submissions", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports, the class summary and the gradebook.")
@click.option("--exercise", "exercise", default=None,
              help="Grade every submission against this exercise (overrides notebook metadata).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1,
              show_default="number of cores", help="Submissions graded in parallel.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) "
                   "instead of this machine; needs convgrade[dask]. --jobs is then unused.")
def grade_command(submissions: tuple[Path, ...], out: Path, exercise: str | None, jobs: int,
                  scheduler: str | None) -> None:
    """Grade a class: every .ipynb and .py file in SUBMISSIONS (files or folders).

    Writes one HTML report per submission, index.html (the class summary), grades.csv and
    results.json (the gradebook) and a Gradescope results.json per submission into OUT.
    Rerunning skips submissions that are unchanged since they were graded. Exit status: 0 when
    every submission was graded, 1 when some could not be graded at all, 2 on a usage error.

    Examples:

    \b
        grader grade examples/submissions --out reports
        grader grade hw3/*.ipynb --exercise conv_backward --out hw3-reports --jobs 4
        grader grade submissions --out reports --scheduler tcp://10.0.0.5:8786
    """
    override = _exercise(exercise) if exercise else None
    graded = _grade_with_progress(list(submissions), out, jobs, override, scheduler)
    sys.exit(1 if any(g.result.status == "error" for g in graded) else 0)


@cli.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("reports"), show_default=True, help="Folder for the reports.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1,
              show_default="number of cores", help="Submissions graded in parallel.")
def demo(out: Path, jobs: int) -> None:
    """Grade the bundled example class (examples/submissions) as an instructor would.

    The class has correct, slow, buggy, crashing, looping and malformed submissions; every one of
    them gets a report, the broken ones with their reason.

    Example:

    \b
        grader demo --out reports
    """
    folder = exercises.ROOT / "examples" / "submissions"
    if not folder.is_dir():
        _fail(f"the bundled class is missing: {folder}")
    _grade_with_progress([folder], out, jobs, None)


def _warn_if_basic() -> None:
    if sandbox.isolation() == "basic":
        click.echo(f"grader: warning: {sandbox.why_basic()}; learner code runs with process limits only "
                   "(isolation: basic)", err=True)


def _grade_with_progress(submissions: list[Path], out: Path, jobs: int,
                         override: exercises.Exercise | None,
                         scheduler: str | None = None) -> list[Graded]:
    from tqdm import tqdm

    from grader import batch

    try:
        for exercise in exercises.discover():  # every suite loads before any submission is graded
            _exercise(exercise.slug)
    except exercises.ExerciseError as exc:
        _fail(str(exc))
    total = len(batch.find(list(submissions)))
    if total == 0:
        _fail(f"no .py or .ipynb submissions in {', '.join(map(str, submissions))}")
    if scheduler is None:  # on a cluster, each worker's reports state its own isolation
        _warn_if_basic()
    sandbox.hide(out, *submissions)
    with tqdm(total=total, unit="submission", file=sys.stderr, dynamic_ncols=True,
              disable=total == 0) as bar:
        def progress(graded: Graded) -> None:
            bar.set_postfix_str(report.shorten_middle(graded.submission.name, 30), refresh=False)
            bar.update(1)

        try:
            graded = batch.grade_batch(list(submissions), out, jobs, override, progress, scheduler)
        except batch.BatchError as exc:
            bar.leave = False  # the error line alone, without an empty progress bar above it
            bar.close()
            _fail(str(exc))
    click.echo(report.render_batch_summary([(g.submission.name, g.result, g.reused) for g in graded]))
    counts = report.render_batch_counts([(g.result, g.reused) for g in graded])
    click.echo(f"\n{counts}; class summary: {(out / 'index.html').resolve()}")
    return graded


for _command in practice.COMMANDS:  # quiz, hint, interview, progress
    cli.add_command(_command)


def main() -> None:
    cli()
