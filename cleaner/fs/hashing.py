"""Content hashes: how face-clean recognises a file whatever its name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cleaner.fs.safefs import ROOT, open_folder


def sha256_file(path: Path) -> str:
    """A file named by the administrator (a model file): a link there is followed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def hash_file(path: Path, base: Path = ROOT) -> tuple[os.stat_result, str]:
    """The regular file at ``path`` (no link followed below ``base``, no pipe waited on) and its sha256."""
    with open_folder(path.parent, base) as folder:
        fd = folder.open_file(path.name, os.O_RDONLY)
    try:
        return os.fstat(fd), hash_fd(fd)
    finally:
        os.close(fd)
