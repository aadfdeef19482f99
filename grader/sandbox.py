"""The sandbox around learner code: bubblewrap where the machine has it, process limits otherwise.

With bubblewrap, a worker (the `.py` worker and the notebook kernel alike) sees a read-only root
filesystem; a fresh size-capped tmpfs as `/tmp`, which is its working directory; no home directory
but the Python installation; not the project tree, the reference solutions, the hidden suites,
the submissions or the output folder; no network; its own pid, ipc and uts namespaces; no
capabilities, as an unprivileged uid; and only the environment variables given here. Without
bubblewrap the worker still runs in its own session with resource limits, a scratch directory
and a cleaned environment: "isolation: basic", which every report states.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP_SIZE = 64 * 2**20
WORKDIR = "/tmp/work"
# Hidden again after the Python installation is bound back: in a non-editable install these
# packages live inside site-packages, which the worker must see.
SECRET_PACKAGES = ("grader/suites", "grader/variants", "solutions")


@cache
def bwrap() -> str | None:
    """The bubblewrap binary, if present and able to build a sandbox on this machine."""
    path = shutil.which("bwrap")
    if path is None or os.environ.get("CONVGRADE_SANDBOX") == "off":
        return None
    probe = subprocess.run([*_prefix(path, [], None, {}), "/bin/true"], capture_output=True,
                           timeout=30)
    return path if probe.returncode == 0 else None


def isolation() -> str:
    """"sandbox" when learner code runs under bubblewrap, else "basic"."""
    return "sandbox" if bwrap() else "basic"


_HIDDEN: set[Path] = set()


def hide(*paths: Path) -> None:
    """Also hide these folders from every worker started from now on (submissions, outputs)."""
    _HIDDEN.update(p.resolve() for p in paths)


def _python_dirs() -> list[str]:
    """Where the interpreter and its packages live: bound back read-only after the hiding."""
    paths = sorted({sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
                    sysconfig.get_paths()["platlib"], str(Path(sys.executable).resolve().parent)})
    return [p for p in paths if not any(Path(p).is_relative_to(q) and p != q for q in paths)]


def _prefix(binary: str, hidden: list[Path], shared: Path | None, env: dict[str, str]) -> list[str]:
    # Order matters: hide first (tmpfs over /tmp, the home, the project, the submissions), then
    # bind back the few things the worker needs, wherever they live.
    args = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--size", str(TMP_SIZE), "--tmpfs", "/tmp", "--dir", WORKDIR]
    tmp = Path("/tmp").resolve()
    for path in sorted({Path.home(), ROOT, *_HIDDEN, *hidden}):
        if path.exists() and tmp not in path.resolve().parents and path.resolve() != tmp:
            args += ["--tmpfs", str(path)]
    for path in _python_dirs():
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    for secret in SECRET_PACKAGES:
        if (ROOT / secret).is_dir():
            args += ["--tmpfs", str(ROOT / secret)]
    if shared is not None:
        args += ["--bind", str(shared), str(shared)]
    args += ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
             "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
             "--chdir", WORKDIR]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def wrap(command: list[str], env: dict[str, str], shared: Path | None = None,
         hidden: tuple[Path, ...] = ()) -> list[str]:
    """`command` run in the sandbox with exactly `env`; `shared` is the one host folder it may
    write to (a notebook kernel's sockets); `hidden` are extra folders to hide. Without
    bubblewrap the command is returned as it is."""
    binary = bwrap()
    if binary is None:
        return command
    inside = {**env, "HOME": WORKDIR, "TMPDIR": "/tmp"}
    return [*_prefix(binary, list(hidden), shared, inside), "--", *command]
