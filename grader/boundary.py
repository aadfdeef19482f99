"""The grader's side of the worker boundary: start a limited worker, send it calls, read answers.

Every learner call goes through `WorkerSession.call`, which returns a `CallOutcome` whatever the
learner's code does: answer, raise, hang, crash, exhaust memory or exit. A worker that misbehaves
is killed with its whole process group and a fresh one is started for the next call.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from grader import sandbox
from grader import worker as wire
from grader.models import Limits

WORKER_SOURCE = Path(wire.__file__).read_text()
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
    modified: tuple[int, ...] = ()
    forbidden: str | None = None
    elapsed: float = 0.0
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


class Channel:
    """A running worker the grader can talk to: a `.py` worker on pipes, or a notebook kernel
    serving its namespace on a Unix socket. Either way: frames in, frames out, killable."""

    def __init__(self, pid: int, reader: int, writer: BinaryIO, wait: Callable[[], int | None],
                 close: Callable[[], None] = lambda: None) -> None:
        self.pid, self.reader, self.writer = pid, reader, writer
        self._wait, self._close = wait, close

    @classmethod
    def spawn(cls, scratch: Path, limits: Limits, output: Path) -> Channel:
        with open(output, "ab") as out:
            # A new session, so that killing the group also kills whatever the learner spawned;
            # no preexec_fn, which is unsafe when batches grade from several threads.
            env = worker_env(scratch)
            command = [sys.executable, "-I", "-c", WORKER_SOURCE, *limit_args(limits)]
            envelope = sandbox.envelope(limits.memory_mb)
            try:
                proc = subprocess.Popen(
                    envelope.enter(sandbox.wrap(command, env)), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=out, cwd=scratch, env=env,
                    start_new_session=True)
            except OSError:
                envelope.close()
                raise
        assert proc.stdin is not None and proc.stdout is not None

        def wait() -> int:
            code = proc.wait()
            envelope.close()
            return code

        return cls(proc.pid, proc.stdout.fileno(), proc.stdin, wait,
                   lambda: [s.close() for s in (proc.stdin, proc.stdout)])

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
        self._wait()


class WorkerSession:
    """The learner's code loaded in a worker, answering calls; restarted after every failure.

    `load` is the worker's load request: a whole file (`source`, `filename`) or notebook cells
    (`cells`, `cell_timeout_s`), or a function that builds it when a fresh worker first needs
    it. `first` is an already-running channel to use before any restart
    (a notebook kernel whose cells ran). Use as a context manager: afterwards the worker and its
    scratch directory are gone.
    """

    def __init__(self, load: dict | Callable[[], dict], functions: list[str], limits: Limits,
                 first: Channel | None = None) -> None:
        self.load, self.functions, self.limits = load, functions, limits
        self.scratch = Path(tempfile.mkdtemp(prefix="convgrade-"))
        self.channel: Channel | None = first
        self.defined: dict[str, str] = {}

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self.scratch, ignore_errors=True)

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
        self.channel = Channel.spawn(self.scratch, self.limits, self.scratch / "output.txt")
        load = self.load() if callable(self.load) else self.load
        request = {"op": "load", "functions": self.functions, **load}
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
             readonly: bool = False, forbidden: list[str] | None = None,
             timeout: float | None = None, count_lines: bool = False) -> CallOutcome:
        if self.channel is None:
            restarted = self.start()
            if restarted.kind != "value":
                return restarted
        blobs: list[bytes] = []
        request = {
            "op": "call", "function": function,
            "args": [wire.encode(a, blobs) for a in args],
            "kwargs": {k: wire.encode(v, blobs) for k, v in kwargs.items()},
            "layout": layout, "readonly": readonly, "forbidden": forbidden or [],
            "count_lines": count_lines,
        }
        return self._exchange(request, blobs, timeout or self.limits.call_timeout_s)

    def _exchange(self, request: dict, blobs: list[bytes], timeout: float) -> CallOutcome:
        channel = self.channel
        assert channel is not None
        deadline = time.monotonic() + timeout
        try:
            wire.write_frame(channel.writer, request, blobs)
            header, reply_blobs = wire.read_frame(lambda n: channel.read_exact(n, deadline))
        except TimeoutError:
            self._kill()
            return CallOutcome("lost", reason=f"timed out after {timeout:g} s", timed_out=True)
        except (EOFError, OSError):
            code = channel.exit_code()
            self._kill()
            return CallOutcome("lost", reason=_signal_reason(code))
        except (wire.WireError, ValueError, KeyError, TypeError) as exc:
            self._kill()
            return CallOutcome("lost", reason=f"malformed reply from the worker ({exc})"[:200])
        return self._outcome(header, reply_blobs)

    def _outcome(self, header: dict, blobs: list[bytes]) -> CallOutcome:
        if header.get("ok") is not True:
            return CallOutcome("raised", error=header, forbidden=header.get("forbidden"))
        if "defined" in header:
            return CallOutcome("value", value=dict(header["defined"]))
        try:
            value = wire.decode(header["value"], blobs)
        except (wire.WireError, ValueError, KeyError, TypeError, IndexError) as exc:
            self._kill()
            return CallOutcome("lost", reason=f"returned value could not be read ({exc})"[:200])
        modified = tuple(int(i) for i in header.get("modified", []))
        lines = header.get("lines")
        return CallOutcome("value", value=value, modified=modified,
                           forbidden=header.get("forbidden"),
                           elapsed=float(header.get("elapsed", 0.0)),
                           lines=int(lines) if isinstance(lines, int) else None,
                           einsum_unoptimized=header.get("einsum_unoptimized") is True)
