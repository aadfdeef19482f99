"""Concept questions as data (`exercises/<slug>/questions.toml`): loading, drawing, grading.

A question is one of four kinds:

- `number` / `shape`: values drawn from a seed (`draw`), the answer computed by a formula of
  `grader.practice.formulas` named in `answer`, compared exactly;
- `choice`: options, one of them `correct`; every wrong option says `why` it is wrong, and those
  taken from the seed texts name their `claim`; true/false questions are choices between
  "True" and "False";
- `line`: a numbered `snippet`, the number of its wrong line and, as `fix`, that line corrected
  (tests run the snippet both ways against the reference).

Learners' answers come from the terminal (text) or from a notebook's `answers` dict (Python
literals, read from the source without running it), and both go through `judge`.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader.models import Exercise, GradeResult, QuizScore
from grader.practice.formulas import FORMULAS

KINDS = ("number", "shape", "choice", "line")
LETTERS = "abcdefgh"
ANSWERS_NAME = "answers"
_KEYS = {"id", "kind", "points", "prompt", "explanation", "answer", "draw", "option", "snippet", "fix"}
_OPTION_KEYS = {"text", "correct", "why", "claim"}


class QuestionError(Exception):
    """A questions file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool = False
    why: str = ""
    claim: str = ""  # the seed text's mistaken claim this option repeats, if any


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    points: float
    prompt: str
    explanation: str
    answer: object = None  # formula name (number, shape) or line number (line)
    draw: dict = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    snippet: str = ""
    fix: str = ""  # the wrong line corrected (line questions), shown after an answer


@dataclass(frozen=True)
class Drawn:
    """A question with its numbers drawn: what the learner sees and the exact answer."""

    question: Question
    prompt: str
    explanation: str
    answer: object  # int, tuple of ints, option letter or line number
    values: dict = field(default_factory=dict)  # what was drawn


@dataclass(frozen=True)
class Verdict:
    correct: bool
    feedback: str  # the full explanation, answer included (the terminal quiz shows it)
    nudge: str  # what is wrong without giving the answer away (the notebook shows it)


def path_of(exercise: Exercise) -> Path:
    return exercise.path / "questions.toml"


def load(exercise: Exercise) -> list[Question]:
    """The exercise's questions, validated; QuestionError on anything malformed."""
    path = path_of(exercise)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise QuestionError(f"{exercise.slug} has no concept questions ({path.name})") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise QuestionError(f"{path}: {exc}") from None
    questions = [_question(path, raw) for raw in data.get("question", [])]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise QuestionError(f"{path}: duplicate question id")
    return questions


def _question(path: Path, raw: dict) -> Question:
    where = f"{path}: question {raw.get('id', '?')!r}"
    unknown = set(raw) - _KEYS
    if unknown:
        raise QuestionError(f"{where}: unknown key {sorted(unknown)[0]}")
    try:
        options = tuple(Option(**o) for o in raw.get("option", []))
        q = Question(id=str(raw["id"]), kind=str(raw["kind"]), points=float(raw.get("points", 1)),
                     prompt=str(raw["prompt"]).strip(), explanation=str(raw["explanation"]).strip(),
                     answer=raw.get("answer"), draw=dict(raw.get("draw", {})), options=options,
                     snippet=str(raw.get("snippet", "")).strip("\n"), fix=str(raw.get("fix", "")))
    except (KeyError, TypeError) as exc:
        raise QuestionError(f"{where}: missing or invalid key {exc}") from None
    problem = _problem(q)
    if problem:
        raise QuestionError(f"{where}: {problem}")
    return q


def _problem(q: Question) -> str:
    if q.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    if q.kind in ("number", "shape") and q.answer not in FORMULAS:
        return f"answer must name a formula of grader.practice.formulas, got {q.answer!r}"
    if q.kind == "choice":
        if sum(o.correct for o in q.options) != 1 or len(q.options) > len(LETTERS):
            return "a choice needs exactly one correct option"
        if any(not o.correct and not o.why for o in q.options):
            return "every wrong option needs its `why`"
    if q.kind == "line" and not (isinstance(q.answer, int)
                                 and 1 <= q.answer <= len(q.snippet.splitlines())):
        return "answer must be a line number of the snippet"
    return ""


# ----------------------------------------------------------------------------- drawing

def draw(exercise: Exercise, seed: int) -> list[Drawn]:
    """Every question of the exercise with its numbers drawn for `seed` (same seed, same quiz)."""
    return [draw_one(exercise.slug, q, seed) for q in load(exercise)]


def draw_one(slug: str, q: Question, seed: int) -> Drawn:
    if q.kind == "choice":
        letter = LETTERS[[o.correct for o in q.options].index(True)]
        return Drawn(q, q.prompt, q.explanation, letter)
    if q.kind == "line":
        fixed = f" Corrected, line {q.answer} reads: {q.fix.strip()}" if q.fix else ""
        return Drawn(q, q.prompt, q.explanation + fixed, q.answer)
    rng = random.Random(f"{seed}:{slug}:{q.id}")  # str seeds are stable across runs and platforms
    formula = FORMULAS[str(q.answer)]
    accepted = set(inspect.signature(formula).parameters)
    for _ in range(500):
        values = {name: _value(rng, spec) for name, spec in q.draw.items()}
        try:
            answer = formula(**{k: v for k, v in values.items() if k in accepted})
        except ValueError:
            continue
        fill = {**values, "answer": _show(answer)}
        return Drawn(q, q.prompt.format(**fill), q.explanation.format(**fill), answer, values)
    raise QuestionError(f"{slug}: question {q.id!r}: no valid values drawn in 500 tries")


def _value(rng: random.Random, spec: object) -> object:
    if isinstance(spec, dict) and "one_of" in spec:
        return rng.choice(spec["one_of"])
    if isinstance(spec, dict):
        return rng.randint(spec["min"], spec["max"])
    return spec


def _show(answer: object) -> str:
    if isinstance(answer, tuple):
        return "(" + ", ".join(str(a) for a in answer) + ")"
    return f"{answer:,}" if isinstance(answer, int) and abs(answer) >= 10_000 else str(answer)


# ----------------------------------------------------------------------------- judging

def parse(d: Drawn, given: object) -> object:
    """A learner's answer in the question's terms (int, tuple, letter); ValueError if unreadable."""
    kind = d.question.kind
    if kind in ("number", "line"):
        if isinstance(given, float) and given.is_integer():
            given = int(given)
        if isinstance(given, int) and not isinstance(given, bool):
            return given
        text = re.sub(r"[,_\s]", "", str(given))
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        raise ValueError("an integer, e.g. 42")
    if kind == "shape":
        if isinstance(given, (tuple, list)) and all(isinstance(v, int) for v in given):
            return tuple(given)
        numbers = re.findall(r"-?\d+", str(given))
        if numbers and re.fullmatch(r"[\s(\[]*\d+([\s,x*×]+\d+)*[\s,)\]]*", str(given)):
            return tuple(int(n) for n in numbers)
        raise ValueError("a shape, e.g. (2, 3, 7, 9)")
    text = str(given).strip().lower().rstrip(").")
    options = d.question.options
    if len(text) == 1 and text in LETTERS[:len(options)]:
        return text
    for letter, option in zip(LETTERS, options):
        if text == option.text.strip().lower() or (text in ("t", "f") and
                                                   option.text.lower() == {"t": "true", "f": "false"}[text]):
            return letter
    raise ValueError(f"one of {', '.join(LETTERS[:len(options)])}")


def judge(d: Drawn, given: object) -> Verdict:
    """Right or wrong, with the explanation; an unreadable answer is wrong and says why."""
    q = d.question
    try:
        value = parse(d, given)
    except ValueError as exc:
        return Verdict(False, f"Could not read {given!r}: expected {exc}.", f"expected {exc}")
    if value == d.answer:
        return Verdict(True, f"Right. {d.explanation}", "right")
    if q.kind == "choice":
        chosen = q.options[LETTERS.index(str(value))]
        right = LETTERS.index(str(d.answer))
        why = f"({value}) is wrong: {chosen.why} "
        return Verdict(False, f"{why}The answer is ({d.answer}) {q.options[right].text}. {d.explanation}",
                       why.strip())
    shown = _show(value)
    return Verdict(False, f"Not {shown}: the answer is {_show(d.answer)}. {d.explanation}",
                   f"not {shown}")


# ----------------------------------------------------------------------------- notebook answers

def answers_in(sources: list[str]) -> dict | str | None:
    """The last top-level `answers = {...}` among `sources` (cells in run order, or a file), read
    as Python literals without running anything. None when there is none; a one-line reason
    (str) when it is not a dict of plain values."""
    found: dict | str | None = None
    for source in sources:
        try:
            body = ast.parse(source).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == ANSWERS_NAME for t in targets):
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    found = "`answers` must hold plain values (numbers, strings, tuples), not code"
                    continue
                found = value if isinstance(value, dict) else "`answers` must be a dict"
    return found


def score(exercise: Exercise, answers: dict | str) -> QuizScore:
    """The points of a notebook's (or file's) `answers` for the exercise's questions."""
    questions = load(exercise)
    top = float(sum(q.points for q in questions))
    if isinstance(answers, str):
        return QuizScore(seed=0, score=0.0, max_score=top, message=answers)
    seed = answers.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        return QuizScore(seed=0, score=0.0, max_score=top, message="answers['seed'] must be an integer")
    right, wrong, nudges = [], [], []
    for q in questions:
        given = answers.get(q.id)
        if given is None or given == "":
            continue
        verdict = judge(draw_one(exercise.slug, q, seed), given)
        (right if verdict.correct else wrong).append(q.id)
        if not verdict.correct:
            nudges.append(f"{q.id}: {verdict.nudge}")
    points = sum(q.points for q in questions if q.id in right)
    return QuizScore(seed=seed, score=float(points), max_score=top, correct=tuple(right),
                     wrong=tuple(wrong), nudges=tuple(nudges))


def answers_template(exercise: Exercise) -> str:
    """The source of a notebook's answers cell: one key per question, each unanswered."""
    lines = ["# Your answers to the concept questions (run the cell below to see them).",
             "# Numbers: 42; shapes: (2, 3, 7, 9); choices: \"b\"; lines: 3. Plain values only.",
             f"{ANSWERS_NAME} = {{", '    "seed": 0,  # any integer: it draws your numbers']
    lines += [f'    "{q.id}": None,' for q in load(exercise)]
    return "\n".join([*lines, "}"])


def attach(exercise: Exercise, result: GradeResult, sources: list[str]) -> GradeResult:
    """`result` with the points of the `answers` found in `sources`; unchanged when there are
    none or the exercise has no questions."""
    answers = answers_in(sources)
    if answers is None:
        return result
    try:
        return dataclasses.replace(result, quiz=score(exercise, answers))
    except QuestionError:
        return result
