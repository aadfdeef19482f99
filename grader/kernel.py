"""Running a learner's notebook in a limited Jupyter kernel, then lending that kernel to grading.

The kernel is a pinned `python3` ipykernel (never the kernel the notebook's metadata names),
started in a scratch directory with a cleaned environment and the worker's resource limits. Its
cells run with nbclient, a time limit each and a budget for the whole notebook; a cell that times
out is interrupted, a kernel that dies or hangs ends the run. The learner's cell errors are taken
from the execute replies, not from outputs the learner's code could suppress. Every kernel has its
own event loop, thread and ZMQ context, with a cap on each message part and a low queue limit; the
client decodes only the messages it waits for, and keeps no output and no widget state, so one
notebook's traffic can neither fill the grader's memory nor delay another notebook. The exercise's
forbidden functions are withheld before the kernel starts (`worker.withhold`), as in a `.py`
worker. Afterwards the kernel serves its namespace to the grader over a Unix socket with the same
data-only protocol as a `.py` worker (`worker.serve_socket`); verdicts are made in the grader, as
for `.py` files.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, DeadKernelError
from traitlets import default

from grader import sandbox
from grader.boundary import NOEXEC_SOURCE, WORKER_SOURCE, Channel, limit_args, new_arena, worker_env
from grader.models import CellError, Limits, utf8_text

_LAUNCHER = (
    "import sys\n"
    "exec(compile(sys.argv[1], '<convgrade limits>', 'exec'), {'__name__': 'limits'})\n"
)
_LIMITS = (
    "import gc, json, resource, sys\n"
    # No garbage collection while ipykernel imports and sets up (about 15% of its CPU time);
    # what exists then is frozen, so that the learner's cells collect only their own objects.
    "gc.disable()\n"
    "mb = 2**20\n"
    "memory, cpu, fsize, nofile = (int(a) for a in sys.argv[2:6])\n"
    "for key, value in ((resource.RLIMIT_AS, memory * mb), (resource.RLIMIT_CPU, cpu),\n"
    "                   (resource.RLIMIT_FSIZE, fsize * mb), (resource.RLIMIT_NOFILE, nofile),\n"
    "                   (resource.RLIMIT_CORE, 0)):\n"
    "    resource.setrlimit(key, (value, value))\n"
    "withheld = json.loads(sys.argv[6])\n"
    "if withheld:\n"
    "    worker = {'__name__': 'convgrade_worker'}\n"
    "    exec(compile(sys.argv[7], '<convgrade worker>', 'exec'), worker)\n"
    "    worker['withhold'](withheld)\n"
    "noexec_source = sys.argv[8]\n"
    "sys.argv = ['ipykernel_launcher'] + sys.argv[9:]\n"
    "from ipykernel.kernelapp import IPKernelApp\n"
    "app = IPKernelApp.instance()\n"
    "app.initialize()\n"
    # Started, and no cell has run yet: from here on no process of the kernel runs a program.
    "noexec = {'__name__': 'convgrade_noexec'}\n"
    "exec(compile(noexec_source, '<convgrade noexec>', 'exec'), noexec)\n"
    "noexec['install']()\n"
    "gc.freeze()\n"
    "gc.enable()\n"
    "app.start()\n"
)
# Interrupted by a message on the control channel: a SIGINT sent from outside the sandbox would
# reach bubblewrap, not the kernel, and end both (the cells after a timed-out one never ran).
_PINNED_SPEC = KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                          display_name="Python 3 (convgrade)", language="python",
                          interrupt_mode="message")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TRACE_CAP = 4000
# Per message part from a kernel, and messages queued per socket: what one kernel can make the
# grader hold. Outputs are never kept; an honest notebook's messages are far smaller.
MAX_MESSAGE_PART = 4 * 2**20
QUEUED_MESSAGES = 16
# What the grader decodes of a message: the frames it reads, within these sizes (an honest
# header is under 1 KiB, a status message's content under 100 bytes).
MAX_HEADER_PART = 16 * 2**10
MAX_CONTENT_READ = 256 * 2**10
# The only messages whose content the grader reads: the end of a cell, and the replies.
_READ = frozenset({"status", "execute_reply", "kernel_info_reply", "shutdown_reply",
                   "interrupt_reply"})
T = TypeVar("T")


def is_check_cell(cell: dict) -> bool:
    """The generated notebooks' self-check and questions cells: learner aids, never run while
    grading."""
    tags = cell.get("metadata", {}).get("tags", [])
    return bool({"convgrade-check", "convgrade-questions"} & set(tags)) or \
        "grader.notebook import check" in cell.get("source", "")


class _BoundedSession(Session):
    """Decodes only what the grader reads of a kernel's messages, within fixed sizes: the status
    messages and replies that answer a request of its own. Any other message is dropped after
    its header, unverified and undecoded, so that a flood of large messages, or of JSON quick
    to send and slow to decode, costs the grader's threads (which share one interpreter lock)
    a small header each. An oversized reply is a failed cell."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.asked: set[str] = set()  # the ids of the requests sent: one per cell, and a few

    def send(self, stream, msg_or_type, *args, **kwargs):  # noqa: D102 - jupyter_client hook
        msg = super().send(stream, msg_or_type, *args, **kwargs)
        self.asked.add(msg["header"]["msg_id"])
        return msg

    def deserialize(self, msg_list, content=True, copy=True):  # noqa: D102 - jupyter_client hook
        if not copy:
            msg_list = [bytes(part.bytes) for part in msg_list[:5]]
        if len(msg_list) < 5 or any(len(part) > MAX_HEADER_PART for part in msg_list[1:4]):
            return _ignored()
        try:
            header, parent = self.unpack(msg_list[1]), self.unpack(msg_list[2])
        except ValueError:
            return _ignored()
        kind = header.get("msg_type") if isinstance(header, dict) else None
        request = parent.get("msg_id") if isinstance(parent, dict) else None
        oversized = len(msg_list[4]) > MAX_CONTENT_READ
        if not (isinstance(kind, str) and kind in _READ and isinstance(request, str)
                and request in self.asked) or (oversized and kind != "execute_reply"):
            return _ignored()
        message = super().deserialize(msg_list[:5], content=False)
        if oversized:
            message["content"] = {"status": "error", "ename": "ReplyTooLarge", "evalue":
                                  f"the kernel's reply was over {MAX_CONTENT_READ // 2**10} KiB"}
        elif content:
            message["content"] = self.unpack(message["content"])
        return message


def _ignored() -> dict:
    return {"header": {}, "msg_id": "", "msg_type": "convgrade_ignored", "parent_header": {},
            "metadata": {}, "content": {}, "buffers": []}


class LimitedKernelManager(AsyncKernelManager):
    """An ipykernel in the sandbox that applies the worker's resource limits to itself before
    starting; its connection file and sockets live in `shared`, the one folder both sides see."""

    limits: Limits = Limits()
    withheld: tuple[str, ...] = ()
    shared: Path = Path("/nonexistent")
    env: dict[str, str] = {}
    envelope: sandbox.Envelope = sandbox.Envelope()

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        # Its own context per kernel (shared with its client, destroyed with the kernel): its
        # own I/O thread, and limits on every socket that reads what the kernel sends.
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_PART)
        context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
        return context

    @default("session")
    def _session_default(self) -> Session:
        return _BoundedSession(parent=self)

    def client(self, **kwargs):  # noqa: D102 - jupyter_client hook
        return super().client(context=self.context, **kwargs)

    @property
    def kernel_spec(self) -> KernelSpec:
        # Pinned in memory: no installed kernelspec is looked up (or trusted), which also spares
        # the grader the IPython import that the lookup costs.
        return _PINNED_SPEC

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = [sys.executable, "-I", "-c", _LAUNCHER, _LIMITS, *limit_args(self.limits),
                   json.dumps(list(self.withheld)), WORKER_SOURCE, NOEXEC_SOURCE, "-f", self.connection_file]
        self.envelope.close()
        self.envelope = sandbox.envelope(self.limits)
        return self.envelope.enter(sandbox.wrap(command, self.env, shared=self.shared,
                                                hidden=sandbox.package_dirs(self.withheld)))

    def release(self) -> None:
        """After shutdown: the resource envelope and the socket folder go."""
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
    """Keeps nothing a kernel sends but the end of each cell: no outputs, no display ids, no comm
    or widget state (nbclient would keep a widget's binary buffers), so the grader's memory does
    not depend on what the learner's code sends."""

    def process_message(self, msg, cell, cell_index):  # noqa: D102 - nbclient hook
        content = msg.get("content") or {}
        if msg.get("msg_type") == "status" and content.get("execution_state") == "idle":
            raise CellExecutionComplete()
        return None


def _cell_error(index: int, reply: dict) -> CellError:
    content = reply.get("content", {})
    name = utf8_text(str(content.get("ename", "Error"))[:100])
    value = utf8_text(str(content.get("evalue", ""))[:300])
    lines = content.get("traceback")
    lines = [utf8_text(str(line)[-_TRACE_CAP:]) for line in lines[-50:]] if isinstance(lines, list) else []
    trace = _ANSI.sub("", "\n".join(lines)[-2 * _TRACE_CAP:])
    kind = "timeout" if name == "CellTimeoutError" else "error"
    return CellError(cell=index + 1, kind=kind, message=f"{name}: {value}"[:300],
                     traceback=trace[-_TRACE_CAP:])


@dataclass
class _Kernel:
    """A started kernel process and the fresh scratch directory it runs in."""

    manager: LimitedKernelManager
    scratch: Path


async def _start_kernel(limits: Limits, withheld: tuple[str, ...]) -> _Kernel:
    size = sandbox.SOCKET_DIR_SIZE if sandbox.bwrap() else sandbox.TMP_SIZE
    scratch = sandbox.capped_folder("convgrade-nb-", size)
    km = LimitedKernelManager(kernel_name="python3", transport="ipc")
    km.limits, km.withheld, km.shared = limits, withheld, scratch
    km.ip = str(scratch / "kernel")
    km.connection_file = str(scratch / "kernel.json")
    home = sandbox.WORKDIR if sandbox.bwrap() else str(scratch)
    km.env = env = {**worker_env(scratch), "HOME": home, "IPYTHONDIR": f"{home}/.ipython"}
    # The kernel's own console chatter is not for the instructor's terminal.
    await km.start_kernel(env=env, cwd=str(scratch), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    return _Kernel(km, scratch)


class _Home:
    """One kernel's own event loop, on its own thread: whatever that kernel sends is read here,
    and no other notebook waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="convgrade-kernel",
                                       daemon=True)
        self.thread.start()

    def submit(self, coro: Awaitable[T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Awaitable[T]) -> T:
        return self.submit(coro).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


_Key = tuple[Limits, tuple[str, ...]]


class _Pool:
    """Kernels started ahead of need, so a batch does not wait for each kernel to boot. Every
    kernel serves exactly one submission, on its own `_Home`."""

    def __init__(self) -> None:
        self.ready: dict[_Key, list[tuple[_Home, Future[_Kernel]]]] = {}
        self.target = 0
        self.lock = threading.Lock()

    def fill(self, key: _Key) -> None:
        with self.lock:
            waiting = self.ready.setdefault(key, [])
            while len(waiting) < self.target:
                home = _Home()
                waiting.append((home, home.submit(_start_kernel(*key))))

    def take(self, key: _Key) -> tuple[_Home, Future[_Kernel]]:
        with self.lock:
            waiting = self.ready.setdefault(key, [])
            if waiting:
                taken = waiting.pop(0)
            else:
                home = _Home()
                taken = home, home.submit(_start_kernel(*key))
        self.fill(key)
        return taken

    def close(self) -> None:
        with self.lock:
            self.target = 0
            waiting = [item for items in self.ready.values() for item in items]
            self.ready.clear()
        for home, started in waiting:
            try:
                kernel = started.result()
            except Exception:  # noqa: BLE001 - a kernel that failed to start has nothing to stop
                home.close()
                continue
            try:
                home.run(_stop(kernel.manager))
            finally:
                home.close()


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> _Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = _Pool()
            atexit.register(close_pool)
        return _POOL


def prestart(count: int, limits: Limits | None = None, withheld: tuple[str, ...] = ()) -> None:
    """Keep `count` kernels booting ahead of need (a batch asks for one per job). With `limits`
    (and the names to withhold), start them now, so that they boot while the grader reads the
    submission and imports."""
    pool = _pool()
    pool.target = count
    if limits is not None:
        pool.fill((limits, withheld))


def close_pool() -> None:
    """Shut down the kernels that were started ahead and not used."""
    if _POOL is not None:
        _POOL.close()


async def _execute(run: NotebookRun, started: Future[_Kernel], nb: nbformat.NotebookNode,
                   limits: Limits, withheld: tuple[str, ...]) -> None:
    kernel = await asyncio.wrap_future(started)
    if not await kernel.manager.is_alive():  # a pre-started kernel that died while waiting
        await _stop(kernel.manager)
        kernel = await _start_kernel(limits, withheld)
    km, folder = run.manager, run.scratch = kernel.manager, kernel.scratch
    cell_timeout = limits.cell_timeout_s
    failed: dict[int, dict] = {}
    client = run.client = _QuietClient(
        nb, km=km, timeout=int(cell_timeout), allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError",
                          "evalue": f"cell timed out after {cell_timeout:g} s", "traceback": []},
        kernel_name="python3", startup_timeout=30, record_timing=False,
        on_cell_error=lambda cell, cell_index, execute_reply: failed.setdefault(
            cell_index, execute_reply))
    async with client.async_setup_kernel(cwd=str(folder)):
        await _run_cells(client, nb, run, failed)
        if await km.is_alive():
            run.channel = await _lend(client, km, folder, limits)


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


async def _lend(client: NotebookClient, km: LimitedKernelManager, folder: Path,
                limits: Limits) -> Channel | None:
    """Have the kernel serve its namespace on a Unix socket, with the memory file for call
    inputs passed along it; the channel to it, or None."""
    path = folder / "worker.sock"
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
    arena = new_arena()
    try:
        socket.send_fds(conn, [b"a"], [arena])
    except OSError:
        os.close(arena)
        conn.close()
        return None
    process = km.provisioner.process
    stream = conn.makefile("wb")
    return Channel(process.pid, conn.fileno(), stream, process.wait,
                   lambda: (stream.close(), conn.close()), arena)


async def _shutdown(run: NotebookRun) -> None:
    if run.channel is not None:
        run.channel.kill()
    if run.client is not None and run.client.kc is not None:
        run.client.kc.stop_channels()
    if run.manager is not None:
        await _stop(run.manager)


async def _stop(km: LimitedKernelManager) -> None:
    """Shut a kernel down, a dead one too (shutdown_kernel also destroys its ZMQ context, with
    the context's I/O thread, and its connection file), then release its envelope and folder."""
    if km.has_kernel:
        try:
            await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is what we want
            pass
    km.release()


def run_notebook(nb: nbformat.NotebookNode, limits: Limits, budget: float,
                 then: Callable[[NotebookRun], T], withheld: tuple[str, ...] = ()) -> T:
    """Run the notebook's code cells in a fresh limited kernel within `budget` seconds, call
    `then(run)` while the kernel still serves its namespace, then shut the kernel down.
    `withheld` names the library functions taken away before the kernel starts.

    The kernel lives on its own event loop; `then` runs here, in the caller's thread."""
    home, started = _pool().take((limits, withheld))
    run = NotebookRun()
    start = time.monotonic()
    try:
        home.run(asyncio.wait_for(_execute(run, started, nb, limits, withheld), budget))
    except Exception as exc:  # noqa: BLE001 - a kernel that fails in any way ends the run
        why = "ran out of time" if isinstance(exc, asyncio.TimeoutError) else \
            f"failed ({type(exc).__name__}: {str(exc)[:200]})"
        run.errors.append(CellError(0, "timeout", f"running the notebook {why} after "
                                                  f"{time.monotonic() - start:.0f} s"))
        if run.channel is not None:
            run.channel.kill()
            run.channel = None
    try:
        return then(run)
    finally:
        try:
            home.run(_shutdown(run))
        finally:
            home.close()
