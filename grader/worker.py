"""The learner-side worker, and the wire format both sides of the boundary speak.

This file runs in two places. The grader imports it for `encode`/`decode`/`read_frame`/`write_frame`.
The worker process runs its source with `python -I -c` (see `boundary.py`), so it must only import
the standard library and numpy: the grader's package, the hidden suites and the reference
solutions are not importable from the worker, by design.

Only plain data crosses: JSON headers and raw array bytes with a whitelisted dtype. There is no
pickle in either direction. The worker never sees an expected value or a verdict; it only answers
"what does the learner's function return for these inputs". A call's input arrays are not sent in
the frame: the grader writes them into a memory file it shares with the worker (`arena`), the
learner's arrays are views of it, and after the call the grader reads that memory back itself to
see whether the learner wrote into its inputs. Nothing the worker says about that is trusted.
"""

from __future__ import annotations

import dis
import gc
import importlib.abc
import importlib.machinery
import json
import mmap
import os
import signal
import struct
import sys
import traceback
import types
from typing import Any, BinaryIO

import numpy as np

MAX_FRAME = 256 * 1024 * 1024
# What the grader accepts back from a worker: a header is a few hundred bytes of JSON (capped
# learner text included), arrays are outputs of at most a few MiB.
MAX_REPLY_HEADER = 1024 * 1024
MAX_REPLY = 64 * 1024 * 1024
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


def read_frame(read_exact, max_header: int = MAX_FRAME,
               max_total: int = MAX_FRAME) -> tuple[dict, list[bytes]]:
    """Read one frame with `read_exact(n) -> bytes`; sizes are checked before anything is read."""
    head_len, n_blobs = struct.unpack(">II", read_exact(8))
    if head_len > max_header or n_blobs > 4096:
        raise WireError(f"reply header larger than {max_header // 1024} KiB")
    header = json.loads(read_exact(head_len))
    if not isinstance(header, dict):
        raise WireError("frame header is not an object")
    blobs, total = [], head_len
    for _ in range(n_blobs):
        (size,) = struct.unpack(">Q", read_exact(8))
        total += size
        if total > max_total:
            raise WireError(f"reply larger than {max_total // 2**20} MiB")
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
    """Rebuild a value from `encode`'s description: fresh base-class ndarrays, plain Python values.
    Anything malformed, whatever the reason (a non-finite or huge shape, a bad index), is a
    `WireError`: a forged reply can make the value unusable, never the grader fail."""
    try:
        return _decode(tree, blobs, 0)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001 - a forged tree can raise anything while being read
        raise WireError(f"malformed value ({type(exc).__name__})") from None


def _decode(tree: Any, blobs: list[bytes], depth: int) -> Any:
    if not isinstance(tree, dict) or not isinstance(tree.get("t"), str) or depth > 32:
        raise WireError("malformed value")
    kind = tree["t"]
    if kind in ("array", "npscalar"):
        dtype = np.dtype(str(tree["dtype"])[:16])
        shape = tuple(_count(n) for n in tree["shape"][:64])
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or len(shape) != len(tree["shape"]):
            raise WireError("array with a forbidden dtype or shape")
        data = blobs[_count(tree["i"])]
        size = dtype.itemsize
        for n in shape:  # Python integers: no int64 wrap-around can make a huge shape match
            size *= n
        if len(data) != size:
            raise WireError("array bytes do not match its shape")
        arr = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        return arr if kind == "array" else arr[()]
    if kind in ("tuple", "list"):
        items = [_decode(item, blobs, depth + 1) for item in tree["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind in ("NoneType", "bool", "int", "float", "str"):
        value = tree["v"]
        if kind == "float" and isinstance(value, str):
            return float(value[:40])
        return value[:200] if isinstance(value, str) else value
    if kind == "other":
        return Opaque(str(tree.get("type", "object"))[:80])
    raise WireError(f"unknown value kind {kind[:40]!r}")


def _count(n: Any) -> int:
    if type(n) is not int or not 0 <= n < 2**40:
        raise WireError("array with a forbidden dtype or shape")
    return n


class Opaque:
    """Stands in the grader for a learner object that could not cross (only its type name did)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


# ---------------------------------------------------------------------------------------------
# Everything below runs only inside the worker process.


class ForbiddenCall(Exception):
    """Raised in place of a function the exercise forbids; its message is the function's name."""


# The C functions behind numpy's public convolutions: withheld with them, or the learner would
# call `numpy._core.multiarray.correlate` instead.
_NATIVE = {"numpy.convolve": ("correlate", "correlate2"), "numpy.correlate": ("correlate", "correlate2")}


class _Withheld(types.ModuleType):
    """What a forbidden package imports as: none of its code, only names. Any of its functions
    (any attribute, at any depth) raises ForbiddenCall when called, so a file that imports it
    still loads and only the functions that use it fail, with a clear verdict."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []

    def __getattr__(self, attr: str) -> _Withheld:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Withheld(f"{self.__name__}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise ForbiddenCall(self.__name__)


class _Blocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Asked before any other finder: the forbidden packages import as `_Withheld` stand-ins."""

    def __init__(self, packages: set[str]) -> None:
        self.packages = packages

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.packages:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Withheld(spec.name)

    def exec_module(self, module):
        return None


def _stub(name: str):
    def forbidden(*args, **kwargs):
        raise ForbiddenCall(name)

    forbidden.__name__ = forbidden.__qualname__ = name.rpartition(".")[2]
    return forbidden


def withhold(names: list[str]) -> None:
    """Make the forbidden functions unreachable before learner code loads: no code of a package
    other than numpy can be imported at all (it imports as a stand-in), and each forbidden numpy
    function (with its implementation and the C functions behind it) is replaced by a stub
    wherever anything refers to it, in every module and table numpy keeps. A learner who
    rebuilds one from native code, or loads a package's files by path, is not stopped."""
    packages = {name.partition(".")[0] for name in names} - {"numpy"}
    if packages:
        sys.meta_path.insert(0, _Blocker(packages))
        for module in [m for m in sys.modules if m.partition(".")[0] in packages]:
            del sys.modules[module]
    targets: dict[int, Any] = {}
    stubs: dict[int, Any] = {}
    for name in (n for n in names if n.partition(".")[0] == "numpy"):
        module_name, _, attr = name.rpartition(".")
        found = getattr(sys.modules.get(module_name), attr, None)
        natives = [getattr(np._core._multiarray_umath, n, None) for n in _NATIVE.get(name, ())]
        for obj in (found, getattr(found, "_implementation", None), *natives):
            if obj is not None:
                targets.setdefault(id(obj), obj)
                stubs.setdefault(id(obj), _stub(name))
    if not targets:
        return
    for holder in gc.get_referrers(*targets.values()):
        if isinstance(holder, dict):
            for key, value in list(holder.items()):
                if id(value) in targets:
                    holder[key] = stubs[id(value)]
        elif isinstance(holder, set):
            holder.difference_update([v for v in holder if id(v) in targets])


def _shared_array(tree: dict, arena: mmap.mmap | None) -> np.ndarray:
    """A learner input as a view of the grader's memory file, laid out as the grader wrote it."""
    dtype, shape = np.dtype(tree["dtype"]), tuple(tree["shape"])
    if arena is None or tree["n"] == 0:
        arr = np.zeros(shape, dtype)
    else:
        arr = np.ndarray(shape, dtype, buffer=arena, offset=tree["at"], strides=tuple(tree["strides"]))
    if tree.get("readonly"):
        arr.flags.writeable = False
    return arr


def _inputs(tree: Any, blobs: list[bytes], arena: mmap.mmap | None) -> Any:
    if isinstance(tree, dict) and tree.get("t") == "shared":
        return _shared_array(tree, arena)
    if isinstance(tree, dict) and tree.get("t") in ("tuple", "list"):
        items = [_inputs(item, blobs, arena) for item in tree["v"]]
        return tuple(items) if tree["t"] == "tuple" else items
    return decode(tree, blobs)


_LEARNER_FILES: set[str] = set()


def _learner_traceback(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in _LEARNER_FILES]
    lines = [f"{f.filename}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"[:300]
             for f in frames[-5:]]
    return "\n".join(lines)


_RAISES = {dis.opmap[name] for name in ("RAISE_VARARGS", "RERAISE") if name in dis.opmap}


# What IPython compiles a `%%time` / `%time` cell's code as: still the learner's own code.
_MAGIC_CELLS = ("<timed exec>", "<timed eval>")


def _is_learner_file(name: str) -> bool:
    """Code the submission brought (its file or cells), not the standard library, an installed
    package (numpy, scipy...) or this worker (compiled from a string: `<string>`)."""
    if name in _LEARNER_FILES or name in _MAGIC_CELLS:
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


def _error(exc: BaseException) -> dict:
    return {
        "ok": False,
        "type": type(exc).__name__[:80],
        "raised_by_learner": _raised_by_learner(exc),
        "mro": [c.__name__ for c in type(exc).__mro__][:20],
        "message": str(exc)[:2000],
        "traceback": _learner_traceback(exc)[:4000],
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


def _ipython_transformer():
    """IPython syntax (magics, `!cmd`) as plain Python, for notebook cells replayed here."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return lambda source: source
    return TransformerManager().transform_cell


def _load(request: dict) -> tuple[dict, dict]:
    """Run the learner's code: a whole file (any error is fatal), or notebook cells one by one,
    where a failing or overlong cell is skipped as it would be in Jupyter."""
    withhold(request.get("forbidden", []))
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
    transform = _ipython_transformer() if request.get("ipython") else (lambda source: source)
    for cell in cells:
        _LEARNER_FILES.add(cell["name"])
        signal.setitimer(signal.ITIMER_REAL, float(request["cell_timeout_s"]))
        try:
            exec(compile(transform(cell["source"]), cell["name"], "exec"), namespace)
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


def _call(namespace: dict, request: dict, blobs: list[bytes], arena_fd: int | None) -> tuple[dict, list]:
    size = int(request.get("arena", 0))
    arena = mmap.mmap(arena_fd, size) if size and arena_fd is not None else None
    args = [_inputs(tree, blobs, arena) for tree in request["args"]]
    kwargs = {key: _inputs(tree, blobs, arena) for key, tree in request["kwargs"].items()}
    del arena  # the arrays keep the mapping alive as long as the learner keeps them
    owners = [*enumerate(args), *kwargs.items()]
    views = [(owner, _view(value)) for owner, value in owners]
    counter = _LineCounter() if request.get("count_lines") else None
    try:
        if counter is None:
            value = namespace[request["function"]](*args, **kwargs)
        else:
            with counter:
                value = namespace[request["function"]](*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        return _error(exc), []
    # An input's memory is checked by the grader itself; what only this process can see is an
    # input array object reshaped in place (`w.shape = ...`), reported here.
    reshaped = [owner for (owner, before), (_, arg) in zip(views, owners) if before != _view(arg)]
    out: list[bytes] = []
    reply = {"ok": True, "value": encode(value, out), "reshaped": reshaped}
    if counter is not None:
        reply.update(lines=counter.lines, einsum_unoptimized=counter.einsum_unoptimized)
    return reply, out


def _view(value: Any) -> Any:
    return (value.shape, value.strides, value.dtype.str) if isinstance(value, np.ndarray) else None


def serve(read_exact, proto_out: BinaryIO, namespace: dict, arena_fd: int | None) -> None:
    """Answer requests until the grader hangs up. `load` replaces the namespace; `bind` keeps it
    (a notebook kernel whose cells already ran) and reports which functions it defines. Call
    inputs are read from the memory file `arena_fd` that the grader shares."""
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
            reply, out = _call(namespace, request, blobs, arena_fd)
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
    _, fds, _, _ = socket.recv_fds(sock, 1, 1)  # the grader's memory file for call inputs
    stream = sock.makefile("rwb")

    def read_exact(n: int) -> bytes:
        data = stream.read(n)
        if data is None or len(data) != n:
            raise EOFError
        return data

    serve(read_exact, stream, namespace, fds[0] if fds else None)


def forbid_exec(noexec_source: str) -> None:
    """Install the exec filter of `grader/noexec.py`, which the grader passes as source text."""
    noexec = {"__name__": "convgrade_noexec"}
    exec(compile(noexec_source, "<convgrade noexec>", "exec"), noexec)
    noexec["install"]()


def main() -> None:
    _limit(*(int(a) for a in sys.argv[1:5]))
    forbid_exec(sys.argv[6])
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

    serve(read_exact, proto_out, {}, int(sys.argv[5]))


if __name__ == "__main__":
    main()
