"""No new programs: a seccomp filter that makes execve and execveat fail with EPERM.

Installed by the `.py` worker and the notebook kernel after they start and before any learner
code runs, for every thread of the process and all its future children (seccomp filters are
inherited and cannot be removed). Without it a learner could start a fresh interpreter, where no
function is withheld, and compute with it; with it `subprocess`, `os.system`, `os.exec*`,
`posix_spawn` and a raw execve through ctypes all fail with PermissionError, and so does a
notebook's `!cmd`. fork and threads still work: they run no new program.

This file runs inside the sandbox as source text (the grader's package is not importable there),
so it imports only the standard library. The filter is a hand-written classic BPF program: the
native architecture's execve and execveat numbers are refused, so is every system call made
through another ABI (i386 `int 0x80` or x32 numbers on x86_64), everything else is allowed.
"""

from __future__ import annotations

import ctypes
import platform
import struct
import sys

# machine -> (AUDIT_ARCH, execve, execveat, seccomp, numbers at or above this are another ABI)
_ARCHES = {
    "x86_64": (0xC000003E, 59, 322, 317, 0x40000000),
    "aarch64": (0xC00000B7, 221, 281, 277, 0xFFFFFFFF),
}
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | 1


def supported() -> bool:
    """Can the filter be installed on this machine (Linux on x86_64 or aarch64)?"""
    return sys.platform == "linux" and platform.machine() in _ARCHES


def program(machine: str) -> bytes:
    """The filter for `machine`, as the kernel reads it: struct sock_filter entries."""
    arch, execve, execveat, _, foreign = _ARCHES[machine]
    # (code, jump if true, jump if false, k); jumps count the instructions skipped.
    steps = [
        (_LD_W_ABS, 0, 0, 4),          # seccomp_data.arch
        (_JEQ_K, 0, 5, arch),          # another ABI: refuse
        (_LD_W_ABS, 0, 0, 0),          # seccomp_data.nr
        (_JGE_K, 3, 0, foreign),       # x32 numbers: refuse
        (_JEQ_K, 2, 0, execve),
        (_JEQ_K, 1, 0, execveat),
        (_RET_K, 0, 0, _ALLOW),
        (_RET_K, 0, 0, _EPERM),
    ]
    return b"".join(struct.pack("=HBBI", *step) for step in steps)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install() -> str | None:
    """Refuse execve and execveat in this process, its threads and its future children from now
    on. None once installed, else why not (an unsupported machine); OSError if the kernel
    refuses a filter it should take."""
    if not supported():
        return f"no exec filter on {sys.platform} {platform.machine()}"
    machine = platform.machine()
    code = program(machine)
    prog = _Program(len(code) // 8, code)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    # seccomp(2) rather than prctl(PR_SET_SECCOMP): TSYNC puts the filter on the threads that
    # already run too (a kernel's I/O and control threads).
    done = libc.syscall(ctypes.c_long(_ARCHES[machine][3]), ctypes.c_ulong(_SECCOMP_SET_MODE_FILTER),
                        ctypes.c_ulong(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if done != 0:
        raise OSError(ctypes.get_errno(), f"seccomp filter refused ({done})")
    return None
