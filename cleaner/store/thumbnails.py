"""The report's thumbnails in the state database (the table ``report_thumbnails``): each photo's
thumbnail by content, so a second report decodes nothing it decoded before.

Made only in a state database that is there already, never in a new one; a database that is
read-only, locked or not to be trusted leaves the report without the cache, and nothing else.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from cleaner.store.connect import connect

SCHEMA = """CREATE TABLE IF NOT EXISTS report_thumbnails (
    sha256 TEXT NOT NULL, spec TEXT NOT NULL, jpeg BLOB NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    PRIMARY KEY (sha256, spec))"""


class ThumbnailTable:
    """JPEG thumbnails by (sha256, spec), where ``spec`` says how they were made (size, quality)."""

    def __init__(self, state_db: Path | None, shared: bool = False) -> None:
        """``shared``: used from several threads, one at a time (the review page's, under its lock)."""
        self.db: sqlite3.Connection | None = None
        if state_db is not None and state_db.is_file():  # never create a state database where there is none
            try:
                self.db = connect(state_db, timeout=10, check_same_thread=not shared)
                self.db.execute(SCHEMA)
            except (OSError, sqlite3.Error):
                self.db = None  # read-only, locked or not to be trusted: the report is made without the cache

    def get(self, sha256: str, spec: str) -> tuple[bytes, int, int] | None:
        """The thumbnail made before: (JPEG, width, height); a crafted row (an integer for the JPEG, say) is none."""
        if self.db is None:
            return None
        q = "SELECT jpeg, width, height FROM report_thumbnails WHERE sha256=? AND spec=?"
        row = self.db.execute(q, (sha256, spec)).fetchone()
        if row is not None and isinstance(row[0], bytes) and isinstance(row[1], int) and isinstance(row[2], int):
            return row[0], row[1], row[2]
        return None

    def put(self, spec: str, thumbs: dict[str, tuple[bytes, int, int]]) -> None:
        if self.db is not None:
            q = "INSERT OR REPLACE INTO report_thumbnails VALUES (?, ?, ?, ?, ?)"
            self.db.executemany(q, [(sha, spec, *t) for sha, t in thumbs.items()])

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):  # a locked database costs the next report time, nothing else
                self.db.commit()
            self.db.close()
            self.db = None
