"""The state database (SQLite, beside the audit log): what each file is and what was found in it.

Analyses are keyed by the file's sha256 plus the identity of what analysed it (engine,
detector, model files, attributes), so renaming or moving a photo keeps its analysis, a new
model invalidates it, and an edit of the rules re-decides from it without running a model.
A second table remembers each path's size and mtime with its sha256, so an unchanged file is
not even read again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from cleaner.decided import DECIDED_SCHEMA, Decided, migrate
from cleaner.decided import fingerprint as _fingerprint
from cleaner.decided import path_key as _key
from cleaner.hashing import sha256_file
from cleaner.records import Box, Face, ImageAnalysis, Status

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    sha256 TEXT NOT NULL, identity TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (sha256, identity)
);
CREATE TABLE IF NOT EXISTS model_hashes (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_size ON files (size);
"""
COMMIT_EVERY = 200  # rows; a crash loses at most this much cache, never a decision
QUERY_CHUNK = 500  # paths per cache query (SQLite allows 32766 parameters)


def _to_json(a: ImageAnalysis) -> str:
    return json.dumps(
        {
            "status": a.status.value,
            "error": a.error,
            "width": a.width,
            "height": a.height,
            "faces": [asdict(f) for f in a.faces],
            "notes": list(a.notes),
        }
    )


def _from_json(text: str, path: Path, size: int, sha256: str, mtime_ns: int) -> ImageAnalysis:
    d: dict[str, Any] = json.loads(text)
    faces = tuple(Face(**{**f, "box": Box(**f["box"])}) for f in d["faces"])
    return ImageAnalysis(
        path,
        size,
        sha256,
        Status(d["status"]),
        d["error"],
        d["width"],
        d["height"],
        faces,
        mtime_ns,
        tuple(d["notes"]),
        cached=True,
    )


def _marks(keys: list[str]) -> str:
    return ",".join("?" * len(keys))


class StateError(RuntimeError):
    """The state database cannot be opened or written."""


class StateDB(Decided):
    """Opened on first use, so a run that stops early (missing weights, say) leaves nothing behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pending = 0
        # one read-only connection for the content lookups of the worker threads, shared: a
        # connection per thread leaked two descriptors and a page cache per watch round
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        # cache hits whose fingerprint row is already right, until the analysis is remembered
        self._unchanged: dict[str, tuple[int, int, str]] = {}

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level="DEFERRED")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(SCHEMA + DECIDED_SCHEMA)
                migrate(conn)
                conn.commit()
            except (OSError, sqlite3.Error) as err:
                reason = getattr(err, "strerror", None) or err
                raise StateError(f"cannot write the state database {self.path}: {reason}") from None
            self._conn = conn
        return self._conn

    # -- files ---------------------------------------------------------------------------
    def remember(self, analysis: ImageAnalysis, identity: str) -> None:
        """Record the file's fingerprint, and a fresh result if it depends on the bytes alone."""
        if analysis.sha256 is None or analysis.mtime_ns is None:
            return
        if self._unchanged.pop(_key(analysis.path), None) == (analysis.size, analysis.mtime_ns, analysis.sha256):
            return  # a cache hit of this very file: its row is right
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
            (_key(analysis.path), analysis.size, analysis.mtime_ns, analysis.sha256),
        )
        if analysis.status is not Status.ERROR and not analysis.cached:
            self._db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?)", (analysis.sha256, identity, _to_json(analysis))
            )
        self._tick()

    def forget_file(self, path: Path) -> None:
        self._unchanged.pop(_key(path), None)
        self._db.execute("DELETE FROM files WHERE path=?", (_key(path),))
        self.forget_decided(path)
        self._tick()

    def known_size(self, size: int) -> bool:
        """Some file of this size was seen: a new file of another size cannot be a known photo renamed."""
        return self._db.execute("SELECT 1 FROM files WHERE size = ? LIMIT 1", (size,)).fetchone() is not None

    # -- analyses ------------------------------------------------------------------------
    def cached(self, path: Path, identity: str) -> ImageAnalysis | None:
        """The analysis of an unchanged file, without reading it; None when it must be analysed."""
        return next(iter(self.cached_many([path], identity)))

    def cached_many(self, paths: list[Path], identity: str) -> Iterator[ImageAnalysis | Path]:
        """Each path's cached analysis if the file is unchanged, else the path, in order."""
        sql = (
            "SELECT f.path, f.size, f.mtime_ns, f.sha256, a.result FROM files f "
            "JOIN analyses a ON a.sha256 = f.sha256 AND a.identity = ? WHERE f.path IN ({marks})"
        )
        for path, key, row in self._rows_by_path(sql, identity, paths):
            yield self._if_unchanged(path, key, row) or path

    def _rows_by_path(
        self, sql: str, param: str, paths: list[Path]
    ) -> Iterator[tuple[Path, str, tuple[Any, ...] | None]]:
        """Each path, its key and its row of ``sql`` (path first), one query per chunk of paths:
        a query per file is a measurable share of a 10,000-file rerun.  Lazy, chunk by chunk."""
        for start in range(0, len(paths), QUERY_CHUNK):
            chunk = paths[start : start + QUERY_CHUNK]
            keys = [_key(p) for p in chunk]
            rows = {row[0]: row[1:] for row in self._db.execute(sql.format(marks=_marks(keys)), (param, *keys))}
            for path, key in zip(chunk, keys, strict=True):
                yield path, key, rows.get(key)

    def _if_unchanged(self, path: Path, key: str, row: tuple[Any, ...] | None) -> ImageAnalysis | None:
        if row is None:
            return None
        size, mtime_ns, sha256, result = row
        if _fingerprint(path) != (size, mtime_ns):  # now, not when the chunk was queried: the run may be slow
            return None
        self._unchanged[key] = (size, mtime_ns, sha256)
        return _from_json(result, path, size, sha256, mtime_ns)

    def lookup(self, path: Path, size: int, mtime_ns: int, sha256: str, identity: str) -> ImageAnalysis | None:
        """Find an analysis by content alone (a renamed or copied photo); safe from any thread."""
        with self._reader_lock:
            if self._reader is None:
                _ = self._db  # make sure the database exists
                self._reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            sql = "SELECT result FROM analyses WHERE sha256=? AND identity=?"
            row = self._reader.execute(sql, (sha256, identity)).fetchone()
        return _from_json(row[0], path, size, sha256, mtime_ns) if row else None

    def by_content(self, path: Path, identity: str) -> ImageAnalysis | None:
        """A renamed or copied photo's analysis, found by hashing it here (``run --cluster``, whose
        workers read the files): only a file whose size some known file has is read for it."""
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or not self.known_size(st.st_size):
                return None
            sha256 = sha256_file(path)
        except OSError:
            return None
        return self.lookup(path, st.st_size, st.st_mtime_ns, sha256, identity)

    # -- model files ---------------------------------------------------------------------
    def model_sha256(self, path: Path, compute: Any) -> str:
        """A model file's sha256, hashed once per (size, mtime) instead of once per run."""
        st = path.stat()
        row = self._db.execute(
            "SELECT sha256 FROM model_hashes WHERE path=? AND size=? AND mtime_ns=?",
            (str(path), st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row:
            return str(row[0])
        digest = str(compute(path))
        self._db.execute(
            "INSERT OR REPLACE INTO model_hashes VALUES (?, ?, ?, ?)", (str(path), st.st_size, st.st_mtime_ns, digest)
        )
        self._db.commit()
        return digest

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        if self._conn is not None:
            self._conn.commit()
        self._pending = 0

    def close(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self._conn is not None:
            self.commit()
            self._conn.close()
            self._conn = None

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
