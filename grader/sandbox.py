"""The sandbox around learner code: bubblewrap where the machine has it, process limits otherwise,
and one resource envelope (memory, CPU, processes) per worker wherever the host's cgroups
allow it.

With bubblewrap, a worker (the `.py` worker and the notebook kernel alike) sees an allowlisted
root: the system folders (`/usr` and the `/bin`, `/lib*` links or folders), the Python
installation in use and nothing else of the host, all read-only; no `/etc`, no home, no project
tree, no output folder (a folder created while workers run is not visible either). It gets a
fresh size-capped tmpfs as `/tmp`, which is its working directory; a small `/dev/shm` and a
read-only `/dev`; no network; its own pid, ipc and uts namespaces; no capabilities, as an
unprivileged uid; and only the environment variables given here. Without bubblewrap the worker
still runs in its own session with resource limits, a scratch directory and a cleaned
environment: "isolation: basic", which every report states.

The resource envelope (`envelope`) is a cgroup per worker or kernel that limits all of its
processes together, each resource where the host's cgroups allow it:
- memory, counting its tmpfs files and shared memory too: cgroup v2 `memory.max`, else cgroup v1
  `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`), else only the per-process
  address-space limit;
- CPU (`Limits.cpus`, one CPU by default), so that busy children cannot slow down the timed calls
  of the other workers of a batch: cgroup v2 `cpu.max`, else cgroup v1 `cpu.cfs_quota_us` over
  `cpu.cfs_period_us`, else only the per-process CPU-time limit;
- the number of processes and threads (`Limits.processes`): cgroup v2 or v1 `pids.max`, else
  none: RLIMIT_NPROC counts every process of the user (the grader's own, its other workers')
  and does not apply to root, so it cannot stand in.
Each resource uses cgroup v2 where this process may create a child group with its controller,
else its cgroup v1 hierarchy; `description()` names what applies.
"""

from __future__ import annotations

import ctypes
import importlib.util
import itertools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader import noexec, scratch
from grader.models import Limits

ROOT = Path(__file__).resolve().parent.parent
TMP_SIZE = 64 * 2**20
SHM_SIZE = 4 * 2**20
# A tmpfs over a hidden folder only has to hold mount points.
MASK_SIZE = 64 * 2**10
# A kernel's socket folder holds its connection file and five sockets; without bubblewrap it is
# also the kernel's working folder and home, sized like the sandbox's /tmp.
SOCKET_DIR_SIZE = 4 * 2**20
SOCKET_DIR_INODES = 512
WORKDIR = "/tmp/work"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Masked inside the Python installation: in a non-editable install these packages live in
# site-packages, which the worker must see. Workers import nothing of the grader's package.
SECRET_PACKAGES = ("grader", "solutions")


@cache
def bwrap() -> str | None:
    """The bubblewrap binary, if present and able to build a sandbox on this machine."""
    path = shutil.which("bwrap")
    if path is None or _switched_off():
        return None
    probe = subprocess.run([*_prefix(path, [], None, {}), "/bin/true"], capture_output=True,
                           timeout=30)
    return path if probe.returncode == 0 else None


def _switched_off() -> bool:
    return os.environ.get("CONVGRADE_SANDBOX") == "off"


def isolation() -> str:
    """"sandbox" when learner code runs under bubblewrap, else "basic"."""
    return "sandbox" if bwrap() else "basic"


def why_basic() -> str:
    """Why learner code runs without bubblewrap, in a few words for a warning."""
    return "sandbox off (CONVGRADE_SANDBOX=off)" if _switched_off() else "bubblewrap not available"


# How each resource is limited when no cgroup applies, as reports name it.
_WITHOUT_CGROUP = {"memory": "per process", "cpu": "per process", "pids": "not limited"}
_NAMES = {"memory": "memory", "cpu": "cpu", "pids": "processes"}


def description() -> str:
    """The isolation and where each limit applies, as reports state them: e.g.
    "sandbox, memory: cgroup v1, cpu: cgroup v1, processes: cgroup v1" (the whole worker) or
    "basic, memory: per process, cpu: per process, processes: not limited"; on a machine where
    workers cannot be kept from starting programs, ", programs: not blocked"."""
    parts = [isolation()]
    for resource in RESOURCES:
        found = _hierarchy(resource)
        parts.append(f"{_NAMES[resource]}: {found[0] if found else _WITHOUT_CGROUP[resource]}")
    text = ", ".join(parts)
    return text if noexec.supported() else f"{text}, programs: not blocked"


_HIDDEN: set[Path] = set()


def hide(*paths: Path) -> None:
    """Also hide these folders from every worker started from now on, should they lie inside a
    folder that workers see (the Python installation); elsewhere they are not visible anyway."""
    _HIDDEN.update(p.resolve() for p in paths)


def _python_dirs() -> list[str]:
    """Where the interpreter and its packages live: bound read-only into the sandbox."""
    paths = sorted({sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
                    sysconfig.get_paths()["platlib"], str(Path(sys.executable).resolve().parent)})
    return [p for p in paths if not any(Path(p).is_relative_to(q) and p != q for q in paths)]


def _system_args() -> list[str]:
    args = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args


def _prefix(binary: str, hidden: list[Path], shared: Path | None, env: dict[str, str]) -> list[str]:
    # bubblewrap's own root is an empty tmpfs: mount what is allowed on it, mask the secrets that
    # sit inside what is allowed, then make the root and /dev read-only.
    args = [binary, *_system_args(), "--dev", "/dev", "--size", str(SHM_SIZE), "--tmpfs",
            "/dev/shm", "--remount-ro", "/dev", "--proc", "/proc",
            "--size", str(TMP_SIZE), "--tmpfs", "/tmp", "--dir", WORKDIR]
    python_dirs = _python_dirs()
    visible = [Path(p) for p in python_dirs] + [Path(p) for p in SYSTEM_DIRS]
    for path in python_dirs:
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    masks = sorted({*_HIDDEN, *hidden, *(ROOT / s for s in SECRET_PACKAGES)})
    for path in masks:  # an empty folder in place of each, read-only like the rest
        if path.is_dir() and any(path.is_relative_to(v) for v in visible):
            args += ["--size", str(MASK_SIZE), "--tmpfs", str(path), "--remount-ro", str(path)]
    if shared is not None:
        args += ["--bind", str(shared), str(shared)]
    args += ["--remount-ro", "/", "--unshare-all", "--unshare-user", "--uid", "65534",
             "--gid", "65534", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--clearenv", "--chdir", WORKDIR]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


@cache
def package_dirs(names: tuple[str, ...]) -> tuple[Path, ...]:
    """The installed folders of the packages (other than numpy) that the dotted function `names`
    live in: masked in the sandbox, so that a forbidden package's files cannot be loaded by path
    either. Found without importing them."""
    found = []
    for package in sorted({name.partition(".")[0] for name in names} - {"numpy"}):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            found += [Path(p) for p in spec.submodule_search_locations]
    return tuple(found)


def wrap(command: list[str], env: dict[str, str], shared: Path | None = None,
         hidden: tuple[Path, ...] = ()) -> list[str]:
    """`command` run in the sandbox with exactly `env`; `shared` is the one host folder it may
    write to (a notebook kernel's sockets); `hidden` are extra folders to hide. Without
    bubblewrap the command is returned as it is."""
    binary = bwrap()
    if binary is None:
        return command
    # No /etc/passwd inside: getpass finds the user name in the environment instead.
    inside = {**env, "HOME": WORKDIR, "TMPDIR": "/tmp", "LOGNAME": "nobody"}
    return [*_prefix(binary, list(hidden), shared, inside), "--", *command]


RESOURCES = ("memory", "cpu", "pids")
CPU_PERIOD_US = 100_000


def _cgroup_parents(proc_cgroup: str, mountinfo: str,
                    controller: str = "memory") -> list[tuple[str, Path]]:
    """Where this process's own cgroups that may hold `controller` are, best first:
    ("cgroup v2" | "cgroup v1", folder).

    `proc_cgroup` is /proc/self/cgroup, `mountinfo` /proc/self/mountinfo."""
    own: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        number, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if number != "0" else ["unified"]:
            own[name] = path
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        after = line.split(" - ", 1)[1].split()
        if len(after) < 3:
            continue
        fstype, options = after[0], after[2].split(",")
        mount_root, mount_point = fields[3], fields[4]
        name = "unified" if fstype == "cgroup2" else controller if (
            fstype == "cgroup" and controller in options) else None
        if name is None or name not in own:
            continue
        relative = os.path.relpath(own[name], mount_root)
        if relative.startswith(".."):
            continue
        kind = "cgroup v2" if name == "unified" else "cgroup v1"
        found.append((kind, Path(mount_point, relative).resolve()))
    return sorted(found, key=lambda kf: kf[0], reverse=True)


_GROUPS = itertools.count()


def _make_group(parent: Path) -> Path:
    """A fresh child group of `parent`."""
    group = parent / f"convgrade-{os.getpid()}-{next(_GROUPS)}"
    group.mkdir()
    return group


def _set_limit(kind: str, group: Path, resource: str, limits: Limits) -> None:
    """Limit `resource` in `group` to what `limits` allow; OSError if the host refuses."""
    if kind == "cgroup v2" and resource not in (group / "cgroup.controllers").read_text().split():
        raise OSError(f"the {resource} controller is not delegated here")
    memory, quota = limits.memory_mb * 2**20, int(limits.cpus * CPU_PERIOD_US)
    # What must be written, then what is written where it exists: swap is not accounted everywhere.
    required, optional = {
        ("cgroup v2", "memory"): ({"memory.max": memory}, {"memory.swap.max": 0}),
        ("cgroup v2", "cpu"): ({"cpu.max": f"{quota} {CPU_PERIOD_US}"}, {}),
        ("cgroup v1", "memory"): ({"memory.limit_in_bytes": memory},
                                  {"memory.memsw.limit_in_bytes": memory}),
        ("cgroup v1", "cpu"): ({"cpu.cfs_period_us": CPU_PERIOD_US, "cpu.cfs_quota_us": quota}, {}),
    }.get((kind, resource), ({"pids.max": limits.processes}, {}))
    for name, value in required.items():
        (group / name).write_text(str(value))
    for name, value in optional.items():
        if (group / name).exists():
            (group / name).write_text(str(value))


def _remove_group(group: Path) -> None:
    """Kill whatever is left in the group, then remove it (its charges go to the parent)."""
    for _ in range(100):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


@cache
def _hierarchy(resource: str) -> tuple[str, Path] | None:
    """The cgroup kind and parent folder where per-worker groups limit `resource`, or None:
    probed once."""
    if os.environ.get("CONVGRADE_CGROUP") == "off":
        return None
    try:
        parents = _cgroup_parents(Path("/proc/self/cgroup").read_text(),
                                  Path("/proc/self/mountinfo").read_text(), resource)
    except (OSError, ValueError):
        return None
    for kind, parent in parents:
        try:
            group = _make_group(parent)
        except OSError:
            continue
        try:
            _set_limit(kind, group, resource, Limits())
        except OSError:
            continue
        finally:
            _remove_group(group)
        _sweep(parent)
        return kind, parent
    return None


def _sweep(parent: Path) -> None:
    """Remove the empty groups of graders that died without cleaning up (killed, or crashed)."""
    for group in parent.glob("convgrade-*-*"):
        creator = group.name.split("-")[1]
        if creator.isdigit() and not Path("/proc", creator).exists():
            try:
                group.rmdir()
            except OSError:
                pass


@dataclass
class Envelope:
    """The limits around one worker or kernel and all it starts: one group per cgroup hierarchy
    in use (one in all with cgroup v2). `enter` prefixes a command so that it joins every group
    before it runs anything; `close` kills what is left in the groups and removes them. Without
    a usable cgroup both do nothing."""

    groups: list[Path] = field(default_factory=list)

    def enter(self, command: list[str]) -> list[str]:
        if not self.groups:
            return command
        # The shell writes its own pid, then becomes the command: nothing runs outside the groups.
        joins = " && ".join(f'echo $$ > "${i}"' for i in range(len(self.groups)))
        shift = f" && shift {len(self.groups) - 1}" if len(self.groups) > 1 else ""
        return ["/bin/sh", "-c", f'{joins}{shift} && exec "$@"',
                *(str(g / "cgroup.procs") for g in self.groups), *command]

    def close(self) -> None:
        for group in self.groups:
            _remove_group(group)
        self.groups = []


def envelope(limits: Limits) -> Envelope:
    """The envelope of `limits` (memory, CPU, processes) for a worker about to start: each
    resource in a group of the hierarchy probed for it, resources of one hierarchy in one group."""
    made = Envelope()
    by_parent: dict[Path, Path] = {}
    try:
        for resource in RESOURCES:
            found = _hierarchy(resource)
            if found is None:
                continue
            kind, parent = found
            if parent not in by_parent:
                by_parent[parent] = _make_group(parent)
                made.groups.append(by_parent[parent])
            _set_limit(kind, by_parent[parent], resource, limits)
    except OSError:
        made.close()
        return Envelope()
    return made


_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MNT_DETACH = 2, 4, 8, 2


def capped_folder(prefix: str, size: int) -> Path:
    """A fresh private folder on the host, on its own tmpfs of `size` bytes when this process may
    mount one (root), so that what a sandboxed writer puts there is bounded in total, not per file.
    The tmpfs is named after this process, so that a later grader removes it should this one
    die before `remove_folder`."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        _sweep_folders()
        libc = ctypes.CDLL(None, use_errno=True)
        options = f"size={size},nr_inodes={SOCKET_DIR_INODES},mode=0700"
        libc.mount(f"convgrade-{os.getpid()}".encode(), str(folder).encode(), b"tmpfs",
                   _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options.encode())
    return folder


@cache
def _sweep_folders() -> None:
    """Remove the capped folders of graders that died without removing them."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, after = line.split(" - ", 1)[0].split(), line.split(" - ", 1)[1].split()
        creator = after[1].removeprefix("convgrade-") if after[0] == "tmpfs" else ""
        if after[1].startswith("convgrade-") and creator.isdigit() \
                and not Path("/proc", creator).exists():
            remove_folder(Path(fields[4]))


def remove_folder(folder: Path) -> None:
    """Remove a `capped_folder` (its tmpfs goes at once, however deep the tree in it)."""
    if os.path.ismount(folder):
        ctypes.CDLL(None, use_errno=True).umount2(str(folder).encode(), _MNT_DETACH)
    scratch.remove(folder)
