"""Does the README stay true? Its quick start, its CI command and its catalogue table."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from grader import exercises, report
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def _blocks() -> list[list[str]]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def quick_start() -> list[str]:
    """The two commands, after the block that makes the virtual environment."""
    return _blocks()[1]


def test_quick_start_is_a_venv_then_two_commands_and_ci_runs_the_second_in_a_new_venv():
    venv, commands = _blocks()
    assert len(venv) == 1 and "-m venv" in venv[0] and "activate" in venv[0]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci
    made = next(i for i, line in enumerate(ci) if "-m venv" in line)
    activated = next(i for i, line in enumerate(ci) if "/bin/activate" in line)
    assert made < activated < ci.index(commands[1])


@pytest.mark.slow
def test_first_command_runs_the_main_job(tmp_path):
    """Does the first quick-start command (after its install step) grade the bundled class, give
    every submission a report and print where the class summary is? It runs the `grader` of the
    interpreter running the tests, so it holds in a virtual environment that is not activated."""
    install, job = quick_start()[0].split(" && ", 1)
    assert install.startswith("pip install")
    command = shlex.split(job)
    assert command[0] == "grader"
    proc = subprocess.run([sys.executable, "-m", "grader", *command[1:]], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = tmp_path / "reports" / "index.html"
    assert str(index.resolve()) in proc.stdout
    bundled = [p for p in (ROOT / "examples" / "submissions").iterdir() if p.suffix in (".py", ".ipynb")]
    assert len(list((tmp_path / "reports" / "submissions").glob("*/report.html"))) == len(bundled)


def test_catalogue_table_matches_grader_list():
    table = report.render_catalogue(exercises.discover())
    assert table in README


def test_readme_shows_the_browser_tests_screenshots():
    shown = re.findall(r"!\[[^\]]+\]\((docs/img/[\w-]+\.png)\)", README)
    assert sorted(shown) == sorted(f"docs/img/{name}.png" for name in (
        "class-summary", "report-partial", "report-graded", "report-error"))
    for path in shown:
        assert (ROOT / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
