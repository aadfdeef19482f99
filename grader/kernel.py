"""Running a learner's notebook in a limited Jupyter kernel, then lending that kernel to grading.

The kernel is a pinned `python3` ipykernel (never the kernel the notebook's metadata names),
started in a scratch directory with a cleaned environment and the worker's resource limits. Its
cells run with nbclient, a time limit each and a budget for the whole notebook; a cell that times
out is interrupted, a kernel that dies or hangs ends the run. The learner's cell errors are taken
from the execute replies, not from outputs the learner's code could suppress. Afterwards the
kernel serves its namespace to the grader over a Unix socket with the same data-only protocol
as a `.py` worker (`worker.serve_socket`); verdicts are made in the grader, as for `.py` files.
"""

from __future__ import annotations

import asyncio
import atexit
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from grader import sandbox
from grader.boundary import WORKER_SOURCE, Channel, limit_args, worker_env
from grader.models import CellError, Limits

_LAUNCHER = (
    "import sys\n"
    "exec(compile(sys.argv[1], '<convgrade limits>', 'exec'), {'__name__': 'limits'})\n"
)
_LIMITS = (
    "import gc, resource, sys\n"
    # No garbage collection while ipykernel imports and sets up (about 15% of its CPU time);
    # what exists then is frozen, so that the learner's cells collect only their own objects.
    "gc.disable()\n"
    "mb = 2**20\n"
    "memory, cpu, fsize, nofile = (int(a) for a in sys.argv[2:6])\n"
    "for key, value in ((resource.RLIMIT_AS, memory * mb), (resource.RLIMIT_CPU, cpu),\n"
    "                   (resource.RLIMIT_FSIZE, fsize * mb), (resource.RLIMIT_NOFILE, nofile),\n"
    "                   (resource.RLIMIT_CORE, 0)):\n"
    "    resource.setrlimit(key, (value, value))\n"
    "sys.argv = ['ipykernel_launcher'] + sys.argv[6:]\n"
    "from ipykernel.kernelapp import IPKernelApp\n"
    "app = IPKernelApp.instance()\n"
    "app.initialize()\n"
    "gc.freeze()\n"
    "gc.enable()\n"
    "app.start()\n"
)
_PINNED_SPEC = KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                          display_name="Python 3 (convgrade)", language="python")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TRACE_CAP = 4000
T = TypeVar("T")


def is_check_cell(cell: dict) -> bool:
    """The generated notebooks' self-check and questions cells: learner aids, never run while
    grading."""
    tags = cell.get("metadata", {}).get("tags", [])
    return bool({"convgrade-check", "convgrade-questions"} & set(tags)) or \
        "grader.notebook import check" in cell.get("source", "")


class LimitedKernelManager(AsyncKernelManager):
    """An ipykernel in the sandbox that applies the worker's resource limits to itself before
    starting; its connection file and sockets live in `shared`, the one folder both sides see."""

    limits: Limits = Limits()
    shared: Path = Path("/nonexistent")
    env: dict[str, str] = {}
    envelope: sandbox.Envelope = sandbox.Envelope(None)

    @property
    def kernel_spec(self) -> KernelSpec:
        # Pinned in memory: no installed kernelspec is looked up (or trusted), which also spares
        # the grader the IPython import that the lookup costs.
        return _PINNED_SPEC

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = [sys.executable, "-I", "-c", _LAUNCHER, _LIMITS, *limit_args(self.limits),
                   "-f", self.connection_file]
        self.envelope.close()
        self.envelope = sandbox.envelope(self.limits.memory_mb)
        return self.envelope.enter(sandbox.wrap(command, self.env, shared=self.shared))

    def release(self) -> None:
        """After shutdown: the memory envelope and the socket folder go."""
        self.envelope.close()
        sandbox.remove_folder(self.shared)


@dataclass
class NotebookRun:
    """What executing the notebook produced: which cells ran cleanly, what went wrong, and a live
    kernel channel to grade with (None when the kernel is gone)."""

    ok_cells: list[tuple[str, str]] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    channel: Channel | None = None
    manager: LimitedKernelManager | None = None
    client: NotebookClient | None = None
    scratch: Path | None = None


class _QuietClient(NotebookClient):
    """Keeps no outputs: the grader needs only each cell's status, and a flood of prints must
    not fill the grader's memory."""

    def output(self, outs, msg, display_id, cell_index):  # noqa: D102 - nbclient hook
        return None


def _cell_error(index: int, reply: dict) -> CellError:
    content = reply.get("content", {})
    name, value = str(content.get("ename", "Error")), str(content.get("evalue", ""))
    trace = _ANSI.sub("", "\n".join(str(line) for line in content.get("traceback", [])))
    kind = "timeout" if name == "CellTimeoutError" else "error"
    return CellError(cell=index + 1, kind=kind, message=f"{name}: {value}"[:300],
                     traceback=trace[-_TRACE_CAP:])


@dataclass
class _Kernel:
    """A started kernel process and the fresh scratch directory it runs in."""

    manager: LimitedKernelManager
    scratch: Path


async def _start_kernel(limits: Limits) -> _Kernel:
    size = sandbox.SOCKET_DIR_SIZE if sandbox.bwrap() else sandbox.TMP_SIZE
    scratch = sandbox.capped_folder("convgrade-nb-", size)
    km = LimitedKernelManager(kernel_name="python3", transport="ipc")
    km.limits, km.shared = limits, scratch
    km.ip = str(scratch / "kernel")
    km.connection_file = str(scratch / "kernel.json")
    home = sandbox.WORKDIR if sandbox.bwrap() else str(scratch)
    km.env = env = {**worker_env(scratch), "HOME": home, "IPYTHONDIR": f"{home}/.ipython"}
    # The kernel's own console chatter is not for the instructor's terminal.
    await km.start_kernel(env=env, cwd=str(scratch), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    return _Kernel(km, scratch)


class _Pool:
    """Kernels started ahead of need, so a batch does not wait for each kernel to boot. Every
    kernel serves exactly one submission; all of them live on one background event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready: dict[Limits, list[asyncio.Task]] = {}
        self.target = 0
        threading.Thread(target=self.loop.run_forever, name="convgrade-kernels",
                         daemon=True).start()

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def fill(self, limits: Limits) -> list[asyncio.Task]:
        waiting = self.ready.setdefault(limits, [])
        while len(waiting) < self.target:
            waiting.append(asyncio.ensure_future(_start_kernel(limits)))
        return waiting

    async def take(self, limits: Limits) -> _Kernel:
        waiting = self.ready.setdefault(limits, [])
        task = waiting.pop(0) if waiting else asyncio.ensure_future(_start_kernel(limits))
        await self.fill(limits)
        kernel = await task
        if not await kernel.manager.is_alive():
            kernel.manager.release()
            kernel = await _start_kernel(limits)
        return kernel

    async def close(self) -> None:
        self.target = 0
        for tasks in self.ready.values():
            for task in tasks:
                kernel = await task
                try:
                    await kernel.manager.shutdown_kernel(now=True)
                finally:
                    kernel.manager.release()
        self.ready.clear()


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> _Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = _Pool()
            atexit.register(close_pool)
        return _POOL


def prestart(count: int, limits: Limits | None = None) -> None:
    """Keep `count` kernels booting ahead of need (a batch asks for one per job). With `limits`,
    start them now, so that they boot while the grader reads the submission and imports."""
    pool = _pool()
    pool.target = count
    if limits is not None:
        asyncio.run_coroutine_threadsafe(pool.fill(limits), pool.loop)


def close_pool() -> None:
    """Shut down the kernels that were started ahead and not used."""
    if _POOL is not None:
        _POOL.run(_POOL.close())


async def _execute(run: NotebookRun, nb: nbformat.NotebookNode, limits: Limits,
                   cell_timeout: float) -> None:
    kernel = await _pool().take(limits)
    km, scratch = run.manager, run.scratch = kernel.manager, kernel.scratch
    failed: dict[int, dict] = {}
    client = run.client = _QuietClient(
        nb, km=km, timeout=int(cell_timeout), allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError",
                          "evalue": f"cell timed out after {cell_timeout:g} s", "traceback": []},
        kernel_name="python3", startup_timeout=30, record_timing=False,
        on_cell_error=lambda cell, cell_index, execute_reply: failed.setdefault(
            cell_index, execute_reply))
    async with client.async_setup_kernel(cwd=str(scratch)):
        await _run_cells(client, nb, run, failed)
        if await km.is_alive():
            run.channel = await _lend(client, km, scratch, limits)


async def _run_cells(client: NotebookClient, nb: nbformat.NotebookNode, run: NotebookRun,
                     failed: dict[int, dict]) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_check_cell(cell) or not cell.source.strip():
            continue
        try:
            await client.async_execute_cell(cell, index)
        except DeadKernelError:
            run.errors.append(CellError(index + 1, "kernel-died",
                                        "the kernel died while running this cell"))
            run.errors += [CellError(i + 1, "not-run", "not run: the kernel had died")
                           for i, c in enumerate(nb.cells[index + 1:], index + 1)
                           if c.cell_type == "code" and not is_check_cell(c)]
            return
        if index in failed:
            run.errors.append(_cell_error(index, failed[index]))
        else:
            run.ok_cells.append((f"<cell {index + 1}>", cell.source))


async def _lend(client: NotebookClient, km: LimitedKernelManager, scratch: Path,
                limits: Limits) -> Channel | None:
    """Have the kernel serve its namespace on a Unix socket; the channel to it, or None."""
    path = scratch / "worker.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(limits.call_timeout_s + 5)
    code = (f"exec(compile({WORKER_SOURCE!r}, '<convgrade worker>', 'exec'), "
            f"_convgrade := {{'__name__': 'convgrade_worker'}})\n"
            f"_convgrade['serve_socket']({str(path)!r}, get_ipython().user_ns)\n")
    client.kc.execute(code, silent=True, store_history=False)
    try:
        conn, _ = await asyncio.get_running_loop().run_in_executor(None, server.accept)
    except OSError:
        return None
    finally:
        server.close()
    process = km.provisioner.process
    stream = conn.makefile("wb")
    return Channel(process.pid, conn.fileno(), stream, process.wait,
                   lambda: (stream.close(), conn.close()))


async def _shutdown(run: NotebookRun) -> None:
    if run.channel is not None:
        run.channel.kill()
    km = run.manager
    if km is not None and km.has_kernel:
        try:
            await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is what we want
            pass
    if run.client is not None and run.client.kc is not None:
        run.client.kc.stop_channels()
    if km is not None:
        km.release()


def run_notebook(nb: nbformat.NotebookNode, limits: Limits, budget: float,
                 then: Callable[[NotebookRun], T]) -> T:
    """Run the notebook's code cells in a fresh limited kernel within `budget` seconds, call
    `then(run)` while the kernel still serves its namespace, then shut the kernel down.

    The kernel lives on the pool's event loop; `then` runs here, in the caller's thread."""
    pool, run = _pool(), NotebookRun()
    start = time.monotonic()
    try:
        pool.run(asyncio.wait_for(_execute(run, nb, limits, limits.cell_timeout_s), budget))
    except (asyncio.TimeoutError, RuntimeError, OSError) as exc:
        why = "ran out of time" if isinstance(exc, asyncio.TimeoutError) else f"failed ({exc})"
        run.errors.append(CellError(0, "timeout", f"running the notebook {why} after "
                                                  f"{time.monotonic() - start:.0f} s"))
        if run.channel is not None:
            run.channel.kill()
            run.channel = None
    try:
        return then(run)
    finally:
        pool.run(_shutdown(run))
