"""A person's verdicts: the ``verdicts`` table of the state database, one row per content (sha256).

A verdict (keep or reject) names bytes, not a path: it holds for that content wherever it sits in
the folder, under whatever rules, until it is withdrawn; a changed file is other bytes and is
decided afresh. Giving or withdrawing one forgets the ``decided`` rows of that content
(cleaner.store.decided), so the next ``run`` or ``watch`` looks at every copy again and
applies it. Rows are committed at once: a verdict is a person's work, never lost to a batch.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from cleaner.records import AuditAction

VERDICTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    sha256 TEXT PRIMARY KEY, verdict TEXT NOT NULL, who TEXT NOT NULL, time TEXT NOT NULL, reason TEXT
);
"""
KEEP, REJECT = AuditAction.KEEP.value, AuditAction.REJECT.value  # a verdict; its records' action too
VERDICTS = (KEEP, REJECT)
REJECTED = "rejected"  # the quarantine subfolder of a photo a person rejected that no rule had a reason for
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Verdict:
    sha256: str
    verdict: str  # keep | reject
    who: str
    time: str
    reason: str | None = None  # reject: the quarantine subfolder


def _row(row: tuple[object, ...]) -> Verdict | None:
    """A row as a verdict; a row that is not one (damaged or crafted) is none."""
    sha, verdict, who, time, reason = row
    texts = all(isinstance(v, str) for v in (sha, verdict, who, time)) and isinstance(reason, (str, type(None)))
    if not texts or verdict not in VERDICTS or not SHA256.match(str(sha)):
        return None
    return Verdict(str(sha), str(verdict), str(who), str(time), reason if isinstance(reason, str) else None)


class Verdicts:
    """The verdicts part of StateDB (a mixin: it uses StateDB's connection)."""

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def verdict(self, sha256: str | None) -> Verdict | None:
        if not sha256:
            return None
        row = self._db.execute("SELECT * FROM verdicts WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else _row(row)

    def all_verdicts(self) -> list[Verdict]:
        rows = self._db.execute("SELECT * FROM verdicts ORDER BY time").fetchall()
        return [v for v in map(_row, rows) if v is not None]

    def give_verdict(self, v: Verdict, keep_path: str | None = None) -> list[str]:
        """Store ``v`` (replacing an earlier verdict on the same bytes); the decided paths of these bytes,
        forgotten so that the next run or watch applies it to every copy (``keep_path``, the file a
        keep verdict was given on where it stays, keeps its row: nothing changes for it)."""
        values = (v.sha256, v.verdict, v.who, v.time, v.reason)
        self._db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)", values)
        return self._forget_content(v.sha256, keep_path)

    def withdraw_verdict(self, sha256: str) -> list[str]:
        """No verdict on these bytes any more: the rules decide them again, everywhere, on the next run."""
        self._db.execute("DELETE FROM verdicts WHERE sha256 = ?", (sha256,))
        return self._forget_content(sha256)

    def _forget_content(self, sha256: str, keep_path: str | None = None) -> list[str]:
        rows = self._db.execute("SELECT path FROM decided WHERE sha256 = ?", (sha256,))
        paths = [str(r[0]) for r in rows if r[0] != keep_path]
        self._db.executemany("DELETE FROM decided WHERE path = ?", [(p,) for p in paths])
        self._db.commit()
        return paths
