"""Thumbnails as photos are decided: run and watch make the thumbnail of each photo they send to review
or to the quarantine (what the review page shows first) right after its move, so that the page and the
report open with pictures instead of making them on request.

What a thumbnail is lives here too (the report and the page make theirs the same way): the file read
without following a link and never beyond the memory budget, decoded upright (a JPEG at a reduced
scale while decoding), a small JPEG. Stored by content in the state database, with the fingerprint of
the file it was read from (cleaner.store.thumbnails). The cost is bounded: one reduced-scale
decode per moved photo (bench/thumbs_at_decision.py measures it), none for a kept photo, none in a dry
run; any failure costs the page its early picture, never the decision.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cleaner.analysis.decode import DEFAULT_BUDGET, Unreadable, decode
from cleaner.errors import StateError
from cleaner.fs.safefs import open_folder
from cleaner.store.db import StateDB

log = logging.getLogger("face-clean")
QUALITY = 70
MAX_BYTES = DEFAULT_BUDGET  # a bigger "photo" is not read for a thumbnail
SIZE = 160  # the page's and the report's default thumbnail size
MAX_PIXELS = 200_000_000  # as the page's and the report's default


@dataclass(frozen=True)
class Thumb:
    jpeg: bytes
    width: int
    height: int


def spec(size: int) -> str:
    """How a thumbnail was made (its size, its quality): part of its key in the cache."""
    return f"{size}px-q{QUALITY}"


def read_with_stat(path: str) -> tuple[bytes, os.stat_result]:
    """The file's bytes, and its stat as it was read; a link (anywhere on its path), a FIFO or a device
    named in a tampered log is neither followed nor waited on."""
    with open_folder(Path(path).parent) as folder:
        fd = folder.open_file(Path(path).name, os.O_RDONLY)  # UnsafePath: an OSError that says why
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_size > MAX_BYTES:
            raise Unreadable(f"{path} is too large for a thumbnail ({st.st_size} bytes)")
        return fh.read(MAX_BYTES + 1), st


def make_thumb(data: bytes, size: int, max_pixels: int) -> Thumb:
    """A JPEG at most ``size`` pixels on its longer side, upright; JPEGs are decoded straight at a reduced scale."""
    decoded = decode(data, max_pixels, draft_to=size)
    img = Image.fromarray(np.ascontiguousarray(decoded.bgr[:, :, ::-1]))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY, optimize=True)
    return Thumb(buf.getvalue(), img.width, img.height)


class DecisionThumbs:
    """The thumbnails of the photos one job moves, in the job's state database, on its connection (the rows
    commit with the job's own: no second writer waits on its transaction)."""

    def __init__(self, state: StateDB, size: int = SIZE) -> None:
        self.state, self.size = state, size
        self.made = 0

    def moved(self, path: str) -> None:
        """The photo now at ``path`` (just moved there): its thumbnail, unless these bytes have one."""
        try:
            table = self.state.thumbnails()
            data, st = read_with_stat(path)
            sha = hashlib.sha256(data).hexdigest()
            if table.get(sha, spec(self.size)) is None:
                made = make_thumb(data, self.size, MAX_PIXELS)
                table.put(spec(self.size), {sha: (made.jpeg, made.width, made.height)})
                self.made += 1
            table.note_contents({path: (st, sha)})
        except (OSError, Unreadable, sqlite3.Error, StateError, ValueError) as err:  # the page makes it on request
            log.debug("%s: no thumbnail now: %s", path, err)
