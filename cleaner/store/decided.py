"""Which files are decided, and under what: the ``decided`` table of the state database.

A row says: this path, with this size and mtime (and these bytes), has its audit record
under this decision key (cleaner.pipeline.job.decision_key), and nothing was moved.  ``run`` and ``watch`` skip
such files, and bytes already decided under the same key that turn up with a new mtime
(``touch``) or at a new path while the old one is gone (a renamed file or folder) take
over the old row instead of getting a second record: the content is known.

Rows are committed in batches, after the audit records they stand for, so a crash can lose
the newest rows.  The audit log's position is written in the same transaction as each row,
after it: the records past the committed position are the only ones whose rows may be lost,
and cleaner.store.reconcile restores those rows on the next start.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.fs.safefs import fingerprint
from cleaner.records import ImageAnalysis, Status

DECIDED_SCHEMA = """
CREATE TABLE IF NOT EXISTS decided (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, decision_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
CONTENT_INDEX = "CREATE INDEX IF NOT EXISTS decided_content ON decided (sha256, decision_key)"


@dataclass(frozen=True)
class LogPosition:
    """Where an audit log ended after a record: its name (it sits beside state.db), inode and size."""

    name: str
    inode: int
    offset: int


def migrate(db: sqlite3.Connection) -> None:
    """state.db files from before content and what its record says were kept with each row get the
    columns (empty for old rows)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(decided)")}
    if "sha256" not in columns:
        db.execute("ALTER TABLE decided ADD COLUMN sha256 TEXT")
    if "said" not in columns:
        db.execute("ALTER TABLE decided ADD COLUMN said TEXT")
    db.execute(CONTENT_INDEX)


class Decided:
    """The decided-files part of StateDB (a mixin: it uses StateDB's connection and batching)."""

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tick(self) -> None:
        raise NotImplementedError

    def _rows_by_path(
        self, sql: str, param: str, paths: list[Path]
    ) -> Iterator[tuple[Path, str, tuple[Any, ...] | None]]:
        raise NotImplementedError

    def mark_decided(
        self, analysis: ImageAnalysis, decision_key: str, at: LogPosition | None = None, said: str | None = None
    ) -> None:
        """The file, as it was analysed, has its audit record, which ends at ``at`` in the log and says
        ``said`` (what was found and done: cleaner.pipeline.job.said_of)."""
        if analysis.mtime_ns is None:
            return  # could not even stat it: decide it again next time
        # an analysis that failed may succeed next time: its bytes are not "known"
        sha = analysis.sha256 if analysis.status is not Status.ERROR else None
        self._db.execute(
            "INSERT OR REPLACE INTO decided (path, size, mtime_ns, decision_key, sha256, said) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (path_key(analysis.path), analysis.size, analysis.mtime_ns, decision_key, sha, said),
        )
        if at is not None:  # after the row, in the same transaction: see the module docstring
            self.note_audit_position(at)
        self._tick()

    def forget_decided(self, path: Path) -> None:
        self._db.execute("DELETE FROM decided WHERE path=?", (path_key(path),))

    def undecided(self, paths: list[Path], decision_key: str) -> list[Path]:
        """The paths not yet decided under ``decision_key``, or changed since they were."""
        sql = "SELECT path, size, mtime_ns FROM decided WHERE decision_key = ? AND path IN ({marks})"
        return [p for p, _, row in self._rows_by_path(sql, decision_key, paths) if row is None or fingerprint(p) != row]

    def said_before(self, analysis: ImageAnalysis, said: str) -> bool:
        """These bytes, at this path, were decided before (under other rules, or in a dry run) with the
        same outcome: their last audit record says it all, and a new one would repeat it."""
        row = self._db.execute(
            "SELECT size, mtime_ns, sha256, said FROM decided WHERE path = ?", (path_key(analysis.path),)
        ).fetchone()
        if row is None or row[3] != said or analysis.status is Status.ERROR:
            return False
        if analysis.sha256 is not None and row[2] is not None:
            return bool(row[2] == analysis.sha256)
        return (row[0], row[1]) == (analysis.size, analysis.mtime_ns)

    def decided_paths(self) -> dict[str, str]:
        """Every decided path and its decision key (for checks and tests)."""
        return dict(self._db.execute("SELECT path, decision_key FROM decided").fetchall())

    def known_as(self, analysis: ImageAnalysis, decision_key: str, checked: dict[str, int] | None = None) -> str | None:
        """The decided path whose bytes these are, under the same key, if this file is that one
        touched or renamed (its old path gone); None for new content, and for a copy.

        ``checked``, kept by the caller for one batch of files, remembers per content the last row
        whose path was found still there, so that each row is looked at once a batch: 8,000 hard
        links of one file cost 8,000 looks, not 32 million (each link's row would be checked again
        for every later one)."""
        if analysis.sha256 is None or analysis.status is Status.ERROR:
            return None
        here, sha = path_key(analysis.path), analysis.sha256
        q = "SELECT 1 FROM decided WHERE path = ? AND sha256 = ? AND decision_key = ?"
        if self._db.execute(q, (here, sha, decision_key)).fetchone() is not None:
            return here  # the same file, touched
        after = checked.get(sha, 0) if checked is not None else 0
        rows = self._db.execute(
            "SELECT rowid, path FROM decided WHERE sha256 = ? AND decision_key = ? AND rowid > ? ORDER BY rowid",
            (sha, decision_key, after),
        )
        for rowid, path in rows:
            if not os.path.lexists(path):
                return str(path)
            if checked is not None:
                checked[sha] = int(rowid)
        return None

    # -- the audit log's position ----------------------------------------------------------
    def audit_position(self, name: str) -> LogPosition | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (f"audit:{name}",)).fetchone()
        if row is None:
            return None
        inode, offset = (int(v) for v in str(row[0]).split(":"))
        return LogPosition(name, inode, offset)

    def note_audit_position(self, at: LogPosition) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"audit:{at.name}", f"{at.inode}:{at.offset}"))


def path_key(path: Path) -> str:
    """The path as stored: a name that is not valid UTF-8 (an old NAS's Latin-1, say) keeps its
    raw bytes as backslash escapes, since SQLite text must be UTF-8."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text
