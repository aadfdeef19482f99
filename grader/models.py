"""Plain frozen dataclasses that flow between the grader's modules (standard library only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2


def utf8_text(text: str) -> str:
    """`text` as valid Unicode: lone surrogates (from a learner's `"\\ud800"` or from a file name
    that is not UTF-8) become visible `\\udcff` escapes, so that no report, terminal or JSON
    writer fails on a string a submission chose."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one learner worker process: the defaults, here only; an exercise's
    `[limits]` table overrides some of them."""

    call_timeout_s: float = 5.0
    cell_timeout_s: float = 10.0
    total_timeout_s: float = 60.0
    memory_mb: int = 1024
    file_size_mb: int = 10
    open_files: int = 256
    # For a worker and all it starts together, where cgroups allow (sandbox.envelope): busy
    # children cannot take more than `cpus` CPUs from the other workers of a batch.
    cpus: float = 1.0
    processes: int = 64

    @property
    def cpu_s(self) -> int:
        """CPU seconds for a whole worker: a runaway loop dies even if the wall clock is missed."""
        return int(self.total_timeout_s) + 10


@dataclass(frozen=True)
class Exercise:
    """An exercise folder: its metadata (`exercise.toml`) and where it lives.

    `order` is its position in the catalogue; `extra_tests` are the instructor's hidden pytest
    files (absolute paths, outside anything a worker sees)."""

    slug: str
    title: str
    summary: str
    path: Path
    functions: tuple[str, ...]
    points: dict[str, float]
    limits: Limits
    forbidden: dict[str, tuple[str, ...]] = field(default_factory=dict)
    order: int = 0
    extra_tests: tuple[Path, ...] = ()

    @property
    def stub(self) -> Path:
        return self.path / f"{self.slug}.py"

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    @property
    def withheld(self) -> tuple[str, ...]:
        """Every function some exercise function may not use: all are withheld from the worker,
        which loads the learner's code once for all its functions."""
        return tuple(sorted({name for names in self.forbidden.values() for name in names}))


@dataclass(frozen=True)
class Diagnosis:
    """A named mistake from the catalog (mistakes.md): slug, what happened, what to do."""

    slug: str
    message: str
    hint: str
    detail: dict[str, Any] | None = None  # plain numbers or words, e.g. {"factor": 0.5}


@dataclass(frozen=True)
class Finding:
    """What a function's failures have in common, stated once (schema 2, grader.md).

    `kind` is "mistake" (a catalogued variant matched), "pattern" (the failing cases share a
    property, e.g. H != W), "shape" (an axis of the output is off) or "probe" (a structural
    probe: scaled, offset per channel, all zeros...). `slug` is the catalogue's slug when one
    applies, else None and `pattern` names the finding (e.g. "fails-when-stride-gt-1").
    `tests` are the failing test ids it explains; `detail` holds plain numbers or words (a
    factor, an offset, an axis with got/want sizes, the case property); `heatmap_test` names the
    test whose heatmap illustrates it, when one is informative.
    """

    kind: str
    message: str
    hint: str
    tests: tuple[str, ...]
    slug: str | None = None
    pattern: str | None = None
    detail: dict[str, Any] | None = None
    heatmap_test: str | None = None

    @property
    def key(self) -> str:
        """The slug, or the pattern id when no catalogued slug applies."""
        return self.slug or self.pattern or self.kind


@dataclass(frozen=True)
class Speed:
    """What the speed measurement of one correct function says, and what it measured."""

    ratio_to_reference: float
    python_lines_per_output: float | None
    note: str | None  # python-loops | slow | None
    message: str
    hint: str = ""


@dataclass(frozen=True)
class FunctionFindings:
    """One function's points and its ranked findings: the one explaining most failures first."""

    function: str
    points: float
    max_points: float
    findings: tuple[Finding, ...] = ()
    speed: Speed | None = None


@dataclass(frozen=True)
class TestResult:
    """The verdict on one hidden case. `message` never holds expected values or hidden inputs."""

    __test__ = False  # not a pytest test class, despite its name

    id: str
    function: str
    tier: str
    status: str  # passed | failed | error | timeout
    points: float
    max_points: float
    message: str = ""
    diagnosis: Diagnosis | None = None
    traceback: str = ""
    heatmap: list[list[float]] | None = None
    heatmap_shape: list[int] | None = None  # the shape of the output the heatmap maps
    heatmap_output: str = ""  # which output it maps, for functions returning several (dx, dw)
    shape_detail: dict | None = None  # a wrongly shaped output: axis, got, want, formula, slug?

    @property
    def extra(self) -> bool:
        """An instructor's pytest test (`file::test_name`), not a row of the case table."""
        return "::" in self.id


@dataclass(frozen=True)
class Performance:
    """How the learner's correct function compares in speed with the reference, timed from the
    grader's side in one run; `diagnosis` is the `python-loops` note when it is far slower."""

    function: str
    ratio_to_reference: float
    verdict: str
    learner_ms: float = 0.0
    reference_ms: float = 0.0
    diagnosis: Diagnosis | None = None
    python_lines_per_output: float | None = None


@dataclass(frozen=True)
class CellError:
    """A problem in one of the learner's own notebook cells, reported back to them."""

    cell: int  # position of the cell in the notebook, counting from 1 (all cells)
    kind: str  # error | timeout | kernel-died | not-run
    message: str  # one line, e.g. "ZeroDivisionError: division by zero"
    traceback: str = ""  # the learner's traceback, plain text, capped


@dataclass(frozen=True)
class QuizScore:
    """Points for an exercise's concept questions (a notebook's `answers`), kept apart from the
    code's score so that an instructor can weigh them; `nudges` say what is wrong, not the answer."""

    seed: int
    score: float
    max_score: float
    correct: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    nudges: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class GradeResult:
    """The result document of one submission (grader.md), ready for JSON."""

    exercise: str
    submission: str
    status: str  # graded | error
    score: float
    max_score: float
    tests: tuple[TestResult, ...] = ()
    message: str = ""
    performance: Performance | None = None
    performances: tuple[Performance, ...] = ()
    isolation: str = "basic"
    duration_s: float = 0.0
    cell_errors: tuple[CellError, ...] = ()
    functions: tuple[FunctionFindings, ...] = ()
    quiz: QuizScore | None = None  # None: the submission has no `answers`

    @property
    def passed(self) -> bool:
        return self.status == "graded" and all(t.status == "passed" for t in self.tests)

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["tests"] = [asdict(t) for t in self.tests if not t.extra]
        doc["extras"] = [asdict(t) for t in self.tests if t.extra]
        doc["performances"] = [asdict(p) for p in self.performances]
        doc["cell_errors"] = [asdict(c) for c in self.cell_errors]
        doc["functions"] = [_function_json(f, self.tests) for f in self.functions]
        return {"schema": SCHEMA_VERSION, **doc}


def _function_json(summary: FunctionFindings, tests: tuple[TestResult, ...]) -> dict:
    """A function's entry of the result document; a finding's heatmap is its test's, inlined."""
    maps = {t.id: t.heatmap for t in tests}
    doc = asdict(summary)
    doc["findings"] = [{**asdict(f), "tests": list(f.tests),
                        "heatmap": maps.get(f.heatmap_test) if f.heatmap_test else None}
                       for f in summary.findings]
    return doc
