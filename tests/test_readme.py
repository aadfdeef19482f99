"""Does the README stay true? Its quick start, its CI command and its catalogue table."""

from __future__ import annotations

import re
import shlex
import subprocess

from grader import exercises, report
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = quick_start()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def test_first_command_runs_the_main_job(tmp_path):
    """Does the first quick-start command (after its install step) grade the bundled class, give
    every submission a report and print where the class summary is?"""
    install, job = quick_start()[0].split(" && ", 1)
    assert install.startswith("pip install")
    proc = subprocess.run(shlex.split(job), capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = tmp_path / "reports" / "index.html"
    assert str(index.resolve()) in proc.stdout
    bundled = [p for p in (ROOT / "examples" / "submissions").iterdir() if p.suffix in (".py", ".ipynb")]
    assert len(list((tmp_path / "reports" / "submissions").glob("*/report.html"))) == len(bundled)


def test_catalogue_table_matches_grader_list():
    table = report.render_catalogue(exercises.discover())
    assert table in README
