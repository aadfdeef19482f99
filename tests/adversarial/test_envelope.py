"""The resource envelope and the sandbox root, attacked from inside a worker (issue 12, classes 3
and 4). Each attack runs in a real worker through the grader's boundary and reports what it
managed; the containment is checked from the grader's side, and the next worker must be unharmed.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from grader import batch, exercises, grade, kernel, noexec, sandbox
from grader.boundary import WorkerSession
from grader.models import Limits

LIMITS = Limits(call_timeout_s=20, total_timeout_s=30, memory_mb=256)
MIB = 2**20
CORPUS = Path(__file__).parent / "corpus"
needs_bwrap = pytest.mark.skipif(sandbox.isolation() != "sandbox",
                                 reason="bubblewrap is not available here")
needs_cgroup = pytest.mark.skipif(sandbox._hierarchy("memory") is None,
                                  reason="no cgroup memory controller this process may use")
needs_cpu_cgroup = pytest.mark.skipif(
    sandbox._hierarchy("cpu") is None or sandbox._hierarchy("pids") is None,
    reason="no cgroup cpu and pids controllers this process may use")

FILL = '''
import os

def fill(folder, most):
    """Bytes written into `folder` before it refused, up to `most`."""
    done = 0
    try:
        with open(os.path.join(folder, "fill"), "wb") as f:
            while done < most:
                f.write(b"x" * 2**20)
                f.flush()
                done += 2**20
    except OSError:
        pass
    return done
'''


def _probe(body: str, *args, forbidden: tuple[str, ...] = ()):
    """Run `probe(*args)` in a fresh worker (with `forbidden` withheld); its outcome."""
    source = FILL + textwrap.dedent(body)
    with WorkerSession({"source": source, "filename": "attack.py"}, ["probe"], LIMITS,
                       forbidden=forbidden) as s:
        assert s.start().kind == "value"
        return s.call("probe", args, {}, timeout=LIMITS.call_timeout_s)


def _groups() -> set[Path]:
    """This process's worker groups, in every hierarchy the envelope uses."""
    parents = {found[1] for r in sandbox.RESOURCES if (found := sandbox._hierarchy(r))}
    return {g for parent in parents for g in parent.glob(f"convgrade-{os.getpid()}-*")}


@pytest.fixture(autouse=True)
def no_group_left_behind():
    """Every worker's cgroup is gone after it (kernels started ahead for a batch may remain)."""
    before = _groups()
    yield
    assert _groups() <= before


def _next_worker_is_unharmed() -> None:
    outcome = _probe("def probe():\n    return sum(range(10))\n")
    assert (outcome.kind, outcome.value) == ("value", 45)


@needs_bwrap
def test_every_writable_tmpfs_is_sized():
    """Filling every writable tmpfs the sandbox mounts (/tmp, /dev/shm, and whatever else a
    worker can find, the masks over a withheld package's folders included) holds at most /tmp's
    and /dev/shm's sizes in total, and no other tmpfs takes a byte."""
    outcome = _probe('''
        def probe():
            written = {}
            for line in open("/proc/self/mountinfo"):
                fields = line.split()
                point, fstype = fields[4], line.split(" - ")[1].split()[0]
                if fstype == "tmpfs" and os.access(point, os.W_OK):
                    written[point] = fill(point, 96 * 2**20)
            return [[p, n] for p, n in written.items()]
    ''', forbidden=("scipy.signal.convolve",))
    assert outcome.kind == "value", outcome.reason
    written = dict(outcome.value)
    assert set(written) <= {"/tmp", "/dev/shm"}, written
    assert written.get("/tmp", 0) <= sandbox.TMP_SIZE
    assert written.get("/dev/shm", 0) <= sandbox.SHM_SIZE
    assert sum(written.values()) <= sandbox.TMP_SIZE + sandbox.SHM_SIZE, written
    _next_worker_is_unharmed()


@needs_bwrap
def test_dev_and_dev_shm_hold_a_few_mib_at_most():
    outcome = _probe('''
        def probe():
            return [fill("/dev", 32 * 2**20), fill("/dev/shm", 32 * 2**20)]
    ''')
    assert outcome.kind == "value", outcome.reason
    dev, shm = outcome.value
    assert dev == 0
    assert shm <= sandbox.SHM_SIZE
    _next_worker_is_unharmed()


SYSV = '''
    def probe(total):
        # Segments are attached one at a time, so RLIMIT_AS sees only one; detached, they stay.
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        size, held = 64 * 2**20, 0
        while held < total:
            key = libc.shmget(0, ctypes.c_size_t(size), 0o1600)
            address = libc.shmat(key, None, 0)
            if key < 0 or address in (None, 2**64 - 1):
                break
            ctypes.memset(address, 1, size)
            libc.shmdt(ctypes.c_void_p(address))
            held += size
        return held
'''


@needs_cgroup
def test_sysv_shared_memory_counts_against_the_memory_limit():
    """SysV segments of twice the memory limit in all: outside RLIMIT_AS, inside the cgroup's."""
    outcome = _probe(SYSV, 2 * LIMITS.memory_mb * MIB)
    assert outcome.kind == "lost" and "killed" in outcome.reason, outcome
    _next_worker_is_unharmed()


@needs_cgroup
@pytest.mark.parametrize("mode", ["sandbox", "off"])
def test_memory_is_limited_across_processes(mode, monkeypatch):
    """Four processes of 100 MiB each stay under a 256 MiB RLIMIT_AS each, not together; with
    and without bubblewrap."""
    if mode == "sandbox" and sandbox.isolation() != "sandbox":
        pytest.skip("bubblewrap is not available here")
    if mode == "off":
        monkeypatch.setenv("CONVGRADE_SANDBOX", "off")
    sandbox.bwrap.cache_clear()
    outcome = _probe('''
        def probe():
            import time
            children = []
            for _ in range(4):
                pid = os.fork()
                if pid == 0:
                    block = bytearray(100 * 2**20)
                    block[::4096] = b"x" * len(block[::4096])
                    time.sleep(5)
                    os._exit(0)
                children.append(pid)
            codes = [os.waitpid(pid, 0)[1] for pid in children]
            return [c for c in codes if c]
    ''')
    monkeypatch.delenv("CONVGRADE_SANDBOX", raising=False)
    sandbox.bwrap.cache_clear()
    assert outcome.kind == "lost" or outcome.value, outcome
    _next_worker_is_unharmed()


@needs_bwrap
def test_a_folder_created_after_the_worker_started_is_invisible():
    """Like the output folder of a batch started later: a classmate's name and score."""
    source = FILL + "def probe(path):\n    return sorted(os.listdir(path))\n"
    with WorkerSession({"source": source, "filename": "attack.py"}, ["probe"], LIMITS) as s:
        assert s.start().kind == "value"
        later = Path(tempfile.mkdtemp(prefix="convgrade-out-", dir="/var/tmp"))
        try:
            (later / "grades.csv").write_text("alice,100\n")
            outcome = s.call("probe", (str(later),), {})
        finally:
            (later / "grades.csv").unlink()
            later.rmdir()
    assert outcome.kind == "raised" and outcome.error["type"] == "FileNotFoundError", outcome


@needs_bwrap
def test_host_etc_is_not_there():
    outcome = _probe('''
        def probe():
            found = []
            for path in ("/etc/shadow", "/etc/passwd", "/etc/hostname"):
                try:
                    found.append(open(path).read()[:20])
                except OSError:
                    pass
            return found
    ''')
    assert (outcome.kind, outcome.value) == ("value", []), outcome


@pytest.mark.skipif(os.geteuid() != 0, reason="the socket folder is size-capped only as root")
@pytest.mark.parametrize("mode", ["sandbox", "off"])
def test_kernel_socket_folder_is_capped(mode, monkeypatch):
    """A notebook kernel filling the one host folder it may write to (without bubblewrap, the
    folder it runs in), with and without bubblewrap."""
    if mode == "sandbox" and sandbox.isolation() != "sandbox":
        pytest.skip("bubblewrap is not available here")
    if mode == "off":
        monkeypatch.setenv("CONVGRADE_SANDBOX", "off")
    sandbox.bwrap.cache_clear()
    cell = textwrap.dedent('''
        import os, sys
        folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
        for i in range(96):
            with open(os.path.join(folder, f"f{i}"), "wb") as f:
                f.write(b"x" * 2**20)
    ''')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])

    def measure(run: kernel.NotebookRun) -> tuple[int, Path, list]:
        du = subprocess.run(["du", "-sb", str(run.scratch)], capture_output=True, text=True)
        return int(du.stdout.split()[0]), run.scratch, run.errors

    # A kernel needs more address space than a worker to start.
    try:
        used, folder, errors = kernel.run_notebook(nb, Limits(memory_mb=1024), 60, measure)
    finally:
        monkeypatch.delenv("CONVGRADE_SANDBOX", raising=False)
        sandbox.bwrap.cache_clear()
    assert [e.message for e in errors] == ["OSError: [Errno 28] No space left on device"]
    assert used <= (sandbox.SOCKET_DIR_SIZE if mode == "sandbox" else sandbox.TMP_SIZE)
    assert not folder.exists()
    _next_worker_is_unharmed()


EXEC_ROUTES = '''
    def probe():
        """Each way to start a program, and what became of it: a program that ran prints "ran"."""
        import ctypes, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        argv = ["/bin/sh", "-c", "echo ran"]
        c_argv = (ctypes.c_char_p * 4)(*(a.encode() for a in argv), None)
        routes = {
            "subprocess": lambda: subprocess.run(argv, capture_output=True, text=True).stdout,
            "os.system": lambda: os.system("echo ran >&2"),
            "posix_spawn": lambda: os.waitpid(os.posix_spawn(argv[0], argv, {}), 0),
            "ctypes execv": lambda: (libc.execv(b"/bin/sh", c_argv), ctypes.get_errno()),
            "execveat": lambda: (libc.syscall(322, -100, b"/bin/sh", c_argv, None, 0),
                                 ctypes.get_errno()),
            "x32 execve": lambda: (libc.syscall(0x40000000 + 520, b"/bin/sh", c_argv, None),
                                   ctypes.get_errno()),
        }
        found = {}
        for name, route in routes.items():
            try:
                found[name] = repr(route())
            except OSError as exc:
                found[name] = type(exc).__name__
        pid = os.fork()
        if pid == 0:
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(7)
        found["fork, then execv"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        pid = os.fork()
        if pid == 0:  # a crash here means the kernel has no i386 ABI at all
            import mmap
            page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            page.write(b"\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3")  # getpid via int 0x80; ret
            getpid = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
            os._exit(0 if getpid() == -1 else 1)
        found["i386 getpid"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        return sorted(found.items())
'''


@pytest.fixture(params=["sandbox", "off"])
def isolation(request, monkeypatch):
    """The test under bubblewrap (where there is one), then with CONVGRADE_SANDBOX=off."""
    if request.param == "sandbox" and sandbox.isolation() != "sandbox":
        pytest.skip("bubblewrap is not available here")
    if request.param == "off":
        monkeypatch.setenv("CONVGRADE_SANDBOX", "off")
    sandbox.bwrap.cache_clear()
    yield request.param
    monkeypatch.delenv("CONVGRADE_SANDBOX", raising=False)
    sandbox.bwrap.cache_clear()


@pytest.mark.skipif(not noexec.supported() or platform.machine() != "x86_64",
                    reason="the probe's system call numbers and machine code are x86_64's")
def test_no_program_starts_in_a_worker(isolation):
    """A fresh interpreter would have every forbidden function back: no route to one works,
    with or without bubblewrap, in the worker or in a child it forks."""
    outcome = _probe(EXEC_ROUTES)
    assert outcome.kind == "value", outcome
    eperm = "(-1, 1)"
    found = dict(outcome.value)
    assert found.pop("i386 getpid") in (0, -11), "a system call through the i386 ABI ran"
    assert found == {
        "subprocess": "PermissionError", "os.system": "32512", "posix_spawn": "PermissionError",
        "ctypes execv": eperm, "execveat": eperm, "x32 execve": eperm, "fork, then execv": 7}
    _next_worker_is_unharmed()


@pytest.mark.skipif(not noexec.supported(), reason="no exec filter on this machine")
def test_a_shell_escape_is_a_cell_error_in_a_kernel(isolation):
    """`!cmd` and a subprocess in a notebook fail as cells do; the cells after them still run."""
    cells = ["!echo ran", "import subprocess\nsubprocess.run(['/bin/true'])", "x = 1"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    errors, ok = kernel.run_notebook(nb, Limits(memory_mb=1024), 60,
                                     lambda run: ([e.message for e in run.errors], run.ok_cells))
    assert errors == ["OSError: [Errno 1] Operation not permitted",
                      "PermissionError: [Errno 1] Operation not permitted: '/bin/true'"]
    assert [name for name, _ in ok] == ["<cell 3>"]


FORK_BOMB = '''
    def probe(most):
        """How many children could be forked (all asleep), up to `most`; then they are ended."""
        import signal, time
        children = []
        while len(children) < most:
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        return len(children)
'''

CPU_HOG = '''
    def probe(spinners, seconds):
        """CPUs used by `spinners` busy children over `seconds`: their CPU time over the wall time."""
        import time
        start, children = time.monotonic(), []
        for _ in range(spinners):
            pid = os.fork()
            if pid == 0:
                os.setsid()  # a session of its own: not grouped with its parent by the scheduler
                while time.monotonic() < start + seconds:
                    pass
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        used = os.times()
        return (used.children_user + used.children_system) / (time.monotonic() - start)
'''


@needs_cpu_cgroup
def test_processes_are_capped(isolation):
    """A fork bomb gets at most `Limits.processes` tasks for the whole worker, with and without
    bubblewrap; the next worker starts as usual."""
    outcome = _probe(FORK_BOMB, 4 * LIMITS.processes)
    assert outcome.kind == "value", outcome
    assert 0 < outcome.value < LIMITS.processes
    _next_worker_is_unharmed()


@needs_cpu_cgroup
def test_busy_children_leave_a_neighbour_its_share(isolation):
    """Eight busy children, each in a session of its own, for 3 s next to a worker with one:
    together they get one CPU at most (`Limits.cpus`), and the neighbour as much CPU as all of
    them, whatever else the machine runs (without the envelope, each child counts as much as the
    neighbour, which gets a ninth)."""
    with ThreadPoolExecutor(2) as pool:
        hog = pool.submit(_probe, CPU_HOG, 8, 3.0)
        time.sleep(0.5)  # the children are busy before the neighbour starts
        neighbour = _probe(CPU_HOG, 1, 3.0)
        hog = hog.result()
    assert hog.kind == neighbour.kind == "value", (hog, neighbour)
    assert hog.value <= LIMITS.cpus * 1.1, f"{hog.value:.2f} CPUs"
    assert neighbour.value >= hog.value / 2, f"{neighbour.value:.2f} CPUs against {hog.value:.2f}"


@needs_cpu_cgroup
@pytest.mark.slow
def test_a_cpu_hog_leaves_its_neighbour_alone(tmp_path):
    """A fork bomb of busy children (adv61) graded in one batch with an honest submission: the
    honest one gets the verdicts, score and speed notes it gets alone, and the hog's children
    stop at the process limit."""
    honest, hog = CORPUS / "honest_naive.py", CORPUS / "adv61_cpu_hog.py"

    def verdicts(result) -> tuple:
        notes = sorted((p.function, p.diagnosis.slug if p.diagnosis else "")
                       for p in result.performances)
        return result.score, [(t.id, t.status) for t in result.tests], notes

    alone = verdicts(grade.grade_file(exercises.resolve("conv1d"), honest))
    folder = tmp_path / "class"
    folder.mkdir()
    for path in (honest, hog):
        shutil.copy(path, folder / path.name)
    graded = {g.submission.name: g.result for g in batch.grade_batch([folder], tmp_path / "out",
                                                                      jobs=2)}
    assert verdicts(graded[honest.name]) == alone
    messages = {t.message for t in graded[hog.name].tests if t.status != "passed"}
    started = {int(m) for m in re.findall(r"ValueError: (\d+) processes started", " ".join(messages))}
    assert started and max(started) < Limits().processes, messages


def test_the_cells_after_a_timed_out_cell_run_in_the_same_kernel(isolation):
    """A cell past its time limit is interrupted, and the kernel goes on with the next cell, as
    Jupyter does, under bubblewrap too (a signal from outside the sandbox used to end it)."""
    cells = ["x = 1", "while True:\n    x += 1", "y = 2"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    errors, ok, lent = kernel.run_notebook(
        nb, Limits(memory_mb=1024, cell_timeout_s=2), 60,
        lambda run: ([(e.cell, e.kind) for e in run.errors], run.ok_cells, run.channel is not None))
    assert errors == [(2, "timeout")]
    assert [name for name, _ in ok] == ["<cell 1>", "<cell 3>"]
    assert lent


def test_a_prestarted_kernel_that_died_is_shut_down_and_replaced():
    """A kernel booted ahead of need can die before a notebook takes it: the run starts a fresh
    one, and the dead one is shut down properly (its ZMQ context, with an I/O thread, destroyed;
    releasing the folder alone used to leak it for the life of a batch)."""
    limits = Limits(memory_mb=1024, cell_timeout_s=10)
    kernel.prestart(1, limits)
    try:
        _, started = kernel._pool().ready[(limits, ())][0]
        dead = started.result(timeout=60).manager
        dead.provisioner.process.kill()
        dead.provisioner.process.wait()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y = 2")])
        ok = kernel.run_notebook(nb, limits, 60, lambda run: [n for n, _ in run.ok_cells])
    finally:
        kernel.prestart(0)
        kernel.close_pool()
    assert ok == ["<cell 1>"]
    assert dead.context.closed
