"""The ladder of hints of an exercise (`exercises/<slug>/hints.toml`), shown one at a time."""

from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader.models import Exercise
from grader.practice.questions import QuestionError


def load(exercise: Exercise) -> list[str]:
    """The hints, first step first; QuestionError when the file is missing or malformed."""
    path = exercise.path / "hints.toml"
    try:
        hints = tomllib.loads(path.read_text()).get("hints")
    except FileNotFoundError:
        raise QuestionError(f"{exercise.slug} has no hints ({path.name})") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise QuestionError(f"{path}: {exc}") from None
    if not isinstance(hints, list) or not hints or not all(isinstance(h, str) and h for h in hints):
        raise QuestionError(f"{path}: `hints` must be a non-empty list of strings")
    return hints
