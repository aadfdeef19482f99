"""What a sandboxed worker can see, for an editable checkout and for an installed package alike;
the resource envelope that cgroups give each worker."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import noexec, sandbox
from grader.models import Limits

needs_bwrap = pytest.mark.skipif(sandbox.isolation() != "sandbox",
                                 reason="bubblewrap is not available here: apt-get install bubblewrap")

LIST = ("import os, sys\n"
        "for p in sys.argv[1:]:\n"
        "    print(p, sorted(os.listdir(p)) if os.path.isdir(p) else 'absent')\n")


def _seen(paths: list[Path]) -> dict[str, str]:
    command = sandbox.wrap([sys.executable, "-I", "-c", LIST, *map(str, paths)], env={})
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


@needs_bwrap
def test_root_is_the_allowlist():
    """Only the system folders and the Python installation are there: no project tree."""
    allowed = {"dev", "proc", "tmp"} | {Path(p).parts[1] for p in sandbox.SYSTEM_DIRS} \
        | {Path(p).parts[1] for p in sandbox._python_dirs()}
    root = sandbox.ROOT
    seen = _seen([Path("/"), root, root / "solutions", Path(sys.prefix)])
    assert set(ast.literal_eval(seen["/"])) <= allowed
    assert "etc" not in seen["/"] and "home" not in seen["/"]
    assert seen[str(root)] == seen[str(root / "solutions")] == "absent"
    assert seen[sys.prefix] not in ("[]", "absent")


@needs_bwrap
def test_installed_layout_masks_the_grader_and_solutions_inside_site_packages(tmp_path, monkeypatch):
    """In a non-editable install the grader's package (suites, variants, practice answers) and
    the solutions sit inside site-packages, which is bound for the interpreter: they are masked."""
    site = tmp_path / "site-packages"
    for secret in ("grader/suites", "grader/variants", "grader/practice", "solutions"):
        (site / secret).mkdir(parents=True)
        (site / secret / "answers.py").write_text("EXPECTED = 42\n")
    (site / "numpy_like").mkdir()
    monkeypatch.setattr(sandbox, "ROOT", site)
    python = sandbox._python_dirs()
    monkeypatch.setattr(sandbox, "_python_dirs", lambda: [*python, str(site)])
    seen = _seen([site, site / "grader", site / "grader" / "suites", site / "solutions"])
    assert "numpy_like" in seen[str(site)]
    assert seen[str(site / "grader")] == "[]"
    assert seen[str(site / "grader" / "suites")] == "absent"
    assert seen[str(site / "solutions")] == "[]"


def test_a_submission_importing_the_references_fails_to_import(tmp_path):
    """The model answers are hidden whole: borrowing them is an import error, not 100/100."""
    from grader import exercises, grade

    submission = tmp_path / "borrowed.py"
    submission.write_text("from solutions.conv_forward import conv_forward  # noqa: F401\n")
    result = grade.grade_file(exercises.resolve("conv_forward"), submission)
    assert result.score == 0
    text = " ".join(str(v) for v in (result.status, getattr(result, "message", ""),
                                     *(t.message for t in result.tests)))
    assert "solutions" in text and ("ModuleNotFoundError" in text or "No module" in text), text


V1 = "4:memory:/process_api/abc\n0::/\n"
V2 = "0::/user.slice/grader.service\n"
MOUNTS = ("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
          "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")


def test_cgroup_parents_from_proc_files():
    """Hybrid host (this one): the v2 group first, then the v1 memory group; pure v2; none."""
    assert sandbox._cgroup_parents(V1, MOUNTS) == [
        ("cgroup v2", Path("/sys/fs/cgroup/unified")),
        ("cgroup v1", Path("/sys/fs/cgroup/memory/process_api/abc"))]
    pure = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert sandbox._cgroup_parents(V2, pure) == [
        ("cgroup v2", Path("/sys/fs/cgroup/user.slice/grader.service"))]
    assert sandbox._cgroup_parents(V2, MOUNTS.splitlines()[0]) == []


def test_cgroup_parents_of_other_controllers():
    """The cpu controller co-mounted with cpuacct (systemd hosts), pids on its own."""
    own = "7:pids:/a\n3:cpu,cpuacct:/b\n4:memory:/c\n0::/\n"
    mounts = ("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
              "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n")
    assert sandbox._cgroup_parents(own, mounts, "cpu") == [
        ("cgroup v1", Path("/sys/fs/cgroup/cpu,cpuacct/b"))]
    assert sandbox._cgroup_parents(own, mounts, "pids") == [
        ("cgroup v1", Path("/sys/fs/cgroup/pids/a"))]
    assert sandbox._cgroup_parents(own, mounts, "memory") == []


@pytest.mark.skipif(sandbox._hierarchy("memory") is None, reason="no cgroup this process may use")
def test_envelope_holds_the_process_and_goes_away():
    envelope = sandbox.envelope(Limits(memory_mb=300, cpus=0.5, processes=20))
    assert envelope.groups and all(g.is_dir() for g in envelope.groups)
    kind, parent = sandbox._hierarchy("memory")
    group = next(g for g in envelope.groups if g.parent == parent)
    limit = "memory.max" if kind == "cgroup v2" else "memory.limit_in_bytes"
    assert int((group / limit).read_text()) == 300 * 2**20
    out = subprocess.run(envelope.enter(["cat", "/proc/self/cgroup"]), capture_output=True,
                         text=True, check=True).stdout
    assert all(g.name in out for g in envelope.groups)
    sleeper = subprocess.Popen(envelope.enter(["sleep", "60"]), start_new_session=True)
    while str(sleeper.pid) not in (group / "cgroup.procs").read_text().split():
        assert sleeper.poll() is None
    groups = list(envelope.groups)
    envelope.close()
    assert sleeper.wait(timeout=10) == -9
    assert not any(g.exists() for g in groups)
    assert f"memory: {kind}" in sandbox.description()


@pytest.mark.skipif(sandbox._hierarchy("cpu") is None or sandbox._hierarchy("pids") is None,
                    reason="no cgroup cpu and pids controllers this process may use")
def test_envelope_limits_cpu_and_processes():
    envelope = sandbox.envelope(Limits(cpus=0.5, processes=20))
    try:
        files = {f.name: f for g in envelope.groups for f in g.iterdir()}
        if "cpu.max" in files:
            assert files["cpu.max"].read_text().split() == ["50000", "100000"]
        else:
            quota, period = files["cpu.cfs_quota_us"], files["cpu.cfs_period_us"]
            assert int(quota.read_text()) / int(period.read_text()) == 0.5
        assert files["pids.max"].read_text().strip() == "20"
    finally:
        envelope.close()
    description = sandbox.description()
    assert f"cpu: {sandbox._hierarchy('cpu')[0]}" in description
    assert f"processes: {sandbox._hierarchy('pids')[0]}" in description


def test_without_cgroups_the_limit_is_per_process(monkeypatch):
    monkeypatch.setenv("CONVGRADE_CGROUP", "off")
    sandbox._hierarchy.cache_clear()
    try:
        envelope = sandbox.envelope(Limits(memory_mb=300))
        assert not envelope.groups and envelope.enter(["true"]) == ["true"]
        assert sandbox.description().split(", ")[1:4] == [
            "memory: per process", "cpu: per process", "processes: not limited"]
    finally:
        monkeypatch.delenv("CONVGRADE_CGROUP")
        sandbox._hierarchy.cache_clear()


@pytest.mark.skipif(os.geteuid() != 0, reason="the socket folder is size-capped only as root")
def test_capped_folder_is_a_small_tmpfs_and_goes_even_when_deep():
    folder = sandbox.capped_folder("convgrade-test-", sandbox.SOCKET_DIR_SIZE)
    assert os.path.ismount(folder)
    deep = folder
    for _ in range(300):
        deep = deep / "d"
    os.makedirs(deep)
    sandbox.remove_folder(folder)
    assert not folder.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the socket folder is size-capped only as root")
def test_capped_folders_of_dead_graders_are_swept(tmp_path):
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not Path("/proc", str(pid)).exists())
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", f"convgrade-{dead}", str(tmp_path)],
                   check=True)
    (tmp_path / "left").write_text("x")
    sandbox._sweep_folders.cache_clear()
    sandbox.remove_folder(sandbox.capped_folder("convgrade-test-", sandbox.SOCKET_DIR_SIZE))
    assert not os.path.ismount(tmp_path) and not tmp_path.exists()


@pytest.mark.skipif(sandbox._hierarchy("memory") is None, reason="no cgroup this process may use")
def test_groups_of_dead_graders_are_swept():
    parent = sandbox._hierarchy("memory")[1]
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not Path("/proc", str(pid)).exists())
    stale, live = parent / f"convgrade-{dead}-0", sandbox.envelope(Limits(memory_mb=300))
    stale.mkdir()
    sandbox._sweep(parent)
    assert not stale.exists() and live.groups and all(g.exists() for g in live.groups)
    live.close()


def test_an_unknown_machine_gets_no_exec_filter_and_reports_say_so(monkeypatch):
    """No filter whose system call numbers are guesses: nothing is installed (this process can
    still start programs) and every report says programs are not blocked."""
    monkeypatch.setattr(noexec.platform, "machine", lambda: "riscv64")
    assert noexec.install() == f"no exec filter on {sys.platform} riscv64"
    assert subprocess.run(["/bin/true"]).returncode == 0
    assert sandbox.description().endswith(", programs: not blocked")
