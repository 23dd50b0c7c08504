"""The review page's pictures: the report's thumbnails (cleaner.report.thumbnails: read without following
a link, within the memory budget, decoded upright, JPEG), cached by content in the state database (the
bytes at a path known by their sha256 while its size, mtime, ctime and inode are unchanged: never the
thumbnail of other bytes of the same size), and a larger one for the full view. Never the photo's own
bytes: what the browser gets is always a JPEG face-clean made, whatever the file held."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading

from cleaner.analysis.decode import Unreadable
from cleaner.paths import Layout
from cleaner.report.thumbnails import QUALITY, Thumb, content_at, make_thumb, read_photo, read_with_stat
from cleaner.store.thumbnails import ThumbnailTable

FULL_SIZE = 1600  # the full view's longer side: a screen's worth


class Pictures:
    def __init__(self, layout: Layout, thumb_size: int, max_pixels: int) -> None:
        self.thumb_size, self.max_pixels = thumb_size, max_pixels
        self.spec = f"{thumb_size}px-q{QUALITY}"
        self._lock = threading.Lock()  # one SQLite connection, shared by the server's threads in turn
        self._table: ThumbnailTable | None = None
        self._state_db = layout.state_db

    def _cache(self) -> ThumbnailTable:
        if self._table is None or self._table.db is None:  # made on first use: the daemon may make state.db later
            self._table = ThumbnailTable(self._state_db, shared=True)
        return self._table

    def thumb(self, path: str) -> Thumb | None:
        """The thumbnail of the bytes at ``path`` now (a file of the folder, quarantine or review folder)."""
        row = None
        with self._lock, contextlib.suppress(sqlite3.Error):  # a busy or broken cache: made afresh
            table = self._cache()
            sha = content_at(table, path)
            row = None if sha is None else table.get(sha, self.spec)
        if row is not None:
            return Thumb(*row)
        try:
            data, st = read_with_stat(path)
            made = make_thumb(data, self.thumb_size, self.max_pixels)
        except (OSError, Unreadable):
            return None
        sha = hashlib.sha256(data).hexdigest()
        with self._lock, contextlib.suppress(sqlite3.Error):  # busy (the daemon writes): cached another time
            table = self._cache()
            table.put(self.spec, {sha: (made.jpeg, made.width, made.height)})
            table.note_contents({path: (st, sha)})
            if table.db is not None:  # none where the folder has no usable state database
                table.db.commit()
        return made

    def full(self, path: str) -> Thumb | None:
        return self._make(path, FULL_SIZE)

    def _make(self, path: str, size: int) -> Thumb | None:
        try:
            return make_thumb(read_photo(path), size, self.max_pixels)
        except (OSError, Unreadable):
            return None

    def close(self) -> None:
        with self._lock:
            if self._table is not None:
                self._table.close()
