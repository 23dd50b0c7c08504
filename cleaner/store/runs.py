"""Which runs there were: the ``runs`` table of the state database (``face-clean runs DIR``).

A row is written when a ``run`` or ``watch`` starts (its id, folder, command line, start time and
whether it was a dry run) and completed when it ends (end time and counts). A row without an end
is a run still going, or one that was killed. Verdicts and restores get a row with their command
line (``run_listed``); their counts come from the audit log, which holds their records
(cleaner.settings.history).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.records import now
from cleaner.store.connect import connect

RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, root TEXT NOT NULL, command TEXT NOT NULL, started TEXT NOT NULL,
    ended TEXT, dry_run INTEGER NOT NULL, counts TEXT
);
"""


@dataclass(frozen=True)
class RunRow:
    run_id: str
    root: str
    command: str
    started: str
    ended: str | None
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)


class Runs:
    """The runs part of StateDB (a mixin: it uses StateDB's connection)."""

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def run_started(self, run_id: str, root: Path, command: str, dry_run: bool) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO runs (run_id, root, command, started, dry_run) VALUES (?, ?, ?, ?, ?)",
            (run_id, str(root), command, now(), int(dry_run)),
        )
        self._db.commit()

    def run_listed(self, run_id: str, root: Path, command: str) -> None:
        """A run of verdicts or restores (``face-clean verdict``, the review page, restore): listed once, with
        its command line; its counts are its records' (the audit log's)."""
        self._db.execute(
            "INSERT OR IGNORE INTO runs (run_id, root, command, started, dry_run) VALUES (?, ?, ?, ?, 0)",
            (run_id, str(root), command, now()),
        )
        self._db.execute("UPDATE runs SET ended = ? WHERE run_id = ?", (now(), run_id))
        self._db.commit()

    def run_ended(self, run_id: str, counts: Mapping[str, int]) -> None:
        self._db.execute(
            "UPDATE runs SET ended = ?, counts = ? WHERE run_id = ?", (now(), json.dumps(dict(counts)), run_id)
        )
        self._db.commit()


def read_runs(db: Path, root: Path) -> list[RunRow]:
    """The runs on ``root`` in the state database ``db``, oldest first (none when there is no database)."""
    if not db.is_file():
        return []
    conn = connect(db)  # not read-only: the last connection to close takes SQLite's -wal and -shm files along
    try:
        try:
            rows = conn.execute(
                "SELECT run_id, root, command, started, ended, dry_run, counts FROM runs WHERE root = ? "
                "ORDER BY started",
                (str(root),),
            ).fetchall()
        except sqlite3.OperationalError:  # a database from before the table: no runs recorded there
            return []
    finally:
        conn.close()
    return [RunRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), _counts(r[6])) for r in rows]


def _counts(text: Any) -> dict[str, int]:
    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}
