"""The hidden suites as pytest suites: one pytest item per case and per extra test.

Load it explicitly; it does nothing in a pytest run that does not give `--submission`:

    python -m pytest -p grader.pytest_plugin --pyargs grader.suites.conv_backward \\
        --submission my_conv_backward.py -q

(`grader test conv_backward --file my_conv_backward.py -q` runs exactly that, with a pytest
configuration of its own.) Items are named `<slug>::<case id>` and `<slug>::<file>::<test>`, so
`-k`, `-x`, `--lf` and `--junitxml` work as usual. The submission is loaded once per pytest
session, in the same sandboxed worker `grader check` uses, and each item's verdict is the one
`grader check` gives: a failing item shows the verdict message and the diagnosis, never an
expected value.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from grader import exercises, extras, grade, report, runner, sandbox, suites
from grader.cases import Case, ExtraTest
from grader.models import Exercise, GradeResult, TestResult

SUITES_DIR = Path(suites.__file__).resolve().parent


def run(exercise: Exercise, submission: Path, args: list[str]) -> int:
    """`grader test`: pytest on the exercise's hidden suite, with a configuration of its own (no
    project's addopts or conftest apply, no plugin auto-loaded) and a cache per exercise and
    submission (for `--lf`, `--ff`) in the user's cache folder; pytest's exit status."""
    digest = hashlib.sha256(bytes(submission.resolve())).hexdigest()[:12]
    home = cache_home() / f"{exercise.slug}-{digest}"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "pytest.ini"
    config.write_text("[pytest]\n")
    sandbox.hide(submission.resolve().parent)
    # Installed plugins are not loaded unasked (hypothesis and the like took 3.5 s of an 8 s
    # run); one named with -p still is.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return int(pytest.main(["-c", str(config), "--rootdir", str(Path.cwd()),
                            "-o", f"cache_dir={home / 'cache'}", "--submission", str(submission),
                            str(SUITES_DIR / f"{exercise.slug}.py"), *args],
                           plugins=[sys.modules[__name__]]))


def cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convgrade" / "pytest"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convgrade", "convgrade hidden suites")
    group.addoption("--submission", metavar="FILE", type=Path, default=None,
                    help="grade this .py file or .ipynb notebook with the hidden suites "
                         "collected (grader/suites/<slug>.py)")


def pytest_configure(config: pytest.Config) -> None:
    submission = config.getoption("submission")
    if submission is None:
        return
    config.addinivalue_line("markers", "points(n): points of an extra hidden test")
    config.addinivalue_line("markers", "tier(name): tier of an extra hidden test (core, edge, extended)")
    config.pluginmanager.register(Grading(submission), "convgrade-grading")


class Grading:
    """The pytest session's grading: the submission loaded once per exercise, on first use."""

    def __init__(self, submission: Path) -> None:
        self.submission = submission
        self.stack = ExitStack()
        self.graders: dict[str, Grader] = {}

    def grader(self, exercise: Exercise) -> Grader:
        if exercise.slug not in self.graders:
            self.graders[exercise.slug] = Grader(exercise, self.submission, self.stack)
        return self.graders[exercise.slug]

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makemodule(self, module_path: Path, parent: pytest.Collector) \
            -> pytest.Module | None:
        if module_path.resolve().parent != SUITES_DIR or module_path.stem.startswith("_"):
            return None
        try:
            exercise = exercises.resolve(module_path.stem)
        except exercises.ExerciseError:
            return None
        return SuiteFile.from_parent(parent, path=module_path, nodeid=exercise.slug,
                                     exercise=exercise)

    def pytest_report_header(self, config: pytest.Config) -> str:
        return f"convgrade: grading {self.submission}"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for grader in self.graders.values():
            result = grader.result()
            if result is None:
                continue
            if terminalreporter.verbosity >= 0:
                terminalreporter.write_sep("=", f"convgrade: {grader.exercise.slug}")
                terminalreporter.write_line(report.render_text(result))
            else:
                terminalreporter.write_line(
                    f"convgrade {grader.exercise.slug}: score {result.score:g}/"
                    f"{sum(t.max_points for t in result.tests):g} over the tests run")

    def pytest_unconfigure(self) -> None:
        self.stack.close()


class Grader:
    """One submission against one exercise: loaded once, each test judged at most once."""

    def __init__(self, exercise: Exercise, submission: Path, stack: ExitStack) -> None:
        self.exercise, self.submission, self.stack = exercise, submission, stack
        self.opened: grade.Opened | None = None
        self.failure: str | None = None
        self.cases: runner.CaseRunner | None = None
        self.results: dict[str, TestResult] = {}

    def _open(self) -> None:
        if self.opened is not None or self.failure is not None:
            return
        if not self.submission.is_file():
            self.failure = f"no such file: {self.submission}"
            return
        try:
            self.opened = self.stack.enter_context(
                grade.open_submission(self.exercise, self.submission, str(self.submission)))
        except (OSError, ValueError) as exc:
            self.failure = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return
        opened = self.opened
        if opened.loaded.kind != "value":
            self.failure = grade.load_failed(self.exercise, str(self.submission), opened.loaded,
                                             0.0, opened.where).message
            return
        deadline = opened.start + self.exercise.limits.total_timeout_s
        self.cases = runner.CaseRunner(self.exercise, opened.session, deadline, opened.where)

    def case(self, case: Case) -> TestResult:
        self._open()
        if self.cases is None:
            raise SubmissionUnusable(self.failure or "")
        result = self.cases.scored(case)
        self.results[case.id] = result
        return result

    def extra(self, test: ExtraTest) -> TestResult:
        self._open()
        if self.cases is None or self.opened is None:
            raise SubmissionUnusable(self.failure or "")
        result = extras.run_extra(test, self.exercise, self.opened.session, self.cases.deadline,
                                  self.opened.where)
        self.results[test.id] = result
        return result

    def result(self) -> GradeResult | None:
        """The tests run so far as a result document (findings and score), for the summary."""
        if self.opened is None or not self.results:
            return None
        order = [c.id for c in suites.get(self.exercise.slug).cases] + \
            [t.id for t in suites.get(self.exercise.slug).extras]
        tests = [self.results[i] for i in order if i in self.results]
        sources = grade.sources_of(self.opened.session.load)
        return grade.assemble(self.exercise, str(self.submission), tests, (), sources,
                              self.opened.start)


class SubmissionUnusable(Exception):
    """The submission could not be loaded at all: every item fails with the same reason."""


class TestFailed(Exception):
    """A test's verdict was not "passed"."""

    __test__ = False

    def __init__(self, result: TestResult) -> None:
        super().__init__(result.message)
        self.result = result


class SuiteFile(pytest.File):
    """An exercise's hidden suite module, collected as its cases and extra tests."""

    def __init__(self, *, exercise: Exercise, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise

    def collect(self) -> Iterator[pytest.Item]:
        suite = suites.get(self.exercise.slug)
        for case in suite.cases:
            yield HiddenTest.from_parent(self, name=case.id, test=case)
        for test in suite.extras:
            yield HiddenTest.from_parent(self, name=test.id, test=test)


class HiddenTest(pytest.Item):
    """One case or extra test, judged in the grader's process against the learner's worker."""

    def __init__(self, *, test: Case | ExtraTest, **kwargs) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.add_marker(pytest.mark.tier(test.tier))
        self.user_properties.append(("max_points", test.points))

    def runtest(self) -> None:
        exercise = self.parent.exercise
        grading: Grading = self.config.pluginmanager.get_plugin("convgrade-grading")
        grader = grading.grader(exercise)
        started = time.monotonic()
        try:
            result = grader.extra(self.test) if isinstance(self.test, ExtraTest) \
                else grader.case(self.test)
        except SubmissionUnusable as exc:  # one failure says it; the other tests cannot run
            self.session.shouldfail = f"could not grade {grading.submission}: {exc}"
            raise
        self.user_properties += [("points", result.points), ("status", result.status),
                                 ("seconds", round(time.monotonic() - started, 3))]
        if result.status != "passed":
            raise TestFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, SubmissionUnusable):
            return f"could not grade {self.config.getoption('submission')}: {excinfo.value}"
        if not isinstance(excinfo.value, TestFailed):
            return super().repr_failure(excinfo)
        result = excinfo.value.result
        lines = [f"{result.status}: {result.message}",
                 f"points: {result.points:g}/{result.max_points:g} ({result.tier})"]
        if result.diagnosis:
            lines += [f"diagnosis: {result.diagnosis.slug}: {result.diagnosis.message}",
                      f"hint: {result.diagnosis.hint}"]
        if result.traceback:
            lines += ["", "your code's traceback:", result.traceback]
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.nodeid
