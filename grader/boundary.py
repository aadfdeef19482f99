"""The grader's side of the worker boundary: start a limited worker, send it calls, read answers.

Every learner call goes through `WorkerSession.call`, which returns a `CallOutcome` whatever the
learner's code does: answer, raise, hang, crash, exhaust memory, exit or forge its reply. A worker
that misbehaves is killed with its whole process group and a fresh one is started for the next
call. Everything a reply says is read within fixed sizes and checked here: the learner's text is
capped, and whether the learner wrote into its inputs is read from the shared input memory.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from grader import noexec, sandbox, scratch
from grader import worker as wire
from grader.models import Limits, utf8_text

WORKER_SOURCE = Path(wire.__file__).read_text()
NOEXEC_SOURCE = Path(noexec.__file__).read_text()
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class CallOutcome:
    """What became of one call: a value, a learner exception, or a worker that failed to answer.

    `kind` is "value", "raised" (the learner's code raised), or "lost" (timeout, crash, early exit,
    malformed reply); `reason` is the one-line explanation for the last two.
    """

    kind: str
    value: Any = None
    reason: str = ""
    timed_out: bool = False
    error: dict = field(default_factory=dict)
    modified: tuple[int | str, ...] = ()
    # counted in the learner's process, so feedback only (never a verdict): Python lines the
    # learner's code ran, and whether np.einsum was called without `optimize`
    lines: int | None = None
    einsum_unoptimized: bool = False


def limit_args(limits: Limits) -> list[str]:
    """The worker sets these limits on itself before it reads any learner code."""
    return [str(v) for v in (limits.memory_mb, limits.cpu_s, limits.file_size_mb,
                             limits.open_files)]


def worker_env(scratch: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    threads = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**env, **threads, "HOME": str(scratch), "TMPDIR": str(scratch),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def _signal_reason(returncode: int | None) -> str:
    if returncode is None:
        return "the worker stopped answering"
    # bubblewrap reports a child killed by signal N as exit code 128 + N, like a shell.
    if 128 < returncode < 128 + signal.NSIG:
        returncode = 128 - returncode
    if returncode >= 0:
        return f"your code exited early (exit code {returncode})"
    sig = -returncode
    if sig == signal.SIGKILL:
        return "worker was killed (CPU time or memory limit)"
    if sig == signal.SIGXCPU:
        return "CPU time limit exceeded"
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return f"worker crashed: {name}"


def new_arena() -> int:
    """A memory file for call inputs, shared with one worker. Unsealable (no MFD_ALLOW_SEALING),
    so the learner cannot freeze it; what it writes there, the grader reads back as written."""
    return os.memfd_create("convgrade-inputs", os.MFD_CLOEXEC)


class Channel:
    """A running worker the grader can talk to: a `.py` worker on pipes, or a notebook kernel
    serving its namespace on a Unix socket. Either way: frames in, frames out, the memory file
    `arena` for call inputs, killable."""

    def __init__(self, pid: int, reader: int, writer: BinaryIO, wait: Callable[[], int | None],
                 close: Callable[[], None] = lambda: None, arena: int = -1) -> None:
        self.pid, self.reader, self.writer, self.arena = pid, reader, writer, arena
        self._wait, self._close = wait, close

    @classmethod
    def spawn(cls, scratch: Path, limits: Limits, output: Path,
              forbidden: tuple[str, ...] = ()) -> Channel:
        arena = new_arena()
        try:
            with open(output, "ab") as out:
                # A new session, so that killing the group also kills whatever the learner
                # spawned; no preexec_fn, which is unsafe when batches grade from several threads.
                env = worker_env(scratch)
                command = [sys.executable, "-I", "-c", WORKER_SOURCE, *limit_args(limits),
                           str(arena), NOEXEC_SOURCE]
                envelope = sandbox.envelope(limits)
                try:
                    proc = subprocess.Popen(
                        envelope.enter(sandbox.wrap(command, env, hidden=sandbox.package_dirs(forbidden))),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=out, cwd=scratch, env=env,
                        start_new_session=True, pass_fds=(arena,))
                except OSError:
                    envelope.close()
                    raise
        except BaseException:
            os.close(arena)
            raise
        assert proc.stdin is not None and proc.stdout is not None

        def wait() -> int:
            code = proc.wait()
            envelope.close()
            return code

        return cls(proc.pid, proc.stdout.fileno(), proc.stdin, wait,
                   lambda: [s.close() for s in (proc.stdin, proc.stdout)], arena)

    def read_exact(self, n: int, deadline: float) -> bytes:
        chunks, remaining = [], n
        with selectors.DefaultSelector() as sel:
            sel.register(self.reader, selectors.EVENT_READ)
            while remaining:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError
                chunk = os.read(self.reader, min(remaining, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    def exit_code(self) -> int | None:
        return self._wait()

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self._close()
        except OSError:
            pass
        if self.arena >= 0:
            os.close(self.arena)
            self.arena = -1
        self._wait()


_BUDGET_SPENT = "not finished: the time budget for the whole submission was used up"


class WorkerSession:
    """The learner's code loaded in a worker, answering calls; restarted after every failure.

    `load` is the worker's load request: a whole file (`source`, `filename`) or notebook cells
    (`cells`, `cell_timeout_s`, and `ipython` when they may hold IPython syntax). `first` is an
    already-running channel to use before any restart (a notebook kernel whose cells ran, with
    `forbidden` withheld when it started). `forbidden` names the library functions withheld from
    the worker before the learner's code loads. Use as a context manager: afterwards the worker
    and its scratch directory are gone.
    """

    def __init__(self, load: dict, functions: list[str], limits: Limits,
                 first: Channel | None = None, forbidden: tuple[str, ...] = ()) -> None:
        self.load, self.functions, self.limits = load, functions, limits
        self.forbidden = forbidden
        self.scratch = Path(tempfile.mkdtemp(prefix="convgrade-"))
        self.channel: Channel | None = first
        self.defined: dict[str, str] = {}
        # The submission's budget (time.monotonic()): set by the grader once the clock runs.
        self.deadline: float | None = None

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        scratch.remove(self.scratch)

    def _kill(self) -> None:
        if self.channel is not None:
            self.channel.kill()
            self.channel = None

    def start(self) -> CallOutcome:
        """Load the learner's code: which functions exist. A running kernel is asked first; if it
        does not answer, a fresh worker loads the code instead."""
        if self.channel is not None:
            outcome = self._exchange({"op": "bind", "functions": self.functions}, [],
                                     timeout=self.limits.call_timeout_s + 10)
            if outcome.kind == "value":
                self.defined = outcome.value
                return outcome
            self._kill()
        self.channel = Channel.spawn(self.scratch, self.limits, self.scratch / "output.txt",
                                     self.forbidden)
        request = {"op": "load", "functions": self.functions, "forbidden": list(self.forbidden),
                   **self.load}
        outcome = self._exchange(request, [], timeout=self.limits.total_timeout_s)
        if outcome.kind == "value":
            self.defined = outcome.value
        else:
            self._kill()
        return outcome

    def ensure_started(self) -> bool:
        """Make sure a worker is up (after a crash, a fresh one is loaded): True if it is."""
        return self.channel is not None or self.start().kind == "value"

    def call(self, function: str, args: tuple, kwargs: dict, *, layout: str = "C",
             readonly: bool = False, timeout: float | None = None,
             count_lines: bool = False) -> CallOutcome:
        if self.channel is None:
            restarted = self.start()
            if restarted.kind != "value":
                return restarted
        channel = self.channel
        assert channel is not None
        inputs = _Inputs(layout, readonly)
        blobs: list[bytes] = []
        request = {
            "op": "call", "function": function,
            "args": [inputs.place(a, i, blobs) for i, a in enumerate(args)],
            "kwargs": {k: inputs.place(v, k, blobs) for k, v in kwargs.items()},
            "arena": inputs.size, "count_lines": count_lines,
        }
        try:
            inputs.write(channel.arena)
        except OSError as exc:
            self._kill()
            return CallOutcome("lost", reason=f"the inputs could not be passed ({exc.strerror})")
        outcome = self._exchange(request, blobs, timeout or self.limits.call_timeout_s)
        if outcome.kind != "value" or channel.arena < 0:
            return outcome
        # Changed memory as the grader reads it, then the inputs the worker saw reshaped in place
        # (only the learner's own process can see that; a worker that hides it changed no data).
        owners = [*range(len(args)), *kwargs]
        reshaped = [o for o in owners if o in outcome.modified]
        return replace(outcome, modified=tuple(dict.fromkeys((*inputs.changed(channel.arena), *reshaped))))

    def _exchange(self, request: dict, blobs: list[bytes], timeout: float) -> CallOutcome:
        channel = self.channel
        assert channel is not None
        deadline = time.monotonic() + timeout
        if self.deadline is not None and self.deadline < deadline:
            # no exchange (a load after a crash included) runs past the submission's budget
            if self.deadline <= time.monotonic():
                self._kill()
                return CallOutcome("lost", reason=_BUDGET_SPENT, timed_out=True)
            deadline, timeout = self.deadline, self.deadline - time.monotonic()
        try:
            wire.write_frame(channel.writer, request, blobs)
            header, reply_blobs = wire.read_frame(lambda n: channel.read_exact(n, deadline),
                                                  wire.MAX_REPLY_HEADER, wire.MAX_REPLY)
            return self._outcome(header, reply_blobs)
        except TimeoutError:
            self._kill()
            if self.deadline is not None and deadline >= self.deadline:
                return CallOutcome("lost", reason=_BUDGET_SPENT, timed_out=True)
            return CallOutcome("lost", reason=f"timed out after {timeout:g} s", timed_out=True)
        except (EOFError, OSError):
            code = channel.exit_code()
            self._kill()
            return CallOutcome("lost", reason=_signal_reason(code))
        except Exception as exc:  # noqa: BLE001 - a forged reply may break any step of reading it
            self._kill()
            why = f"{exc}" if isinstance(exc, wire.WireError) else type(exc).__name__
            return CallOutcome("lost", reason=f"malformed reply from the worker ({why})"[:200])

    def _outcome(self, header: dict, blobs: list[bytes]) -> CallOutcome:
        if header.get("ok") is not True:
            return CallOutcome("raised", error=_error_fields(header))
        if "defined" in header:
            defined = header["defined"]
            if not isinstance(defined, dict):
                raise wire.WireError("malformed list of functions")
            return CallOutcome("value", value={
                name: state if state in ("ok", "missing", "not callable") else "missing"
                for name, state in ((n, defined.get(n)) for n in self.functions)})
        value = wire.decode(header["value"], blobs)
        reshaped, lines = header.get("reshaped"), header.get("lines")
        return CallOutcome("value", value=value,
                           modified=tuple(reshaped[:64]) if isinstance(reshaped, list) else (),
                           lines=lines if type(lines) is int else None,
                           einsum_unoptimized=header.get("einsum_unoptimized") is True)


def _text(value: Any, cap: int) -> str:
    return utf8_text(value[:cap]) if isinstance(value, str) else ""


def _error_fields(header: dict) -> dict:
    """A learner exception as reported by the worker, cut to fixed sizes right here: whatever it
    sends, the grader keeps at most a few KiB of it."""
    mro = header.get("mro")
    lineno = header.get("lineno")
    return {"type": _text(header.get("type"), 80) or "Exception",
            "mro": [_text(c, 80) for c in mro[:20]] if isinstance(mro, list) else [],
            "message": _text(header.get("message"), 2000),
            "traceback": _text(header.get("traceback"), 4000),
            "lineno": lineno if type(lineno) is int else None,
            "raised_by_learner": header.get("raised_by_learner") is True}


class _Inputs:
    """A call's array arguments, laid out in the shared memory file by the grader; after the
    call, the grader reads that memory back and compares it with what it wrote."""

    def __init__(self, layout: str, readonly: bool) -> None:
        self.layout, self.readonly = layout, readonly
        self.regions: list[tuple[int | str, int, bytes]] = []
        self.size = 0

    def place(self, value: Any, owner: int | str, blobs: list[bytes]) -> dict:
        if isinstance(value, (tuple, list)):
            return {"t": type(value).__name__, "v": [self.place(v, owner, blobs) for v in value]}
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            return wire.encode(value, blobs)
        base, view = _laid_out(value, self.layout)
        data = base.tobytes(order="A")
        at = -(-self.size // 64) * 64
        self.regions.append((owner, at, data))
        self.size = at + len(data)
        return {"t": "shared", "at": at, "n": len(data), "dtype": value.dtype.str,
                "shape": list(view.shape), "strides": list(view.strides), "readonly": self.readonly}

    def write(self, fd: int) -> None:
        if fd < 0 or not self.size:
            return
        if os.fstat(fd).st_size < self.size:
            os.ftruncate(fd, self.size)
        for _, at, data in self.regions:
            view = memoryview(data)
            while view:
                view = view[os.pwrite(fd, view, at + len(data) - len(view)):]

    def changed(self, fd: int) -> tuple[int | str, ...]:
        """The arguments whose memory no longer holds what the grader wrote."""
        changed: list[int | str] = []
        for owner, at, data in self.regions:
            if owner not in changed and os.pread(fd, len(data), at) != data:
                changed.append(owner)
        return tuple(changed)


def _laid_out(arr: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The memory to write (`base`) and the learner's view of it, in the case's layout."""
    if layout == "F":
        base = np.asfortranarray(arr)
        return base, base
    if layout == "strided" and arr.ndim:
        base = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), dtype=arr.dtype)
        base[..., ::2] = arr
        return base, base[..., ::2]
    base = np.ascontiguousarray(arr)
    return base, base
