"""The settings the fast path measured best (cleaner.analysis.tuning), kept in the state database
so the next run on this machine, with these model files, starts from them instead of searching.

A row's key (cleaner.analysis.machine.tuning_key) hashes what the measurement depends on: what
was tuned, the model files' sha256 and the machine.  A state database in a shared folder may
have been planted: a value is only ever a short list of small whole numbers, and the tuner takes
it to the nearest setting it would have tried anyway.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from cleaner.errors import StateError

TUNING_SCHEMA = "CREATE TABLE IF NOT EXISTS tuning (key TEXT PRIMARY KEY, value TEXT NOT NULL);"


def _setting(text: str) -> tuple[int, ...] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not 0 < len(value) <= 4:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 4096 for v in value):
        return None
    return tuple(value)


class Tunings:
    """The tuning part of StateDB (a mixin using its connection).  The tuning is an optimisation:
    a database that cannot be read or written here costs a search, never the run."""

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def tuned(self, key: str) -> tuple[int, ...] | None:
        try:
            row = self._db.execute("SELECT value FROM tuning WHERE key = ?", (key,)).fetchone()
        except (sqlite3.Error, StateError):
            return None
        return _setting(row[0]) if row and isinstance(row[0], str) else None

    def remember_tuning(self, key: str, value: Sequence[int]) -> None:
        try:
            self._db.execute("INSERT OR REPLACE INTO tuning VALUES (?, ?)", (key, json.dumps(list(value))))
        except (sqlite3.Error, StateError):
            pass
