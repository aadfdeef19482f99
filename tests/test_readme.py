"""Does the README stay true? Its quick start, its CI command, its catalogue table, its security
section."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from grader import exercises, report, sandbox
from grader.models import Limits
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


def security() -> str:
    return README.split("## Security", 1)[1].split("\n## ", 1)[0]


def test_every_security_row_names_a_check_that_exists():
    """Each attack row of the security table names the corpus test that asserts its containment."""
    rows = [r for r in security().splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert len(rows) >= 7
    for row in rows:
        checks = re.findall(r"`(test_\w+\.py)::(test_\w+)`", row.split("|")[-2])
        assert checks, row
        for module, test in checks:
            source = (ROOT / "tests" / "adversarial" / module).read_text()
            assert f"def {test}(" in source, (module, test)


def test_security_sizes_and_names_are_the_sandboxs():
    text = " ".join(security().split())
    assert f"private {sandbox.TMP_SIZE // 2**20} MiB `/tmp`" in text
    assert f"a {sandbox.SHM_SIZE // 2**20} MiB `/dev/shm`" in text
    assert f"a {sandbox.SOCKET_DIR_SIZE // 2**20} MiB tmpfs of its own" in text
    assert f"({sandbox.TMP_SIZE // 2**20} MiB without bubblewrap" in text
    assert f"`memory_mb`, {Limits().memory_mb} MiB by default" in text
    for name, without in (("memory", "per process"), ("cpu", "per process"),
                          ("processes", "not limited")):
        for kind in ("cgroup v2", "cgroup v1", without):
            assert f"`{name}: {kind}`" in text
    assert "to one CPU (`cpus`)" in text and Limits().cpus == 1
    assert f"to {Limits().processes} processes and threads in all (`processes`)" in text
    for part in sandbox.description().split(", ")[1:4]:
        assert part in text
