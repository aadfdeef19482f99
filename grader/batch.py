"""Batch grading for instructors: find submissions, grade them in parallel, write every output.

One broken submission never stops the batch: whatever happens to it becomes its result (status
"error" with a reason). Each submission's outputs are written atomically as soon as it is graded,
and a rerun skips submissions whose content and exercise are unchanged, so an interrupted batch
simply resumes. The class summary and the gradebook are rewritten from all results at the end.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from grader import exercises, grade, html, kernel
from grader.models import CellError, Diagnosis, Exercise, GradeResult, Performance, TestResult

SUFFIXES = (".ipynb", ".py")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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
    keys: set[str] = set()
    submissions = []
    for name, path, problem in found:
        key = _UNSAFE.sub("_", name.replace(os.sep, "__"))[-120:] or "submission"
        while key in keys:
            key = "_" + key
        keys.add(key)
        submissions.append(Submission(name=name, path=path, key=key, problem=problem))
    return submissions


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
    """A notebook's exercise from its metadata; a `.py` file's from the functions it defines."""
    try:
        # Latin-1 never fails: a file that is not UTF-8 is still matched to its exercise, so
        # that its report can say what is wrong with it.
        text = path.read_bytes()[: grade.MAX_NOTEBOOK_BYTES].decode("latin-1")
    except OSError:
        return None
    by_slug = {e.slug: e for e in catalogue}
    if path.suffix == ".ipynb":
        try:
            slug = json.loads(text)["metadata"]["convgrade"]["exercise"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        return by_slug.get(slug) if isinstance(slug, str) else None
    try:
        defined = {n.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef)}
    except (SyntaxError, ValueError, RecursionError):
        defined = set(re.findall(r"^\s*def\s+(\w+)\s*\(", text, re.M))
    best = max(catalogue, key=lambda e: (len(defined & set(e.functions)), e.slug in path.stem))
    if defined & set(best.functions) or best.slug in path.stem:
        return best
    return None


def content_hash(path: Path, exercise: str) -> str:
    digest = hashlib.sha256(exercise.encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a kill never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Graded:
    """A submission with its result, and whether it was reused from an earlier run."""

    submission: Submission
    result: GradeResult
    reused: bool = False


def _unknown(catalogue: list[Exercise]) -> Exercise:
    """Stands in for the exercise of a submission that cannot be matched to one."""
    return Exercise("unknown", "unknown exercise", "", Path("."), (), {"core": 100.0},
                    catalogue[0].limits)


def _grade_one(sub: Submission, override: Exercise | None, catalogue: list[Exercise],
               out: Path) -> Graded:
    exercise = override or (None if sub.problem else infer_exercise(sub.path, catalogue))
    if sub.problem or exercise is None:
        why = sub.problem or _why_no_exercise(sub.path)
        result = grade.failed(override or _unknown(catalogue), sub.name, why)
        write_submission(out, sub, result, "")
        return Graded(sub, result)
    digest = content_hash(sub.path, exercise.slug)
    saved = out / "submissions" / sub.key / "result.json"
    if saved.is_file():
        try:
            doc = json.loads(saved.read_text())
            if doc.get("content_hash") == digest:
                return Graded(sub, result_from_json(doc), reused=True)
        except (ValueError, KeyError, TypeError):
            pass
    result = grade.grade_file(exercise, sub.path, sub.name)
    write_submission(out, sub, result, digest)
    return Graded(sub, result)


def _why_no_exercise(path: Path) -> str:
    if path.suffix == ".ipynb":
        try:
            grade.read_notebook(path)
        except (OSError, ValueError) as exc:
            return str(exc)
        return "its metadata names no known exercise (metadata.convgrade.exercise); use --exercise"
    return "it defines none of the exercise functions; use --exercise"


def write_submission(out: Path, sub: Submission, result: GradeResult, digest: str) -> None:
    """The per-submission outputs: HTML report, result document, Gradescope results.json."""
    folder = out / "submissions" / sub.key
    write_atomic(folder / "report.html", html.render_report(result))
    write_atomic(folder / "results.json", json.dumps(gradescope(result), indent=2))
    write_atomic(folder / "result.json",
                 json.dumps({**result.to_json(), "content_hash": digest}, indent=2))


def result_from_json(doc: dict) -> GradeResult:
    """Rebuild a `GradeResult` from its result document (for reused submissions)."""

    def diagnosis(d: dict | None) -> Diagnosis | None:
        return Diagnosis(**d) if d else None

    tests = tuple(TestResult(**{**t, "diagnosis": diagnosis(t.get("diagnosis"))})
                  for t in doc.get("tests", []))
    perfs = tuple(Performance(**{**p, "diagnosis": diagnosis(p.get("diagnosis"))})
                  for p in doc.get("performances", []))
    fields = {k: doc[k] for k in ("exercise", "submission", "status", "score", "max_score",
                                  "message", "isolation", "duration_s") if k in doc}
    worst = max(perfs, key=lambda p: p.ratio_to_reference, default=None)
    return GradeResult(**fields, tests=tests, performances=perfs, performance=worst,
                       cell_errors=tuple(CellError(**c) for c in doc.get("cell_errors", [])))


def gradescope(result: GradeResult) -> dict:
    """The Gradescope autograder `results.json` format."""
    tests = [{"name": f"{t.function}: {t.id}", "score": t.points, "max_score": t.max_points,
              "status": "passed" if t.status == "passed" else "failed",
              "output": "\n".join(filter(None, [t.message, t.diagnosis and t.diagnosis.hint]))}
             for t in result.tests]
    return {"score": result.score, "output": result.message or f"{result.score:g}/{result.max_score:g}",
            "execution_time": result.duration_s, "tests": tests}


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(graded: list[Graded]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "exercise", "status", "score", "max_score", "tests_passed",
                     "tests_total", "cell_errors", "message", "report"])
    for g in graded:
        r = g.result
        passed = sum(t.status == "passed" for t in r.tests)
        writer.writerow([_cell(v) for v in (
            g.submission.name, r.exercise, r.status, f"{r.score:g}", f"{r.max_score:g}", passed,
            len(r.tests), len(r.cell_errors), r.message, f"submissions/{g.submission.key}/report.html")])
    return buffer.getvalue()


def write_summary(out: Path, graded: list[Graded]) -> Path:
    """The class summary page and the gradebook, from every result."""
    entries = [html.IndexEntry(g.submission.name, f"submissions/{g.submission.key}/report.html"
                               if (out / "submissions" / g.submission.key / "report.html").is_file()
                               else None, g.result) for g in graded]
    write_atomic(out / "index.html", html.render_index(entries))
    write_atomic(out / "grades.csv", gradebook_csv(graded))
    write_atomic(out / "results.json", json.dumps(
        [{**g.result.to_json(), "key": g.submission.key} for g in graded], indent=2))
    return out / "index.html"


def grade_batch(paths: list[Path], out: Path, jobs: int, override: Exercise | None = None,
                progress: Callable[[Graded], None] = lambda g: None) -> list[Graded]:
    """Grade every submission under `paths` into `out`; results in submission order."""
    catalogue = exercises.discover()
    submissions = find(paths)
    done: dict[str, Graded] = {}
    if any(s.path.suffix == ".ipynb" for s in submissions):
        kernel.prestart(max(1, jobs))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_grade_one, s, override, catalogue, out): s for s in submissions}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    graded = future.result()
                except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
                    unknown = override or catalogue[0]
                    graded = Graded(sub, grade.failed(unknown, sub.name, f"internal error: {exc!r}"))
                done[sub.key] = graded
                progress(graded)
    finally:
        kernel.close_pool()
        ordered = [done[s.key] for s in submissions if s.key in done]
        write_summary(out, ordered)
    return ordered
