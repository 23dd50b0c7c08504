"""JSON Lines files that a power cut, a full disk or someone else may have damaged: the audit log and the journals.

Reading takes each line on its own: a line that is not valid UTF-8 (cut inside a character), not
JSON, not an object, nested past what the parser allows, or longer than any record of ours is
skipped, and the reader says once how many it skipped. Writing appends; a file whose last byte is
not a newline (a line torn by a crash) gets one first, so the next record never joins the torn one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import Folder, open_folder, write_all

log = logging.getLogger("face-clean")
MAX_LINE = 16 << 20  # far past any record (a photo with a thousand faces is some 300 KB)
CHUNK = 1 << 20


def json_line(fields: dict[str, Any]) -> str:
    """One JSON line, UTF-8 where it can be; a file name that is not valid UTF-8 is written with
    ASCII escapes (``\\udce9``), which ``json.loads`` and ``os.fsencode`` turn back into its bytes."""
    line = json.dumps(fields, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(fields, ensure_ascii=True)
    return line + "\n"


def parse(line: bytes) -> dict[str, Any] | None:
    """One line as a JSON object, or None when it is anything else."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def lines(fd: int) -> Iterator[bytes | None]:
    """The file's lines without their newline, read in chunks; None for a line too long to be ours."""
    pending, too_long = b"", False
    while True:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield None if too_long else line
            too_long = False
        if len(pending) > MAX_LINE:
            pending, too_long = b"", True
    if pending or too_long:
        yield None if too_long else pending


def read_objects(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The objects of a JSON Lines file (opened without following a link), from byte ``offset`` (the
    start of a line), and how many lines were not one."""
    bad = [0]
    objects = list(iter_objects(path, offset, bad))
    return objects, bad[0]


def iter_objects(path: Path, offset: int = 0, bad: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """``read_objects`` one at a time, in bounded memory whatever the file's size (a log of millions of
    tiny lines included); ``bad[0]`` counts the lines that were not one."""
    with open_folder(path.parent) as folder:
        fd = folder.open_file(path.name, os.O_RDONLY)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        for line in lines(fd):
            value = None if line is None else parse(line)
            if value is not None:
                yield value
            elif bad is not None and (line is None or line.strip()):
                bad[0] += 1
    finally:
        os.close(fd)


def say_skipped(path: Path, bad: int, one: str, many: str) -> None:
    if bad:
        log.warning("%s: skipped %d line%s %s", path, bad, "s" * (bad != 1), one if bad == 1 else many)


class Appender:
    """A JSON Lines file opened for appending in ``folder`` (no link, no second name); starts on a fresh
    line. With ``what``, a file that does not begin like one of ours (``{``: a photo named by mistake as
    the audit log) is not touched."""

    def __init__(self, folder: Folder, name: str, what: str | None = None, mode: int = 0o600) -> None:
        self.path = folder.path / name
        self.fd = folder.open_file(name, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
        try:
            size = os.fstat(self.fd).st_size
            if what and size and os.pread(self.fd, 1, 0) != b"{":
                raise UnsafePath(f"{self.path} exists and is not a face-clean {what}; not writing to it")
            if size and os.pread(self.fd, 1, size - 1) != b"\n":
                write_all(self.fd, b"\n")  # the last line was torn: it stays alone, and is skipped when read
        except OSError:
            os.close(self.fd)
            raise

    def write(self, line: str, durable: bool) -> None:
        write_all(self.fd, line.encode("utf-8", "surrogateescape"))
        if durable:
            os.fsync(self.fd)

    def truncate(self) -> None:
        os.ftruncate(self.fd, 0)

    @property
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
