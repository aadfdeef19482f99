"""The grader's side of the worker boundary: start a limited worker, send it calls, read answers.

Every learner call goes through `WorkerSession.call`, which returns a `CallOutcome` whatever the
learner's code does: answer, raise, hang, crash, exhaust memory or exit. A worker that misbehaves
is killed with its whole process group and a fresh one is started for the next call.
"""

from __future__ import annotations

import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _limit_child(limits: Limits) -> None:
    """Runs in the child between fork and exec: its own process group, then hard limits."""
    os.setsid()
    mb = 2**20
    for key, value in (
        (resource.RLIMIT_AS, limits.memory_mb * mb),
        (resource.RLIMIT_CPU, limits.cpu_s),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(key, (value, value))


def _worker_env(scratch: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    threads = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**env, **threads, "HOME": str(scratch), "TMPDIR": str(scratch),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def _signal_reason(returncode: int, memory_mb: int) -> str:
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


class WorkerSession:
    """One learner file loaded in a worker process, restarted after every failure.

    Use as a context manager; the worker and its scratch directory are gone afterwards.
    """

    def __init__(self, source: str, filename: str, functions: list[str], limits: Limits) -> None:
        self.source, self.filename, self.functions, self.limits = source, filename, functions, limits
        self.scratch = Path(tempfile.mkdtemp(prefix="convgrade-"))
        self.proc: subprocess.Popen | None = None
        self.defined: dict[str, str] = {}
        self.load_error: CallOutcome | None = None

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def output_path(self) -> Path:
        return self.scratch / "output.txt"

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc.wait()
        self.proc = None

    def _start(self) -> CallOutcome:
        with open(self.output_path, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", WORKER_SOURCE],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out,
                cwd=self.scratch, env=_worker_env(self.scratch),
                preexec_fn=lambda: _limit_child(self.limits),  # noqa: PLW1509 - no threads here
            )
        request = {"op": "load", "source": self.source, "filename": self.filename,
                   "functions": self.functions}
        outcome = self._exchange(request, [], timeout=self.limits.call_timeout_s + 5)
        if outcome.kind == "value":
            self.defined = outcome.value
        return outcome

    def start(self) -> CallOutcome:
        """Load the learner's file; the outcome says whether it could be imported."""
        outcome = self._start()
        self.load_error = None if outcome.kind == "value" else outcome
        return outcome

    def call(self, function: str, args: tuple, kwargs: dict, *, layout: str = "C",
             readonly: bool = False, forbidden: list[str] | None = None,
             timeout: float | None = None) -> CallOutcome:
        if self.proc is None:
            restarted = self._start()
            if restarted.kind != "value":
                self._kill()
                return restarted
        blobs: list[bytes] = []
        request = {
            "op": "call", "function": function,
            "args": [wire.encode(a, blobs) for a in args],
            "kwargs": {k: wire.encode(v, blobs) for k, v in kwargs.items()},
            "layout": layout, "readonly": readonly, "forbidden": forbidden or [],
        }
        return self._exchange(request, blobs, timeout or self.limits.call_timeout_s)

    def _exchange(self, request: dict, blobs: list[bytes], timeout: float) -> CallOutcome:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        try:
            wire.write_frame(self.proc.stdin, request, blobs)
            header, reply_blobs = wire.read_frame(lambda n: self._read_exact(n, deadline))
        except TimeoutError:
            self._kill()
            return CallOutcome("lost", reason=f"timed out after {timeout:g} s", timed_out=True)
        except (EOFError, BrokenPipeError, ConnectionError):
            self.proc.wait()
            reason = _signal_reason(self.proc.returncode, self.limits.memory_mb)
            self._kill()
            return CallOutcome("lost", reason=reason)
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
        return CallOutcome("value", value=value, modified=modified,
                           forbidden=header.get("forbidden"),
                           elapsed=float(header.get("elapsed", 0.0)))

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks, remaining = [], n
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while remaining:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)
