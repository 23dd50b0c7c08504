"""The report's thumbnails in the state database (the table ``report_thumbnails``): each photo's
thumbnail by content, so a second report decodes nothing it decoded before; and which content is at
a path (the table ``thumbnail_files``: its sha256 while its size, mtime, ctime and inode are unchanged),
so that a thumbnail is always of the bytes there now, never of other bytes that happen to be the
same size, and an unchanged file is not read again.

Made only in a state database that is there already, never in a new one; a database that is
read-only, locked or not to be trusted leaves the report without the cache, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from cleaner.store.connect import connect

SCHEMA = """CREATE TABLE IF NOT EXISTS report_thumbnails (
    sha256 TEXT NOT NULL, spec TEXT NOT NULL, jpeg BLOB NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    PRIMARY KEY (sha256, spec))"""
FILES = """CREATE TABLE IF NOT EXISTS thumbnail_files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL, sha256 TEXT NOT NULL)"""


def fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file's bytes do (a rewrite in place moves mtime and ctime; a swap, the inode)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class ThumbnailTable:
    """JPEG thumbnails by (sha256, spec), where ``spec`` says how they were made (size, quality)."""

    def __init__(self, state_db: Path | None, shared: bool = False) -> None:
        """``shared``: used from several threads, one at a time (the review page's, under its lock)."""
        self.db: sqlite3.Connection | None = None
        self.borrowed = False
        if state_db is not None and state_db.is_file():  # never create a state database where there is none
            try:
                self.db = connect(state_db, timeout=10, check_same_thread=not shared)
                self.db.execute(SCHEMA)
                self.db.execute(FILES)
            except (OSError, sqlite3.Error):
                self.db = None  # read-only, locked or not to be trusted: the report is made without the cache

    @classmethod
    def on(cls, db: sqlite3.Connection) -> ThumbnailTable:
        """The tables on a connection another owns (the state database's, in its transactions); never closed here."""
        table = cls(None)
        db.execute(SCHEMA)
        db.execute(FILES)
        table.db, table.borrowed = db, True
        return table

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

    def content_at(self, path: str, st: os.stat_result) -> str | None:
        """The sha256 of the bytes at ``path`` if they were read before and the file is unchanged since."""
        if self.db is None:
            return None
        q = "SELECT size, mtime_ns, ctime_ns, ino, sha256 FROM thumbnail_files WHERE path=?"
        try:
            row = self.db.execute(q, (path,)).fetchone()
        except sqlite3.Error:  # a table planted with other columns: read the file
            return None
        if row is None or tuple(row[:4]) != fingerprint(st) or not isinstance(row[4], str):
            return None
        return row[4]

    def note_contents(self, seen: dict[str, tuple[os.stat_result, str]]) -> None:
        """The files just read: path -> (their stat when read, the sha256 of what was read)."""
        if self.db is not None:
            q = "INSERT OR REPLACE INTO thumbnail_files VALUES (?, ?, ?, ?, ?, ?)"
            with contextlib.suppress(sqlite3.Error):  # not to be written: the files are read again next time
                self.db.executemany(q, [(p, *fingerprint(st), sha) for p, (st, sha) in seen.items()])

    def close(self) -> None:
        if self.borrowed:
            self.db = None
            return
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):  # a locked database costs the next report time, nothing else
                self.db.commit()
            self.db.close()
            self.db = None
