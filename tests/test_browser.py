"""The HTML reports in a real browser: headless Chromium renders them, shows the scores and the
histogram, takes a screenshot, and logs no console error (no blocked fetch, no script, no CSP
violation); on the bundled class it measures the layout an instructor and a learner see.
Skipped where Chromium is not installed.

With CONVGRADE_SCREENSHOTS=docs/img the layout tests also refresh the README's screenshots."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader import batch, exercises
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


# --- the bundled class, measured in the browser ---------------------------------------------------

VIEWPORT = (1280, 800)
# Appended to a copy of a page whose CSP is removed (the real pages run no script): it measures
# the rendered layout and writes the facts into the DOM that --dump-dom prints.
MEASURE = """<script>
(() => {
const view = document.documentElement.clientWidth;
const box = (el) => el ? el.getBoundingClientRect() : null;
const wide = [...document.body.querySelectorAll("*")].filter((el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && (r.right > view + 1 || r.left < -1);
}).map((el) => el.tagName.toLowerCase() + "." + (el.getAttribute("class") || ""));
const heatmaps = [...document.querySelectorAll("figure.cg-heatmap")].map((fig) => ({
  axes: [...fig.querySelectorAll("text.cg-axis")].map((t) => t.textContent.trim()),
  caption: fig.querySelector("figcaption").textContent.replace(/\\s+/g, " ").trim(),
  legend: !!fig.querySelector(".cg-legend"),
  visible: box(fig).width > 0 && box(fig).height > 0,
}));
const topOf = (selector) => { const b = box(document.querySelector(selector)); return b ? b.top : null; };
const facts = {
  view, height: window.innerHeight, scrollWidth: document.documentElement.scrollWidth, wide,
  heatmaps, mistakes: topOf("#mistakes"), finding: topOf(".cg-finding"), error: topOf(".cg-error"),
  firstTests: topOf("table.cg-tests"),
};
const out = document.createElement("pre");
out.id = "facts";
out.textContent = JSON.stringify(facts);
document.body.appendChild(out);
})();
</script>"""


def measure(page: Path, tmp_path: Path) -> dict:
    """The layout facts of `page` rendered in a 1280 x 800 viewport."""
    copy = tmp_path / f"measured-{page.parent.name}-{page.name}"
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    copy.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    height = VIEWPORT[1]
    for _ in range(2):  # headless Chromium's window is taller than its viewport: size it again
        out, _ = run_chromium("--dump-dom", "--hide-scrollbars",
                              f"--window-size={VIEWPORT[0]},{height}", copy.as_uri())
        match = re.search(r'<pre id="facts">(.*?)</pre>', out, flags=re.S)
        assert match, "the measuring script did not run"
        facts = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")
                           .replace("&lt;", "<").replace("&gt;", ">"))
        if facts["height"] == VIEWPORT[1]:
            break
        height += VIEWPORT[1] - facts["height"]
    return facts


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, Path]:
    """The bundled class graded as `grader demo` does; its summary and one report of each kind."""
    chromium_path()
    out = tmp_path_factory.mktemp("bundled")
    graded = batch.grade_batch([ROOT / "examples" / "submissions"], out, jobs=2)
    report = {g.result.submission: out / "submissions" / g.submission.key / "report.html"
              for g in graded}
    full = next(g for g in graded if g.result.passed)
    broken = next(g for g in graded if g.result.status == "error")
    # the partial report with the most heatmaps: the one that shows most of what a report can
    partial = max((g for g in graded if g.result.status == "graded" and not g.result.passed),
                  key=lambda g: sum(1 for t in g.result.tests if t.heatmap))
    return {"index": out / "index.html", "graded": report[full.result.submission],
            "partial": report[partial.result.submission], "error": report[broken.result.submission]}


def _keep_screenshot(page: Path, name: str, tmp_path: Path, height: int) -> None:
    png = tmp_path / f"{name}.png"
    _, err = run_chromium(f"--screenshot={png}", f"--window-size={VIEWPORT[0]},{height}",
                          "--hide-scrollbars", page.as_uri())
    assert not console_problems(err), console_problems(err)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    keep = os.environ.get("CONVGRADE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, Path(keep) / png.name)


def _fits(facts: dict) -> None:
    assert facts["view"] == VIEWPORT[0] and facts["height"] == VIEWPORT[1]
    assert facts["scrollWidth"] <= facts["view"], "the page scrolls sideways"
    assert not facts["wide"], f"wider than the viewport: {facts['wide'][:5]}"


def test_class_summary_shows_the_mistakes_above_the_fold(bundled, tmp_path):
    facts = measure(bundled["index"], tmp_path)
    _fits(facts)
    assert facts["mistakes"] is not None and facts["mistakes"] < VIEWPORT[1]
    dom = dump_dom(bundled["index"])
    order = [dom.index(marker) for marker in ('id="histogram"', 'id="mistakes"', 'id="errors"',
                                              'id="per-exercise"')]
    assert order == sorted(order)
    ticks = re.findall(r'class="cg-tick"[^>]*>([^<]*)<', dom)
    assert ticks and all(t.strip().isdigit() for t in ticks)
    _keep_screenshot(bundled["index"], "class-summary", tmp_path, 1400)


def test_partial_report_opens_with_findings_and_labelled_heatmaps(bundled, tmp_path):
    facts = measure(bundled["partial"], tmp_path)
    _fits(facts)
    assert facts["finding"] is not None and facts["finding"] < VIEWPORT[1]
    assert facts["finding"] < facts["firstTests"]  # findings first, then the tests
    assert facts["heatmaps"], "a partial report of the bundled class shows where it is wrong"
    for heatmap in facts["heatmaps"]:
        assert heatmap["visible"] and heatmap["legend"]
        assert heatmap["axes"] in (["H", "W →"], ["C", "L →"], ["L →"]), heatmap
        assert re.search(r"shape \(\d+(, \d+)*\)", heatmap["caption"]), heatmap
    _keep_screenshot(bundled["partial"], "report-partial", tmp_path, 1000)


@pytest.mark.parametrize("kind", ["graded", "error"])
def test_graded_and_ungradable_reports_fit_the_screen(bundled, tmp_path, kind):
    facts = measure(bundled[kind], tmp_path)
    _fits(facts)
    if kind == "error":
        assert facts["error"] is not None and facts["error"] < VIEWPORT[1]
    _keep_screenshot(bundled[kind], f"report-{kind}", tmp_path, 800)
