"""The state database (SQLite, beside the audit log): what each file is and what was found in it.

Analyses are keyed by the file's sha256 plus the identity of what analysed it (engine,
detector, model files, attributes), so renaming or moving a photo keeps its analysis, a new
model invalidates it, and an edit of the rules re-decides from it without running a model.
A second table remembers each path's size and mtime with its sha256, so an unchanged file is
not even read again.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from cleaner.errors import StateError
from cleaner.fs.safefs import fingerprint
from cleaner.records import Box, Face, ImageAnalysis, Status
from cleaner.store.connect import connect
from cleaner.store.decided import DECIDED_SCHEMA, Decided, migrate
from cleaner.store.decided import path_key as _key
from cleaner.store.people import PEOPLE_SCHEMA, People
from cleaner.store.runs import RUNS_SCHEMA, Runs
from cleaner.store.thumbnails import ThumbnailTable
from cleaner.store.tuning import TUNING_SCHEMA, Tunings
from cleaner.store.verdicts import VERDICTS_SCHEMA, Verdicts

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
            "near_misses": [asdict(f) for f in a.near_misses],
        }
    )


def _from_json(text: Any, path: Path, size: int, sha256: str, mtime_ns: int) -> ImageAnalysis | None:
    """The analysis a row holds; None for a row that is not one (damaged, or crafted): analysed again."""
    try:
        d: dict[str, Any] = json.loads(text)
        faces = tuple(Face(**{**f, "box": Box(**f["box"])}) for f in d["faces"])
        near = tuple(Face(**{**f, "box": Box(**f["box"])}) for f in d.get("near_misses", []))
        status, error, width, height, notes = Status(d["status"]), d["error"], d["width"], d["height"], d["notes"]
        analysis = ImageAnalysis(
            path, size, sha256, status, error, width, height, faces, mtime_ns, tuple(notes), True, near_misses=near
        )
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
        return None
    valid = all(_sane(f) for f in (*faces, *near)) and isinstance(error, (str, type(None)))
    return analysis if valid and all(isinstance(v, (int, type(None))) for v in (width, height)) else None


def _sane(f: Face) -> bool:
    """A face the rules can read: what a crafted row holds instead would stop the run deep in a decision.
    (The types say what a face should hold; a row read back may hold anything, so it is checked as such.)"""
    number = (int, float)
    box = all(isinstance(v, int) for v in (f.box.x, f.box.y, f.box.w, f.box.h))
    genders: object = f.gender
    gender = genders is None or (isinstance(genders, dict) and all(isinstance(v, number) for v in genders.values()))
    confidence, age, dominant = (cast(object, v) for v in (f.detector_confidence, f.age, f.dominant_gender))
    rest = isinstance(confidence, number) and all(
        isinstance(v, (*number, type(None))) for v in (age, f.yaw, f.sharpness)
    )
    return box and gender and rest and isinstance(dominant, (str, type(None)))


def _marks(keys: list[str]) -> str:
    return ",".join("?" * len(keys))


T = TypeVar("T")


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """SQLite's errors mid-run ("database or disk is full", a crafted schema) as a StateError: a message."""

    @functools.wraps(method)
    def wrapper(self: StateDB, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as err:
            raise StateError(f"stopped: cannot use the state database {self.path}: {err}", at_start=False) from None

    return wrapper


class StateDB(Decided, Runs, Tunings, Verdicts, People):
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
            conn = None
            try:
                conn = connect(self.path, isolation_level="DEFERRED")  # in WAL mode
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(DECIDED_SCHEMA)
                conn.executescript(VERDICTS_SCHEMA)
                migrate(conn)
                conn.executescript(RUNS_SCHEMA)
                conn.executescript(TUNING_SCHEMA)
                conn.executescript(PEOPLE_SCHEMA)  # cleaner.store.people
                conn.executescript(SCHEMA)
                conn.commit()
            except (OSError, sqlite3.Error) as err:
                if conn is not None:
                    conn.close()
                reason = getattr(err, "strerror", None) or err
                raise StateError(f"cannot write the state database {self.path}: {reason}") from None
            self._conn = conn
        return self._conn

    def thumbnails(self) -> ThumbnailTable:
        """The thumbnail cache in this database, on its connection (its rows commit with the others)."""
        try:
            return ThumbnailTable.on(self._db)
        except sqlite3.Error as err:
            raise StateError(f"cannot write the state database {self.path}: {err}") from None

    # -- files ---------------------------------------------------------------------------
    @_guarded
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
        if analysis.status not in (Status.ERROR, Status.SKIPPED) and not analysis.cached:  # skipped: the budget's
            self._db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?)", (analysis.sha256, identity, _to_json(analysis))
            )
        self._tick()

    @_guarded
    def forget_file(self, path: Path) -> None:
        self._unchanged.pop(_key(path), None)
        self._db.execute("DELETE FROM files WHERE path=?", (_key(path),))
        self.forget_decided(path)
        self._tick()

    @_guarded
    def known_size(self, size: int) -> bool:
        """Some file of this size was seen: a new file of another size cannot be a known photo renamed."""
        return self._db.execute("SELECT 1 FROM files WHERE size = ? LIMIT 1", (size,)).fetchone() is not None

    # -- decisions (cleaner.store.decided), with SQLite's errors mid-run as a StateError ------------
    mark_decided = _guarded(Decided.mark_decided)
    forget_decided = _guarded(Decided.forget_decided)
    undecided = _guarded(Decided.undecided)
    decided_paths = _guarded(Decided.decided_paths)
    known_as = _guarded(Decided.known_as)
    said_before = _guarded(Decided.said_before)
    audit_position = _guarded(Decided.audit_position)
    note_audit_position = _guarded(Decided.note_audit_position)
    run_started = _guarded(Runs.run_started)
    run_ended = _guarded(Runs.run_ended)
    run_listed = _guarded(Runs.run_listed)
    # -- a person's verdicts (cleaner.store.verdicts) ------------------------------------------------
    verdict = _guarded(Verdicts.verdict)
    all_verdicts = _guarded(Verdicts.all_verdicts)
    give_verdict = _guarded(Verdicts.give_verdict)
    withdraw_verdict = _guarded(Verdicts.withdraw_verdict)

    # -- analyses ------------------------------------------------------------------------
    def cached_many(self, paths: list[Path], identity: str) -> Iterator[ImageAnalysis | Path]:
        """Each path's cached analysis if the file is unchanged, else the path, in order."""
        sql = (
            "SELECT f.path, f.size, f.mtime_ns, f.sha256, a.result FROM files f "
            "JOIN analyses a ON a.sha256 = f.sha256 AND a.identity = ? WHERE f.path IN ({marks})"
        )
        try:
            for path, key, row in self._rows_by_path(sql, identity, paths):
                yield self._if_unchanged(path, key, row) or path
        except sqlite3.Error as err:
            raise StateError(f"stopped: cannot use the state database {self.path}: {err}", at_start=False) from None

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
        if fingerprint(path) != (size, mtime_ns):  # now, not when the chunk was queried: the run may be slow
            return None
        analysis = _from_json(result, path, size, sha256, mtime_ns) if isinstance(sha256, str) else None
        if analysis is not None:
            self._unchanged[key] = (size, mtime_ns, sha256)
        return analysis

    def lookup(self, path: Path, size: int, mtime_ns: int, sha256: str, identity: str) -> ImageAnalysis | None:
        """Find an analysis by content alone (a renamed or copied photo); safe from any thread."""
        try:
            with self._reader_lock:
                if self._reader is None:
                    _ = self._db  # make sure the database exists
                    self._reader = connect(self.path, read_only=True, check_same_thread=False)
                q = "SELECT result FROM analyses WHERE sha256=? AND identity=?"
                row = self._reader.execute(q, (sha256, identity)).fetchone()
        except (OSError, sqlite3.Error):
            return None  # the cache is an optimisation: without it the file is analysed
        return _from_json(row[0], path, size, sha256, mtime_ns) if row else None

    def by_content(self, path: Path, identity: str, read: Callable[[Path], Any]) -> ImageAnalysis | None:
        """A renamed or copied photo's analysis, found by reading and hashing it here with ``read``
        (``run --cluster``, whose workers read the files): only a file whose size some known file
        has is read for it."""
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or not self.known_size(st.st_size):
            return None
        f = read(path)
        if isinstance(f, ImageAnalysis):
            return None  # unreadable here: the worker will say why
        return self.lookup(f.path, len(f.data), f.st.st_mtime_ns, f.sha256, identity)

    # -- model files ---------------------------------------------------------------------
    @_guarded
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

    @_guarded
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
            try:
                self.commit()
            finally:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
