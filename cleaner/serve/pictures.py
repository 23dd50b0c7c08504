"""The review page's pictures: the report's thumbnails (cleaner.report.thumbnails: read without following
a link, within the memory budget, decoded upright, JPEG), cached by content in the state database, and
a larger one for the full view. Never the photo's own bytes: what the browser gets is always a JPEG
face-clean made, whatever the file held."""

from __future__ import annotations

import threading

from cleaner.analysis.decode import Unreadable
from cleaner.paths import Layout
from cleaner.report.thumbnails import QUALITY, Thumb, make_thumb, read_photo
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

    def thumb(self, path: str, sha256: str | None) -> Thumb | None:
        """The thumbnail of the file at ``path`` (a file of the folder, quarantine or review folder)."""
        if sha256:
            with self._lock:
                row = self._cache().get(sha256, self.spec)
            if row is not None:
                return Thumb(*row)
        made = self._make(path, self.thumb_size)
        if made is not None and sha256:
            with self._lock:
                table = self._cache()
                table.put(self.spec, {sha256: (made.jpeg, made.width, made.height)})
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
