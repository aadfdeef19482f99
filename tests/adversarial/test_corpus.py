"""The adversarial corpus, graded in one batch: no submission raises its own score, touches another
submission or the machine, or goes without a report. See tests/adversarial/expected.json."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import resource
import tempfile
import time
from pathlib import Path

import pytest

from grader import batch, exercises, report, sandbox
from tests.conftest import ROOT

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
EXPECTED = json.loads((HERE / "expected.json").read_text())
BUDGET_S = 400
# What one submission may make the grader write: its result document, whatever it sends.
MAX_RESULT_BYTES = 256 * 1024
# What the whole batch may add to the grader's peak memory (adv52 alone sends 450 MiB of widget
# buffers, which the grader used to keep).
MAX_GRADER_GROWTH_KIB = 400 * 1024
_TERMINAL_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _tree_hashes(root: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts \
                and not any(part.startswith(".") for part in path.relative_to(root).parts[:-1]):
            hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def _become_subreaper() -> None:
    """Orphans of this process's descendants are re-parented to it rather than to init, so that a
    learner process that double-forks out of its worker stays visible as our descendant."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _descendants() -> set[int]:
    """Live (not zombie) processes below this one: what this test's batch started and left, never
    other graders' workers or kernels elsewhere on the machine."""
    parent_of, state_of = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state_of[int(entry.name)], parent_of[int(entry.name)] = fields[0], int(fields[1])
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier} - found
        found |= frontier
    return {pid for pid in found if state_of.get(pid) != "Z"}


def _honest_points(slug: str, functions: list[str], cases: list[str]) -> float:
    """What an honest submission earns: every case of `functions`, and the valid `cases` of
    other functions, whose cases that must raise then count for the share of their function's
    valid-input points those cases hold."""
    from grader import suites

    table = suites.get(slug).cases
    points = sum(c.points for c in table if c.function in functions)
    for function in {c.function for c in table if c.id in cases}:
        valid = sum(c.points for c in table if c.function == function and not c.raises)
        right = sum(c.points for c in table
                    if c.function == function and c.id in cases and not c.raises)
        raising = sum(c.points for c in table if c.function == function and c.raises)
        points += right + raising * right / valid
    return points


def _grade_corpus(tmp_path: Path, names: list[str], monkeypatch: pytest.MonkeyPatch):
    """Grade `names` from the corpus in one batch; check the machine-level promises."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes((CORPUS / name).read_bytes())
    os.symlink(ROOT / "solutions" / "conv1d.py", folder / "adv34_symlink_to_solution.py")
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"  # the batch's own temporary folder: whatever is left, it left
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _become_subreaper()
    before, processes = _tree_hashes(ROOT), _descendants()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    graded = batch.grade_batch([folder], out, jobs=2)
    elapsed = time.monotonic() - start
    time.sleep(1.0)
    assert elapsed < BUDGET_S, f"batch took {elapsed:.0f} s"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < MAX_GRADER_GROWTH_KIB, f"the grader's peak memory grew by {grown // 1024} MiB"
    assert _tree_hashes(ROOT) == before, "a submission changed the project tree"
    assert _descendants() <= processes, "grading processes were left running"
    left = [p.name for p in scratch.iterdir() if not p.name.startswith("convgrade-copies-")]
    assert not left, f"scratch folders left behind: {left}"
    return {g.submission.name: g for g in graded}, out


def _check(results: dict, out: Path, names: list[str]) -> None:
    assert set(results) == set(names) | {"adv34_symlink_to_solution.py"}
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == len(results) + 1
    assert "symbolic link" in results["adv34_symlink_to_solution.py"].result.message
    for name in names:
        want, graded = EXPECTED[name], results[name]
        result = graded.result
        assert (out / "submissions" / graded.submission.key / "report.html").is_file(), name
        assert result.status == want["status"], (name, result.message)
        honest = _honest_points("conv1d", want["honest"], want.get("honest_cases", []))
        assert result.score == pytest.approx(honest), (name, result.score, honest)
        texts = [result.message] + [t.message for t in result.tests if t.status != "passed"] \
            + [c.message for c in result.cell_errors]
        assert result.score == result.max_score or any(texts), f"{name}: no reason given"
        assert want["reason"] in " | ".join(texts), (name, want["reason"], texts[:4])
        if want.get("slow"):  # slow code: the grader's clock gives each function its note
            notes = {f.function: f.speed.note if f.speed else None for f in result.functions}
            assert all(notes[f] in ("slow", "python-loops") for f in want["honest"]), (name, notes)
        size = (out / "submissions" / graded.submission.key / "result.json").stat().st_size
        assert size < MAX_RESULT_BYTES, (name, size)
        shown = report.render_text(result, verbose=True) + \
            report.render_batch_summary([(name, result, False)])
        assert not _TERMINAL_CONTROLS.search(shown), (name, "control characters reach the terminal")
    assert (out / "results.json").stat().st_size < MAX_RESULT_BYTES * len(results)
    for page in (out / "submissions").rglob("report.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "onerror=alert" not in text.replace("onerror=alert(2)&gt;", "")


@pytest.mark.slow
def test_corpus_in_the_sandbox(tmp_path, monkeypatch):
    if sandbox.isolation() != "sandbox":
        pytest.skip("bubblewrap is not available here: apt-get install bubblewrap")
    names = sorted(EXPECTED)
    results, out = _grade_corpus(tmp_path, names, monkeypatch)
    _check(results, out, names)
    assert all(g.result.isolation.startswith("sandbox,") for g in results.values() if g.result.tests)


@pytest.mark.slow
def test_corpus_with_basic_isolation(tmp_path, monkeypatch):
    """Without bubblewrap, everything but the cases listed as sandbox-only is still contained,
    and every report says "isolation: basic"."""
    monkeypatch.setenv("CONVGRADE_SANDBOX", "off")
    sandbox.bwrap.cache_clear()
    try:
        names = sorted(n for n, want in EXPECTED.items() if "sandbox_only" not in want)
        results, out = _grade_corpus(tmp_path, names, monkeypatch)
        _check(results, out, names)
        assert all(g.result.isolation.startswith("basic,") for g in results.values() if g.result.tests)
    finally:
        monkeypatch.delenv("CONVGRADE_SANDBOX")
        sandbox.bwrap.cache_clear()


def test_honest_part_is_real():
    """Is every corpus entry's honest part a real share of the points (the check above means
    something), and is every sandbox-only case explained?"""
    from grader import suites

    assert exercises.resolve("conv1d")
    valid = {c.id for c in suites.get("conv1d").cases if not c.raises}
    for name, want in EXPECTED.items():
        assert (CORPUS / name).is_file(), name
        assert set(want["honest"]) <= {"convolve1d", "conv1d"}
        assert set(want.get("honest_cases", [])) <= valid, name
        assert want.get("sandbox_only", "x"), name


def test_report_folders_stay_put_when_a_lookalike_arrives(tmp_path):
    """Does adding `x__y.py` next to `x/y.py` leave the existing report folder where it was,
    with every folder name derived from its own path, whatever else is in the class?"""
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "y.py").write_text("")
    first = {s.name: s.key for s in batch.find([tmp_path])}
    for name in ("x__y.py", "x_y.py", "a b.py"):
        (tmp_path / name).write_text("")
    second = {s.name: s.key for s in batch.find([tmp_path])}
    assert second["x/y.py"] == first["x/y.py"] == "x__y.py"
    assert len(set(second.values())) == len(second)
    assert second == {s.name: s.key for s in batch.find([tmp_path])}
