"""What the review page shows: every file of the folder in its current state, from the audit log, read
as it grows (no lock: the log is only ever appended to), each under an id this process issued. A dry
run's record of a file a real run decided changes nothing there, and nothing on the page.

The browser names a photo by its id alone, never by a path: an id it did not get from here, or a path
where an id belongs, is unknown (404). A file is served or acted on only where its latest record says
it is, inside the folder, its quarantine or its review folder (cleaner.pipeline.verdicts.targets).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.audit.current import Place, fold, where
from cleaner.audit.log import read_complete
from cleaner.paths import Layout
from cleaner.pipeline.verdicts.apply import Target
from cleaner.pipeline.verdicts.targets import area_of
from cleaner.records import AuditRecord
from cleaner.report.collect import size_of, tile_of
from cleaner.store.connect import connect

# the groups of the page, in its order: what needs a person first, what went well last
ORDER = ("review", "quarantined", "failed move", "unreadable", "error", "skipped", "restored", "kept", "missing")
MISSING = "missing"  # not where its latest record left it: moved or deleted by someone else since


@dataclass
class Catalogue:
    layout: Layout
    latest: dict[Place, AuditRecord] = field(default_factory=dict)
    changed: dict[Place, int] = field(default_factory=dict)  # the change a file's state last came with
    ids: dict[str, Place] = field(default_factory=dict)
    id_of: dict[Place, str] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)  # sha256 -> keep | reject
    cursor: int = 0  # changes seen: the page asks for those after its own
    _offset: int = 0
    _inode: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        """Read what was appended to the audit log since the last look."""
        with self._lock:
            if not self.layout.audit_log.is_file():
                return
            records, offset, inode = read_complete(self.layout.audit_log, self._offset, self._inode)
            if inode != self._inode or offset < self._offset:  # a new log: start afresh (ids stay issued)
                self.latest.clear()
            self._offset, self._inode = offset, inode
            root = str(self.layout.root)
            changed = fold(self.latest, (r for r in records if r.root == root and not self._dry_after_real(r)))
            if changed:
                self.verdicts = self._read_verdicts()
            for key in changed:
                self.cursor += 1
                self.changed[key] = self.cursor
                if key not in self.id_of:
                    self.id_of[key] = token = secrets.token_urlsafe(12)
                    self.ids[token] = key

    def _dry_after_real(self, r: AuditRecord) -> bool:
        """A dry run's record of a file a real run decided: it moved nothing, so the folder is as before (the
        page shows the folder as it is: its counts are the folder's)."""
        before = self.latest.get((r.root, r.path))
        return r.dry_run and before is not None and not before.dry_run

    def _read_verdicts(self) -> dict[str, str]:
        """Every verdict by content, read-only (the writer may be the daemon, in this process or another)."""
        if not self.layout.state_db.is_file():
            return {}
        try:
            db = connect(self.layout.state_db, read_only=True)
            try:
                return {str(s): str(v) for s, v in db.execute("SELECT sha256, verdict FROM verdicts")}
            finally:
                db.close()
        except (OSError, sqlite3.Error):
            return self.verdicts  # busy or not there yet: as before

    def items(self, since: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The tiles of the files whose state changed after change ``since``, and the latest change."""
        self.refresh()
        with self._lock:
            keys = [k for k, n in self.changed.items() if n > since and k in self.latest]
            return [self._tile(k) for k in keys], self.cursor

    def tile(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            key = self.ids.get(token)
            return None if key is None or key not in self.latest else self._tile(key)

    def _tile(self, key: Place) -> dict[str, Any]:
        r = self.latest[key]
        at = where(r)
        present = size_of(at) is not None and area_of(self.layout, at) is not None
        note = None if present else "not found where the audit log says it is: moved or deleted since"
        tile = tile_of(r, at, None, note)
        if not present:  # counted apart: the page's counts are the files the folder holds now
            tile["outcome"] = MISSING
        group = tile["outcome"] + (f": {r.reason}" if tile["outcome"] in ("review", "quarantined") and r.reason else "")
        rank = ORDER.index(tile["outcome"]) if tile["outcome"] in ORDER else len(ORDER) - 1
        verdict = self.verdicts.get(r.sha256 or "")
        return tile | {"id": self.id_of[key], "group": group, "rank": rank, "present": present, "verdict": verdict}

    def target(self, token: str) -> Target | None:
        """The file an id names, where its latest record says it is, if that is a place the page may touch."""
        with self._lock:
            key = self.ids.get(token)
            record = None if key is None else self.latest.get(key)
        if record is None:
            return None
        at = where(record)
        area = area_of(self.layout, at)
        if area is None or size_of(at) is None:
            return None
        return Target(Path(at), area, record.path, record)

    def picture(self, token: str) -> tuple[str, AuditRecord] | None:
        """Where the photo an id names is now, and its record; None if it is not a file the page may show."""
        target = self.target(token)
        return None if target is None or target.record is None else (str(target.path), target.record)
