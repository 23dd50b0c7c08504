"""The report's thumbnails: each file read from where it is now (never through a link, never more than
the memory budget), decoded upright into a small JPEG, by content, in parallel; kept in the state
database between reports (cleaner.store.thumbnails)."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cleaner.analysis.decode import Unreadable
from cleaner.pipeline.thumbs import MAX_BYTES, QUALITY, Thumb, make_thumb, read_with_stat
from cleaner.store.thumbnails import ThumbnailTable

__all__ = ["MAX_BYTES", "QUALITY", "Thumb", "Thumbnails", "content_at", "make_thumb", "read_photo", "read_with_stat"]


def read_photo(path: str) -> bytes:
    """The file's bytes; a link (anywhere on its path), a FIFO or a device named in a tampered log is
    neither followed nor waited on."""
    return read_with_stat(path)[0]


def content_at(table: ThumbnailTable, path: str) -> str | None:
    """The sha256 of the bytes at ``path`` now, if they were read before and the file is unchanged since
    (size, mtime, ctime, inode); None: it must be read."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return table.content_at(path, st) if stat.S_ISREG(st.st_mode) else None


def _why_not(err: OSError, path: str) -> str:
    if isinstance(err, FileNotFoundError):
        return f"not found at {path}: moved or deleted since"
    return f"cannot read {path}: {err.strerror or err}"


class Thumbnails:
    """Thumbnails by content: each distinct photo is decoded once, and once only across reports
    when the state database is there to keep them (cleaner.store.thumbnails)."""

    def __init__(self, state_db: Path | None, size: int, max_pixels: int) -> None:
        self.size, self.max_pixels, self.spec = size, max_pixels, f"{size}px-q{QUALITY}"
        self.cached = 0
        self.known: dict[str, Thumb] = {}  # by sha256: every thumbnail of this report
        self.new: dict[str, Thumb] = {}  # the ones made now
        self.seen: dict[str, tuple[os.stat_result, str]] = {}  # path -> (its stat, sha256): the files read now
        self._lock = threading.Lock()
        self.table = ThumbnailTable(state_db)

    def lookup(self, sha256: str | None) -> Thumb | None:
        """The thumbnail of these bytes if it was made before (in this report, or in the database)."""
        if not sha256 or sha256 in self.known:
            return self.known.get(sha256 or "")
        row = self.table.get(sha256, self.spec)
        if row is not None:
            self.cached += 1
            self.known[sha256] = Thumb(*row)
        return self.known.get(sha256)

    def _load(self, path: str) -> tuple[str | None, Thumb | str]:
        """(sha256 of what was read, its thumbnail or why there is none); runs in a worker thread."""
        try:
            data, st = read_with_stat(path)
        except OSError as err:
            return None, _why_not(err, path)
        except Unreadable as err:
            return None, str(err)
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            self.seen[path] = (st, sha)
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
        self.table.put(self.spec, {s: (t.jpeg, t.width, t.height) for s, t in self.new.items()})
        self.table.note_contents(self.seen)
        return loaded

    def content_at(self, path: str) -> str | None:
        """The sha256 of what is at ``path`` now, known without reading it (content_at)."""
        return content_at(self.table, path)

    def close(self) -> None:
        self.table.close()
