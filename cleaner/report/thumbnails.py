"""The report's thumbnails: each file read from where it is now (never through a link, never more than
the memory budget), decoded upright into a small JPEG, by content, in parallel; kept in the state
database between reports (cleaner.store.thumbnails)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cleaner.analysis.decode import DEFAULT_BUDGET, Unreadable, decode
from cleaner.fs.safefs import open_folder
from cleaner.store.thumbnails import ThumbnailTable

QUALITY = 70
MAX_BYTES = DEFAULT_BUDGET  # a bigger "photo" is not read for a thumbnail


@dataclass(frozen=True)
class Thumb:
    jpeg: bytes
    width: int
    height: int


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
    when the state database is there to keep them (cleaner.store.thumbnails)."""

    def __init__(self, state_db: Path | None, size: int, max_pixels: int) -> None:
        self.size, self.max_pixels, self.spec = size, max_pixels, f"{size}px-q{QUALITY}"
        self.cached = 0
        self.known: dict[str, Thumb] = {}  # by sha256: every thumbnail of this report
        self.new: dict[str, Thumb] = {}  # the ones made now
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
        self.table.put(self.spec, {s: (t.jpeg, t.width, t.height) for s, t in self.new.items()})
        return loaded

    def close(self) -> None:
        self.table.close()
