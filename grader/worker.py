"""The learner-side worker, and the wire format both sides of the boundary speak.

This file runs in two places. The grader imports it for `encode`/`decode`/`read_frame`/`write_frame`.
The worker process runs its source with `python -I -c` (see `boundary.py`), so it must only import
the standard library and numpy: the grader's package, the hidden suites and the reference
solutions are not importable from the worker, by design.

Only plain data crosses: JSON headers and raw array bytes with a whitelisted dtype. There is no
pickle in either direction. The worker never sees an expected value or a verdict; it only answers
"what does the learner's function return for these inputs".
"""

from __future__ import annotations

import dis
import json
import os
import signal
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO

import numpy as np

MAX_FRAME = 256 * 1024 * 1024
_ARRAY_KINDS = "biuf"


class WireError(Exception):
    """A frame or value that does not follow the wire format."""


def write_frame(stream: BinaryIO, header: dict, blobs: list[bytes]) -> None:
    head = json.dumps(header).encode()
    parts = [struct.pack(">II", len(head), len(blobs)), head]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    stream.write(b"".join(parts))
    stream.flush()


def read_frame(read_exact) -> tuple[dict, list[bytes]]:
    """Read one frame with `read_exact(n) -> bytes`; sizes are checked before anything is read."""
    head_len, n_blobs = struct.unpack(">II", read_exact(8))
    if head_len > MAX_FRAME or n_blobs > 4096:
        raise WireError("frame header too large")
    header = json.loads(read_exact(head_len))
    if not isinstance(header, dict):
        raise WireError("frame header is not an object")
    blobs, total = [], head_len
    for _ in range(n_blobs):
        (size,) = struct.unpack(">Q", read_exact(8))
        total += size
        if total > MAX_FRAME:
            raise WireError(f"reply larger than {MAX_FRAME // 2**20} MiB")
        blobs.append(read_exact(size))
    return header, blobs


def encode(value: Any, blobs: list[bytes]) -> dict:
    """Describe `value` as JSON, appending array bytes to `blobs`. Unknown objects become a type name."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind not in _ARRAY_KINDS or arr.dtype.fields is not None:
            return {"t": "other", "type": f"array of dtype {arr.dtype}"}
        blobs.append(np.ascontiguousarray(arr).tobytes())
        kind = "array" if isinstance(value, np.ndarray) else "npscalar"
        return {"t": kind, "i": len(blobs) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"t": type(value).__name__, "v": value if value is None or _json_safe(value) else repr(value)}
    if isinstance(value, (tuple, list)):
        return {"t": type(value).__name__, "v": [encode(item, blobs) for item in value]}
    return {"t": "other", "type": type(value).__name__[:80]}


def _json_safe(value: Any) -> bool:
    return not isinstance(value, float) or np.isfinite(value)


def decode(tree: Any, blobs: list[bytes]) -> Any:
    """Rebuild a value from `encode`'s description: fresh base-class ndarrays, plain Python values."""
    if not isinstance(tree, dict) or not isinstance(tree.get("t"), str):
        raise WireError("malformed value")
    kind = tree["t"]
    if kind in ("array", "npscalar"):
        dtype = np.dtype(str(tree["dtype"]))
        shape = tuple(int(n) for n in tree["shape"])
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or min(shape, default=0) < 0:
            raise WireError("array with a forbidden dtype or shape")
        data = blobs[int(tree["i"])]
        if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise WireError("array bytes do not match its shape")
        arr = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        return arr if kind == "array" else arr[()]
    if kind in ("tuple", "list"):
        items = [decode(item, blobs) for item in tree["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind in ("NoneType", "bool", "int", "float", "str"):
        value = tree["v"]
        return float(value) if kind == "float" and isinstance(value, str) else value
    if kind == "other":
        return Opaque(str(tree.get("type", "object"))[:80])
    raise WireError(f"unknown value kind {kind!r}")


class Opaque:
    """Stands in the grader for a learner object that could not cross (only its type name did)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


# ---------------------------------------------------------------------------------------------
# Everything below runs only inside the worker process.


class ForbiddenCall(Exception):
    """Raised inside the learner's function when it calls a library shortcut the exercise forbids."""


def _apply_layout(arr: np.ndarray, layout: str, readonly: bool) -> np.ndarray:
    if layout == "F":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim:
        wide = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), dtype=arr.dtype)
        wide[..., ::2] = arr
        arr = wide[..., ::2]
    if readonly:
        arr.flags.writeable = False
    return arr


class _Guard:
    """Notices calls of forbidden library functions during one learner call, however imported."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.hit: str | None = None
        self.codes: dict[Any, str] = {}
        self.builtins: dict[int, str] = {}

    def _resolve(self) -> None:
        for name in self.names:
            module_name, _, attr = name.rpartition(".")
            module = sys.modules.get(module_name)
            target = getattr(module, attr, None) if module is not None else None
            while target is not None:
                code = getattr(target, "__code__", None)
                if code is not None:
                    self.codes[code] = name
                else:
                    self.builtins[id(target)] = name
                target = getattr(target, "__wrapped__", None)

    def _profile(self, frame, event, arg):
        name = None
        if event == "call":
            name = self.codes.get(frame.f_code)
        elif event == "c_call":
            name = self.builtins.get(id(arg))
        if name is not None:
            self.hit = self.hit or name
            raise ForbiddenCall(f"{name} is not allowed in this function")

    def __enter__(self):
        if self.names:
            self._resolve()
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)


_LEARNER_FILES: set[str] = set()


def _learner_traceback(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in _LEARNER_FILES]
    lines = [f"{f.filename}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"[:300]
             for f in frames[-5:]]
    return "\n".join(lines)


_RAISES = {dis.opmap[name] for name in ("RAISE_VARARGS", "RERAISE") if name in dis.opmap}


def _is_learner_file(name: str) -> bool:
    """Code the submission brought (its file or cells), not the standard library, an installed
    package (numpy, scipy...) or this worker (compiled from a string: `<string>`)."""
    if name in _LEARNER_FILES:
        return True
    stdlib = os.path.dirname(os.__file__) + os.sep
    return not (name.startswith("<") or name.startswith(stdlib) or ("-packages" + os.sep) in name)


def _raised_by_learner(exc: BaseException) -> bool:
    """Was `exc` raised by a `raise` statement of the learner's own code (not by a library call
    or an operator failing on the learner's line)?"""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or not _is_learner_file(tb.tb_frame.f_code.co_filename):
        return False
    code = tb.tb_frame.f_code.co_code
    return 0 <= tb.tb_lasti < len(code) and code[tb.tb_lasti] in _RAISES


def _error(exc: BaseException, guard: _Guard | None = None) -> dict:
    return {
        "raised_by_learner": _raised_by_learner(exc),
        "ok": False,
        "type": type(exc).__name__[:80],
        "mro": [c.__name__ for c in type(exc).__mro__][:20],
        "message": str(exc)[:2000],
        "traceback": _learner_traceback(exc)[:4000],
        "forbidden": guard.hit if guard else None,
        "lineno": getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None,
    }


class CellTimeout(BaseException):
    """Raised by the alarm when one notebook cell runs past its time while being replayed."""


def _on_alarm(signum, frame):
    raise CellTimeout("cell timed out")


def _defined(namespace: dict, functions: list[str]) -> dict[str, str]:
    found = {}
    for name in functions:
        obj = namespace.get(name)
        found[name] = "missing" if obj is None else "ok" if callable(obj) else "not callable"
    return found


def _load(request: dict) -> tuple[dict, dict]:
    """Run the learner's code: a whole file (any error is fatal), or notebook cells one by one,
    where a failing or overlong cell is skipped as it would be in Jupyter."""
    namespace: dict = {"__name__": "__main__"}
    cells = request.get("cells")
    if cells is None:
        _LEARNER_FILES.add(request["filename"])
        namespace["__file__"] = request["filename"]
        try:
            exec(compile(request["source"], request["filename"], "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - a learner's module may raise anything
            return namespace, _error(exc)
        return namespace, {"ok": True, "defined": _defined(namespace, request["functions"])}
    signal.signal(signal.SIGALRM, _on_alarm)
    for cell in cells:
        _LEARNER_FILES.add(cell["name"])
        signal.setitimer(signal.ITIMER_REAL, float(request["cell_timeout_s"]))
        try:
            exec(compile(cell["source"], cell["name"], "exec"), namespace)
        except BaseException:  # noqa: BLE001 - reported when the notebook ran; skipped here
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return namespace, {"ok": True, "defined": _defined(namespace, request["functions"])}


class _LineCounter:
    """Counts the Python lines the learner's code executes during one call (not a timed call),
    and notices np.einsum called without `optimize`: what makes a loop-free answer slow.
    sys.monitoring where it exists (3.12+), sys.settrace before."""

    def __init__(self) -> None:
        self.lines = 0
        self.einsum_unoptimized = False
        einsum = getattr(sys.modules.get("numpy"), "einsum", None)
        self._einsum = getattr(getattr(einsum, "__wrapped__", einsum), "__code__", None)

    def _learner(self, code) -> bool:
        return _is_learner_file(code.co_filename)

    def _profile(self, frame, event, arg):
        if event == "call" and frame.f_code is self._einsum and not frame.f_locals.get("optimize"):
            self.einsum_unoptimized = True

    def _trace(self, frame, event, arg):
        self._profile(frame, event, arg)
        return self._local if event == "call" and self._learner(frame.f_code) else None

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local

    def _on_line(self, code, line):
        if not self._learner(code):
            return sys.monitoring.DISABLE
        self.lines += 1
        return None

    def __enter__(self):
        sys.setprofile(self._profile)
        if hasattr(sys, "monitoring"):
            tool = sys.monitoring.PROFILER_ID
            sys.monitoring.use_tool_id(tool, "convgrade")
            sys.monitoring.register_callback(tool, sys.monitoring.events.LINE, self._on_line)
            sys.monitoring.set_events(tool, sys.monitoring.events.LINE)
        else:
            sys.settrace(self._trace)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        if hasattr(sys, "monitoring"):
            tool = sys.monitoring.PROFILER_ID
            sys.monitoring.set_events(tool, 0)
            sys.monitoring.free_tool_id(tool)
        else:
            sys.settrace(None)


def _call(namespace: dict, request: dict, blobs: list[bytes]) -> tuple[dict, list]:
    args = [decode(tree, blobs) for tree in request["args"]]
    kwargs = {key: decode(tree, blobs) for key, tree in request["kwargs"].items()}
    layout, readonly = request.get("layout", "C"), bool(request.get("readonly"))
    args = [_apply_layout(a, layout, readonly) if isinstance(a, np.ndarray) else a for a in args]
    originals = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
    guard = _Guard(request.get("forbidden") or [])
    counter = _LineCounter() if request.get("count_lines") else None
    start = time.perf_counter()
    try:
        with counter or guard:
            value = namespace[request["function"]](*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        return _error(exc, guard), []
    elapsed = time.perf_counter() - start
    modified = [i for i, (a, o) in enumerate(zip(args, originals))
                if o is not None and not np.array_equal(a, o, equal_nan=True)]
    out: list[bytes] = []
    reply = {"ok": True, "value": encode(value, out), "elapsed": elapsed, "modified": modified,
             "forbidden": guard.hit}
    if counter is not None:
        reply.update(lines=counter.lines, einsum_unoptimized=counter.einsum_unoptimized)
    return reply, out


def serve(read_exact, proto_out: BinaryIO, namespace: dict) -> None:
    """Answer requests until the grader hangs up. `load` replaces the namespace; `bind` keeps it
    (a notebook kernel whose cells already ran) and reports which functions it defines."""
    while True:
        try:
            request, blobs = read_frame(read_exact)
        except EOFError:
            return
        out: list[bytes] = []
        if request["op"] == "load":
            namespace, reply = _load(request)
        elif request["op"] == "bind":
            reply = {"ok": True, "defined": _defined(namespace, request["functions"])}
        else:
            reply, out = _call(namespace, request, blobs)
        sys.stdout.flush()
        write_frame(proto_out, reply, out)


def _limit(memory_mb: int, cpu_s: int, file_mb: int, open_files: int) -> None:
    import resource

    mb = 2**20
    for key, value in ((resource.RLIMIT_AS, memory_mb * mb), (resource.RLIMIT_CPU, cpu_s),
                       (resource.RLIMIT_FSIZE, file_mb * mb), (resource.RLIMIT_NOFILE, open_files),
                       (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(key, (value, value))


def serve_socket(path: str, namespace: dict) -> None:
    """Kernel mode: serve the kernel's own namespace over the grader's Unix socket."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    stream = sock.makefile("rwb")

    def read_exact(n: int) -> bytes:
        data = stream.read(n)
        if data is None or len(data) != n:
            raise EOFError
        return data

    serve(read_exact, stream, namespace)


def main() -> None:
    _limit(*(int(a) for a in sys.argv[1:5]))
    # The protocol keeps private copies of stdin/stdout; the learner's prints go to stderr, which
    # the grader captures, so nothing a learner prints can be mistaken for a reply.
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)

    def read_exact(n: int) -> bytes:
        data = proto_in.read(n)
        if data is None or len(data) != n:
            raise EOFError
        return data

    serve(read_exact, proto_out, {})


if __name__ == "__main__":
    main()
