"""Finding exercise folders and loading their `exercise.toml` strictly into `Exercise` objects."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader import sandbox
from grader.models import Exercise, Limits

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("core", "edge", "extended")
_KEYS = {"title", "summary", "functions", "order", "points", "limits", "forbidden", "extra_tests"}
_LIMIT_KEYS = {f.name for f in fields(Limits)}


class ExerciseError(Exception):
    """An exercise that cannot be found or whose metadata is invalid; the message is one line."""


def exercises_dir() -> Path:
    """The bundled exercises, or the ones in the current directory when run from a checkout."""
    for candidate in (ROOT / "exercises", Path.cwd() / "exercises"):
        if candidate.is_dir():
            return candidate
    raise ExerciseError("no exercises/ folder found")


def discover() -> list[Exercise]:
    """Every exercise folder, in catalogue order (each exercise's `order`, then its slug)."""
    folders = [p for p in exercises_dir().iterdir() if (p / "exercise.toml").is_file()]
    return sorted((load(p) for p in folders), key=lambda e: (e.order, e.slug))


def resolve(target: str) -> Exercise:
    """An exercise from a folder path (`exercises/conv1d`) or a bare slug (`conv1d`)."""
    path = Path(target)
    if not (path / "exercise.toml").is_file():
        path = exercises_dir() / target
    if not (path / "exercise.toml").is_file():
        known = ", ".join(e.slug for e in discover())
        raise ExerciseError(f"unknown exercise {target!r} (known: {known})")
    return load(path)


def load(folder: Path) -> Exercise:
    meta_path = folder / "exercise.toml"
    try:
        meta = tomllib.loads(meta_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExerciseError(f"{meta_path}: {exc}") from None
    _reject_unknown(meta_path, "", meta, _KEYS)
    _reject_unknown(meta_path, "points.", meta.get("points", {}), set(TIERS))
    _reject_unknown(meta_path, "limits.", meta.get("limits", {}), _LIMIT_KEYS)
    try:
        functions = tuple(str(f) for f in meta["functions"])
        forbidden = {k: tuple(v) for k, v in meta.get("forbidden", {}).items()}
        return Exercise(
            slug=folder.resolve().name,
            title=str(meta["title"]),
            summary=str(meta.get("summary", "")),
            path=folder.resolve(),
            functions=functions,
            points={tier: float(p) for tier, p in meta["points"].items()},
            limits=Limits(**meta.get("limits", {})),
            forbidden=forbidden,
            order=int(meta["order"]),
            extra_tests=_extra_tests(meta_path, meta.get("extra_tests", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ExerciseError(f"{meta_path}: missing or invalid key {exc}") from None


def _extra_tests(meta_path: Path, names: list[str]) -> tuple[Path, ...]:
    """The instructor's test files, relative to the exercise folder; each must exist. Their
    folders are hidden from every worker from now on, before any learner code can start."""
    paths = tuple((meta_path.parent / str(name)).resolve() for name in names)
    for path in paths:
        if path.suffix != ".py" or not path.is_file():
            raise ExerciseError(f"{meta_path}: extra_tests: no such test file {path}")
    sandbox.hide(*(p.parent for p in paths))
    return paths


def _reject_unknown(path: Path, prefix: str, table: dict, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ExerciseError(f"{path}: unknown key {prefix}{unknown[0]}")
