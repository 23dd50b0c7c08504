"""``face-clean report``: one self-contained HTML page showing what a run decided, file by file.

The faces come from the audit record, never from a model: the report only reads each file from
where it is now, decodes it upright (``cleaner.analysis.decode``) into a small JPEG, and lets the page draw
the boxes over it, so a thumbnail depends on the bytes alone and is cached by sha256 in the state
database. The page embeds its data as one JSON blob and shows a page of tiles at a time, so
10,000 files do not mean 10,000 images in the DOM; its script and style are pinned by hash in a
Content-Security-Policy that allows nothing else (no fetch, no remote resource, no injected code).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import sqlite3
import stat
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cleaner.analysis.decode import DEFAULT_BUDGET, Unreadable, decode
from cleaner.errors import ReportError
from cleaner.fs.safefs import open_folder
from cleaner.paths import STATE_DB
from cleaner.pipeline.state.connect import connect

# The order of the groups: what needs a person first, what went well last.
OUTCOMES = ("review", "failed move", "quarantined", "unreadable", "error", "skipped", "restored", "kept")
QUALITY = 70
MAX_BYTES = DEFAULT_BUDGET  # a bigger "photo" is not read for a thumbnail
THUMBS_SCHEMA = """CREATE TABLE IF NOT EXISTS report_thumbnails (
    sha256 TEXT NOT NULL, spec TEXT NOT NULL, jpeg BLOB NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    PRIMARY KEY (sha256, spec))"""




@dataclass(frozen=True)
class Thumb:
    jpeg: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Report:
    """What the page shows, and what it took (for the command's closing line)."""

    run: str  # the run id, or "all runs (N)"
    roots: list[str]  # the folders the records are about
    decided: tuple[str, str] | None  # the first and last record's time
    tiles: list[dict[str, Any]]  # one per file, in group order; "thumb" indexes ``thumbs``
    thumbs: list[list[Any]]  # [data URI, width, height] of each distinct thumbnail
    outcomes: dict[str, int]  # files per outcome, in the page's order
    made: int  # thumbnails decoded now
    cached: int  # thumbnails taken from the state database
    placeholders: int  # files shown without a picture (unreadable, missing, changed)


def outcome(r: dict[str, Any]) -> str:
    """One word per file for grouping and filtering: what happened to it, or what was wrong with it."""
    action, status = r.get("action"), r.get("status")
    if action == "restore":
        return "restored"
    if status == "analysed" and r.get("error") and action in ("quarantine", "review") and not r.get("moved"):
        return "failed move"
    if status in ("unreadable", "skipped", "error"):
        return str(status)
    return {"keep": "kept", "quarantine": "quarantined", "review": "review"}.get(str(action), str(action))


def select(records: list[dict[str, Any]], run_id: str | None, all_runs: bool) -> tuple[list[dict[str, Any]], str]:
    """The latest record per file of one run (by default the run of the last record), or of all runs."""
    if not records:
        raise ReportError("the audit log holds no records yet")
    if all_runs:
        chosen, label = records, f"all runs ({len({r.get('run_id') for r in records})})"
    else:
        wanted = run_id or records[-1].get("run_id")
        chosen, label = [r for r in records if r.get("run_id") == wanted], str(wanted)
        if not chosen:
            runs = list(dict.fromkeys(r.get("run_id") for r in reversed(records)))
            raise ReportError(f"no run {wanted!r} in the audit log; its latest runs: {', '.join(map(str, runs[:5]))}")
    latest = {(r.get("root"), r.get("path")): r for r in chosen}
    return list(latest.values()), label


def location(r: dict[str, Any], now_at: dict[tuple[Any, Any], str] | None = None) -> str:
    """Where the record left the file: its destination if it was moved, else where it was. If it is gone
    from there, where the latest record of the whole log (``now_at``) left it: restored, quarantined again."""
    moved = r.get("moved") and r.get("destination")
    at = str(r.get("destination")) if moved else os.path.join(str(r.get("root")), str(r.get("path")))
    return at if now_at is None or _size(at) is not None else now_at.get((r.get("root"), r.get("path")), at)


def read_photo(path: str) -> bytes:
    """The file's bytes; a link (anywhere on its path), a FIFO or a device named in a tampered log is
    neither followed nor waited on."""
    with open_folder(Path(path).parent) as folder:
        fd = folder.open_file(Path(path).name, os.O_RDONLY)  # UnsafePath: an OSError that says why
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_size > MAX_BYTES:
            raise Unreadable(f"{path} is too large for a thumbnail ({st.st_size} bytes)")
        return fh.read(MAX_BYTES + 1)


def make_thumb(data: bytes, size: int, max_pixels: int) -> Thumb:
    """A JPEG at most ``size`` pixels on its longer side, upright; JPEGs are decoded straight at a reduced scale."""
    decoded = decode(data, max_pixels, draft_to=size)
    img = Image.fromarray(np.ascontiguousarray(decoded.bgr[:, :, ::-1]))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY, optimize=True)
    return Thumb(buf.getvalue(), img.width, img.height)


def _why_not(err: OSError, path: str) -> str:
    if isinstance(err, FileNotFoundError):
        return f"not found at {path}: moved or deleted since"
    return f"cannot read {path}: {err.strerror or err}"


class Thumbnails:
    """Thumbnails by content: each distinct photo is decoded once, and once only across reports
    when the state database is there to keep them (the table ``report_thumbnails``)."""

    def __init__(self, state_db: Path | None, size: int, max_pixels: int) -> None:
        self.size, self.max_pixels, self.spec = size, max_pixels, f"{size}px-q{QUALITY}"
        self.cached = 0
        self.known: dict[str, Thumb] = {}  # by sha256: every thumbnail of this report
        self.new: dict[str, Thumb] = {}  # the ones made now
        self._lock = threading.Lock()
        self.db: sqlite3.Connection | None = None
        if state_db is not None and state_db.is_file():  # never create a state database where there is none
            try:
                self.db = connect(state_db, timeout=10)
                self.db.execute(THUMBS_SCHEMA)
            except (OSError, sqlite3.Error):
                self.db = None  # read-only, locked or not to be trusted: the report is made without the cache

    def lookup(self, sha256: str | None) -> Thumb | None:
        """The thumbnail of these bytes if it was made before (in this report, or in the database)."""
        if not sha256 or sha256 in self.known or self.db is None:
            return self.known.get(sha256 or "")
        q = "SELECT jpeg, width, height FROM report_thumbnails WHERE sha256=? AND spec=?"
        row = self.db.execute(q, (sha256, self.spec)).fetchone()
        if row is not None and isinstance(row[0], bytes) and all(isinstance(v, int) for v in row[1:]):
            self.cached += 1  # (a crafted row, say an integer for the JPEG, is not one)
            self.known[sha256] = Thumb(row[0], row[1], row[2])
        return self.known.get(sha256)

    def _load(self, path: str) -> tuple[str | None, Thumb | str]:
        """(sha256 of what was read, its thumbnail or why there is none); runs in a worker thread."""
        try:
            data = read_photo(path)
        except OSError as err:
            return None, _why_not(err, path)
        except Unreadable as err:
            return None, str(err)
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            known = self.known.get(sha)  # a copy of a photo decoded already
        if known is not None:
            return sha, known
        try:
            thumb = make_thumb(data, self.size, self.max_pixels)
        except Unreadable as err:
            return sha, f"cannot be shown: {err}"
        with self._lock:
            if sha not in self.known:
                self.known[sha] = self.new[sha] = thumb
        return sha, thumb

    def load_all(self, paths: Iterable[str]) -> dict[str, tuple[str | None, Thumb | str]]:
        """Read and decode the files in parallel (decoding releases the GIL); store the new thumbnails."""
        todo = list(dict.fromkeys(paths))
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            loaded = dict(zip(todo, pool.map(self._load, todo), strict=True))
        if self.db is not None:
            q = "INSERT OR REPLACE INTO report_thumbnails VALUES (?, ?, ?, ?, ?)"
            self.db.executemany(q, [(s, self.spec, t.jpeg, t.width, t.height) for s, t in self.new.items()])
        return loaded

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):  # a locked database costs the next report time, nothing else
                self.db.commit()
            self.db.close()


def _where(r: dict[str, Any], at: str) -> str:
    """The file's place now, relative to its folder when it is inside it (shorter, and what a person looks for)."""
    root = str(r.get("root") or "").rstrip(os.sep) + os.sep
    return at[len(root) :] if at.startswith(root) and root != os.sep else at


def _num(v: Any, digits: int) -> float | None:
    return round(v, digits) if isinstance(v, (int, float)) else None


def _faces(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each face's box in the full upright image, its dominant gender with its probability, and the rest."""
    out = []
    for f in r.get("faces") or []:
        box, gender, dominant = f.get("box"), f.get("gender"), f.get("dominant_gender")
        box, gender = box if isinstance(box, dict) else {}, gender if isinstance(gender, dict) else {}
        p = _num(gender.get(dominant), 3) if isinstance(dominant, str) else None
        extra = {"det": _num(f.get("detector_confidence"), 3), "age": _num(f.get("age"), 0)}
        out.append({**{k: _num(box.get(k), 0) or 0 for k in "xywh"}, "gender": dominant, "p": p, **extra})
    return out


FIELDS = ("path", "rule", "action", "reason", "status", "error", "width", "height", "moved", "dry_run", "uncertain")


def _item(r: dict[str, Any], at: str, thumb: int | None, note: str | None) -> dict[str, Any]:
    """One tile's data; a file that changed since the run gets no boxes (they were found in other bytes)."""
    tile = {k: r.get(k) for k in FIELDS} | {"outcome": outcome(r), "at": _where(r, at), "thumb": thumb, "note": note}
    return tile | {"faces": _faces(r) if note is None else []}


def _picture(r: dict[str, Any], got: tuple[str | None, Thumb | str | None]) -> tuple[Thumb | None, str | None]:
    """The thumbnail a tile shows, and why it shows another picture or none (unreadable files show their error)."""
    sha, found = got
    if r.get("status") != "analysed":
        return None, None
    if not isinstance(found, Thumb):
        return None, found or "no thumbnail"
    if sha != r.get("sha256"):
        return found, "changed since the run: the picture shows the file now, without the faces found then"
    return found, None


def items(
    records: list[dict[str, Any]], thumbs: Thumbnails, now_at: dict[tuple[Any, Any], str]
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The page's tiles in group order, and the distinct thumbnails they point to (as data URIs)."""
    records = sorted(records, key=lambda r: (_rank(outcome(r)), str(r.get("path"))))
    places = [location(r, now_at) for r in records]
    todo = [(r, at) for r, at in zip(records, places, strict=True) if r.get("status") == "analysed"]
    loaded: dict[str, tuple[str | None, Thumb | str]] = {}
    for first in (True, False):  # first one file per recorded sha256, so that its copies need not be read
        # an unchanged size and a thumbnail of the recorded sha256: the file is not read
        todo = [
            (r, at)
            for r, at in todo
            if at not in loaded and not (_size(at) == r.get("size") and thumbs.lookup(r.get("sha256")))
        ]
        loaded |= thumbs.load_all({(r.get("sha256") if first else None) or at: at for r, at in todo}.values())
    index: dict[Thumb, int] = {}
    out = []
    for r, at in zip(records, places, strict=True):
        thumb, note = _picture(r, loaded.get(at) or (r.get("sha256"), thumbs.known.get(r.get("sha256") or "")))
        out.append(_item(r, at, None if thumb is None else index.setdefault(thumb, len(index)), note))
    uris = [["data:image/jpeg;base64," + base64.b64encode(t.jpeg).decode(), t.width, t.height] for t in index]
    return out, uris


def _rank(name: str) -> int:
    return OUTCOMES.index(name) if name in OUTCOMES else len(OUTCOMES)


def _size(path: str) -> int | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def collect(audit_log: Path, run_id: str | None, all_runs: bool, thumb_size: int, max_pixels: int) -> Report:
    """Read the audit log and make the thumbnails (through the cache): everything the page shows."""
    from cleaner.pipeline.audit import read

    if not audit_log.is_file():
        raise ReportError(f"no audit log at {audit_log}: run face-clean first, or name the log with --audit-log")
    everything = read(audit_log)
    records, label = select(everything, run_id, all_runs)
    now_at = {(r.get("root"), r.get("path")): location(r) for r in everything}
    thumbs = Thumbnails(audit_log.with_name(STATE_DB), thumb_size, max_pixels)
    try:
        tiles, uris = items(records, thumbs, now_at)
    finally:
        thumbs.close()
    counts = Counter(t["outcome"] for t in tiles)
    times = sorted(str(r.get("time")) for r in records if r.get("time"))
    outcomes = {o: counts[o] for o in (*OUTCOMES, *sorted(counts)) if counts[o]}
    placeholders = sum(t["thumb"] is None or t["note"] is not None for t in tiles)
    roots, decided = sorted({str(r.get("root")) for r in records}), ((times[0], times[-1]) if times else None)
    return Report(label, roots, decided, tiles, uris, outcomes, len(thumbs.new), thumbs.cached, placeholders)
