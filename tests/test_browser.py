"""The HTML reports in a real browser: headless Chromium renders them, shows the scores and the
histogram, takes a screenshot, and logs no console error (no blocked fetch, no script, no CSP
violation). Skipped where Chromium is not installed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader import exercises
from grader.grade import grade_file
from grader.html import IndexEntry, render_index, render_report
from tests.conftest import ROOT

TIMEOUT_S = 60
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")
# How Chromium reports page problems on stderr with --enable-logging: console messages (CSP
# violations are logged as console messages too), uncaught exceptions, refused loads.
CONSOLE_PROBLEM = re.compile(r"CONSOLE|Uncaught|Refused to")


def chromium_path() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if not found:
        pytest.skip("chromium is not installed: apt-get install chromium")
    return found


def run_chromium(*args: str) -> tuple[str, str]:
    """Run one headless Chromium with its own profile; (stdout, stderr). Killed, with every
    child it started, when it takes longer than TIMEOUT_S."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [chromium_path(), *FLAGS, f"--user-data-dir={profile}", *args]
        # its own session, so a hung browser and its renderer/GPU helpers go down together
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(args)}")
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}:\n{err[-3000:]}"
    return out, err


def console_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE_PROBLEM.search(line)]


def dump_dom(page: Path) -> str:
    out, err = run_chromium("--dump-dom", page.as_uri())
    assert not console_problems(err), console_problems(err)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Path]:
    """The reference solution and the untouched stub, graded for real, rendered to files."""
    chromium_path()  # skip before spending time grading
    exercise = exercises.resolve("conv_forward")
    out = tmp_path_factory.mktemp("site")
    graded = {
        "solution": grade_file(exercise, ROOT / "solutions" / "conv_forward.py", "solution.py"),
        "stub": grade_file(exercise, ROOT / "exercises" / "conv_forward" / "conv_forward.py", "stub.py"),
    }
    assert graded["solution"].score == graded["solution"].max_score
    assert graded["stub"].status == "graded" and graded["stub"].score == 0
    pages = {}
    for name, result in graded.items():
        pages[name] = out / f"{name}.html"
        pages[name].write_text(render_report(result), encoding="utf-8")
    pages["index"] = out / "index.html"
    entries = [IndexEntry(f"{name}.py", f"{name}.html", result) for name, result in graded.items()]
    pages["index"].write_text(render_index(entries, title="conv_forward class"), encoding="utf-8")
    return pages


def test_index_renders_scores_and_histogram(site):
    dom = dump_dom(site["index"])
    assert "conv_forward class" in dom
    assert "100 / 100" in dom and "0 / 100" in dom
    histogram = re.search(r'<svg id="histogram".*?</svg>', dom, flags=re.S)
    assert histogram and histogram.group(0).count("<rect") == 2  # the 0-10 bin and the 90-100 bin
    assert 'href="solution.html"' in dom and 'href="stub.html"' in dom


def test_reports_render_their_scores(site):
    solution = dump_dom(site["solution"])
    assert "100 / 100" in solution and "all tests passed" in solution
    stub = dump_dom(site["stub"])
    assert "0 / 100" in stub and "not implemented" in stub and ">error<" in stub


@pytest.mark.parametrize("name", ["index", "stub"])
def test_screenshot(site, tmp_path, name):
    png = tmp_path / f"{name}.png"
    _, err = run_chromium(f"--screenshot={png}", "--window-size=1200,1600", site[name].as_uri())
    assert not console_problems(err), console_problems(err)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1200, 1600)
    assert len(data) > 20_000, "the screenshot is (nearly) blank"


def test_console_scan_catches_a_csp_violation(tmp_path):
    """The control for the tests above: a page that breaks the same CSP is caught, so "no console
    problems" means something on this Chromium."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
                    '</head><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    _, err = run_chromium("--dump-dom", page.as_uri())
    assert console_problems(err)
