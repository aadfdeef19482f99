"""A learner's lasting progress: one SQLite database in the user's data folder.

Every `grader check`, `grader quiz` and interview adds a row to `runs`; `hints` counts the hints
seen per exercise; `interviews` holds the clock of each timed interview. Several graders may run at
once (two terminals, a notebook): the database is in WAL mode with a busy timeout, and every write
is one short transaction, so no row is lost. A file that is not our database, or one written by a
newer convgrade, is a `ProgressError` with a one-line message; it is never reset or overwritten.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
FILENAME = "progress.sqlite3"
BUSY_TIMEOUT_S = 30.0
_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    exercise TEXT NOT NULL,
    kind TEXT NOT NULL,              -- check | quiz | interview
    at REAL NOT NULL,                -- Unix time
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    passed INTEGER NOT NULL,
    findings TEXT NOT NULL,          -- JSON list of mistake slugs (quiz: "quiz:<question id>")
    hints_used INTEGER NOT NULL,
    interview INTEGER                -- the interview a check belongs to, if any
);
CREATE INDEX IF NOT EXISTS runs_by_exercise ON runs (exercise, at);
CREATE TABLE IF NOT EXISTS hints (exercise TEXT PRIMARY KEY, seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS interviews (
    id INTEGER PRIMARY KEY,
    exercise TEXT NOT NULL,
    started REAL NOT NULL,
    deadline REAL NOT NULL,
    finished REAL                    -- NULL while it runs
);
"""


class ProgressError(Exception):
    """The progress database cannot be used; the message is one line and names the file."""


@dataclass(frozen=True)
class Run:
    exercise: str
    kind: str
    at: float
    score: float
    max_score: float
    passed: bool
    findings: tuple[str, ...]
    hints_used: int
    interview: int | None = None


@dataclass(frozen=True)
class Interview:
    id: int
    exercise: str
    started: float
    deadline: float
    finished: float | None


def data_home() -> Path:
    """CONVGRADE_HOME, else the per-user data folder + /convgrade: ~/Library/Application Support
    on macOS, $XDG_DATA_HOME (if absolute) or ~/.local/share elsewhere (the XDG spec)."""
    override = os.environ.get("CONVGRADE_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "convgrade"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "convgrade"


def db_path() -> Path:
    return data_home() / FILENAME


class Progress:
    """An open progress database; use as a context manager."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ProgressError(f"cannot open the progress database {self.path}: {exc}") from None
        try:
            with self._errors():
                self._migrate()
                self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: safe, one sync per checkpoint
        except ProgressError:
            self.db.close()
            raise

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise self._damaged(exc) from None
            raise ProgressError(f"progress database {self.path} stayed locked by another grader for "
                                f"{BUSY_TIMEOUT_S:g} s; try again") from None
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: sqlite3.Error) -> ProgressError:
        return ProgressError(f"progress database {self.path}: {exc} (move it away to start afresh, "
                             "or set CONVGRADE_HOME to another folder)")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: it takes the write lock up front, so concurrent writers
        wait (busy timeout) instead of failing halfway."""
        with self._errors():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]  # reads the header
        if version > SCHEMA_VERSION:
            raise ProgressError(f"progress database {self.path} was written by a newer convgrade "
                                f"(schema {version}, this one reads {SCHEMA_VERSION}); upgrade "
                                "convgrade, or set CONVGRADE_HOME to another folder")
        if version == SCHEMA_VERSION:
            return
        self._switch_to_wal()
        with self._write() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # another process created it while we waited
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if names:
                raise ProgressError(f"{self.path} is an SQLite file but not a convgrade progress "
                                    "database; move it away or set CONVGRADE_HOME")
            for statement in _TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _switch_to_wal(self) -> None:
        """WAL mode, set by whichever process creates the file. The switch needs the file to
        itself, and SQLite reports a conflict with another creator at once rather than through the
        busy timeout: wait for it here, as every other write waits."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    # ------------------------------------------------------------------------- runs and hints

    def record(self, run: Run) -> None:
        with self._write() as db:
            db.execute("INSERT INTO runs (exercise, kind, at, score, max_score, passed, findings, "
                       "hints_used, interview) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run.exercise, run.kind, run.at, run.score, run.max_score, int(run.passed),
                        json.dumps(list(run.findings)), run.hints_used, run.interview))

    def runs(self, exercise: str | None = None) -> list[Run]:
        query = ("SELECT exercise, kind, at, score, max_score, passed, findings, hints_used, "
                 "interview FROM runs")
        args: tuple = ()
        if exercise is not None:
            query, args = query + " WHERE exercise = ?", (exercise,)
        with self._errors():
            rows = self.db.execute(query + " ORDER BY at, id", args).fetchall()
        try:
            return [Run(r[0], r[1], r[2], r[3], r[4], bool(r[5]), tuple(json.loads(r[6])), r[7], r[8])
                    for r in rows]
        except (ValueError, TypeError) as exc:
            raise ProgressError(f"progress database {self.path} has a damaged row: {exc}") from None

    def hints_seen(self, exercise: str) -> int:
        with self._errors():
            row = self.db.execute("SELECT seen FROM hints WHERE exercise = ?", (exercise,)).fetchone()
        return int(row[0]) if row else 0

    def all_hints(self) -> dict[str, int]:
        with self._errors():
            return dict(self.db.execute("SELECT exercise, seen FROM hints").fetchall())

    def see_hint(self, exercise: str, available: int) -> int:
        """Count one more hint seen (at most `available`); the new count."""
        with self._write() as db:
            db.execute("INSERT INTO hints (exercise, seen) VALUES (?, 1) ON CONFLICT (exercise) "
                       "DO UPDATE SET seen = MIN(seen + 1, ?)", (exercise, available))
            return int(db.execute("SELECT seen FROM hints WHERE exercise = ?", (exercise,)).fetchone()[0])

    # ------------------------------------------------------------------------- interviews

    def open_interview(self, exercise: str) -> Interview | None:
        """The exercise's interview that has not been finished, if any (its time may be up)."""
        with self._errors():
            row = self.db.execute("SELECT id, exercise, started, deadline, finished FROM interviews "
                                  "WHERE exercise = ? AND finished IS NULL ORDER BY id DESC LIMIT 1",
                                  (exercise,)).fetchone()
        return Interview(*row) if row else None

    def start_interview(self, exercise: str, started: float, deadline: float) -> Interview:
        with self._write() as db:
            cursor = db.execute("INSERT INTO interviews (exercise, started, deadline) VALUES (?, ?, ?)",
                                (exercise, started, deadline))
            return Interview(int(cursor.lastrowid or 0), exercise, started, deadline, None)

    def finish_interview(self, interview: Interview, at: float) -> bool:
        """Mark it finished; False if another process finished it first."""
        with self._write() as db:
            cursor = db.execute("UPDATE interviews SET finished = ? WHERE id = ? AND finished IS NULL",
                                (at, interview.id))
            return cursor.rowcount == 1

    def interview_runs(self, interview: Interview) -> list[Run]:
        return [r for r in self.runs(interview.exercise) if r.interview == interview.id]
