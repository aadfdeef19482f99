"""Atomic writes, and results read back from their documents."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.models import (
    CellError,
    Diagnosis,
    Finding,
    FunctionFindings,
    GradeResult,
    Performance,
    QuizScore,
    Speed,
    TestResult,
)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a kill never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_from_json(doc: dict) -> GradeResult:
    """Rebuild a `GradeResult` from its result document (for reused submissions)."""

    def diagnosis(d: dict | None) -> Diagnosis | None:
        return Diagnosis(**d) if d else None

    tests = tuple(TestResult(**{**t, "diagnosis": diagnosis(t.get("diagnosis"))})
                  for t in [*doc.get("tests", []), *doc.get("extras", [])])
    perfs = tuple(Performance(**{**p, "diagnosis": diagnosis(p.get("diagnosis"))})
                  for p in doc.get("performances", []))
    fields = {k: doc[k] for k in ("exercise", "submission", "status", "score", "max_score",
                                  "message", "isolation", "duration_s") if k in doc}
    worst = max(perfs, key=lambda p: p.ratio_to_reference, default=None)
    quiz = doc.get("quiz")
    return GradeResult(**fields, tests=tests, performances=perfs, performance=worst,
                       cell_errors=tuple(CellError(**c) for c in doc.get("cell_errors", [])),
                       functions=tuple(_function_from_json(f) for f in doc.get("functions", [])),
                       quiz=QuizScore(**{k: tuple(v) if isinstance(v, list) else v
                                         for k, v in quiz.items()}) if quiz else None)


def _function_from_json(doc: dict) -> FunctionFindings:
    findings = tuple(Finding(**{**{k: v for k, v in f.items() if k != "heatmap"},
                                "tests": tuple(f.get("tests", ()))})
                     for f in doc.get("findings", []))
    speed = Speed(**doc["speed"]) if doc.get("speed") else None
    return FunctionFindings(**{**doc, "findings": findings, "speed": speed})
