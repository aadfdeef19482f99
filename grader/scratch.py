"""Removing a folder that learner code could write to, whatever it left there.

`shutil.rmtree` recurses once per level before Python 3.12 (`RecursionError` on a deep tree) and
`os.walk`/`os.fwalk` build paths that outgrow `PATH_MAX`; here one directory descriptor at a time
walks the tree, with names relative to it, and nothing raises.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove(path: Path | str) -> bool:
    """Delete `path` and everything under it, never following a symlink; True if it is gone.

    Iterative, one open descriptor per step: depth costs no stack and no path length."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            return False
        return True
    names: list[str] = []  # the way down from `path` to the folder `fd` is open on
    stuck: list[set[str]] = [set()]  # per level, the entries that could not be removed
    while True:
        child = _empty_out(fd, stuck[-1])
        if child is not None:
            try:
                inner = os.open(child, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                stuck[-1].add(child)
                continue
            os.close(fd)
            fd = inner
            names.append(child)
            stuck.append(set())
            continue
        if not names:
            os.close(fd)
            try:
                os.rmdir(path)
            except OSError:
                return False
            return True
        try:
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
        except OSError:
            os.close(fd)
            return False
        os.close(fd)
        fd, name = parent, names.pop()
        stuck.pop()
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            stuck[-1].add(name)


def _empty_out(fd: int, stuck: set[str]) -> str | None:
    """Unlink every non-directory in the folder; the first subfolder still to empty, if any."""
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.name in stuck:
                    continue
                try:
                    if stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
                        return entry.name
                    os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    stuck.add(entry.name)
    except OSError:
        pass
    return None
