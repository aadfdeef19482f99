"""Finding a class's submissions and the exercise each one is for."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader import grade
from grader.models import Exercise, GradeResult, utf8_text

SUFFIXES = (".ipynb", ".py")


_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


_SAFE_PART = re.compile(r"[A-Za-z0-9.-]([A-Za-z0-9._-]*[A-Za-z0-9.-])?")


# A `def` at the start of a line. No part of it can cross a line end, so a search over a whole
# file is linear: no run of blank lines is rescanned from every line that starts it.
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.M)


@dataclass(frozen=True)
class Submission:
    """One submitted file: its name in reports, where it is, and the key its outputs live under."""

    name: str
    path: Path
    key: str
    problem: str = ""  # why it cannot be graded at all (a symlink, not a regular file, ...)


def find(paths: Iterable[Path]) -> list[Submission]:
    """Every `.ipynb`/`.py` file under the given files and folders, in a stable order.

    Symlinks and special files are kept as submissions with a problem, never followed: a
    submission must not make the grader read a file outside it.
    """
    found: list[tuple[str, Path, str]] = []
    for root in paths:
        if root.is_symlink() or not root.is_dir():
            found.append((root.name, root, _problem(root)))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if path.suffix in SUFFIXES:
                    found.append((str(path.relative_to(root)), path, _problem(path)))
    counts: dict[str, int] = {}
    for name, _, _ in found:
        counts[name] = counts.get(name, 0) + 1
    # The key comes from the raw path (two names that differ only in undecodable bytes keep two
    # folders); the name shown everywhere is valid Unicode.
    return [Submission(name=utf8_text(name), path=path, problem=problem,
                       key=report_key(name if counts[name] == 1 else str(path.absolute())))
            for name, path, problem in found]


def report_key(name: str) -> str:
    """The folder a submission's reports live in, from its relative path alone: never from the
    other submissions or the order they were found in, so a rerun keeps every report in place.
    A path whose folder name would be ambiguous (unsafe characters, `__`, `_` at the edge of a
    part, too long) gets a hash of the path instead of a counter."""
    parts = name.split("/")
    if all(_SAFE_PART.fullmatch(part) and "__" not in part for part in parts) and len(name) <= 120:
        return "__".join(parts)
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{_UNSAFE.sub('_', name.replace('/', '__'))[-100:]}-{digest}"


def _problem(path: Path) -> str:
    if path.is_symlink():
        return "symbolic links are not graded"
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix not in SUFFIXES:
        return "not a .ipynb or .py file"
    return ""


def infer_exercise(path: Path, catalogue: list[Exercise]) -> Exercise | None:
    """A notebook's exercise from its metadata; a `.py` file's from the functions it defines.

    The size is checked before anything is read, and a `.py` file is scanned once for its `def`
    lines (wherever they are, even in a file that does not parse): linear time in its size."""
    limit = grade.MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else grade.MAX_SOURCE_BYTES
    try:
        if path.stat().st_size > limit:
            return None
        with open(path, "rb") as handle:
            # Latin-1 never fails: a file that is not UTF-8 is still matched to its exercise, so
            # that its report can say what is wrong with it.
            text = handle.read(limit).decode("latin-1")
    except OSError:
        return None
    by_slug = {e.slug: e for e in catalogue}
    if path.suffix == ".ipynb":
        try:
            slug = json.loads(text)["metadata"]["convgrade"]["exercise"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        return by_slug.get(slug) if isinstance(slug, str) else None
    defined = set(_DEF.findall(text))
    best = max(catalogue, key=lambda e: (len(defined & set(e.functions)), e.slug in path.stem))
    if defined & set(best.functions) or best.slug in path.stem:
        return best
    return None


@dataclass(frozen=True)
class Graded:
    """A submission with its result, and whether it was reused from an earlier run."""

    submission: Submission
    result: GradeResult
    reused: bool = False
