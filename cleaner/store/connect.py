"""Opening the state database (SQLite) without following a link planted in the state folder.

SQLite opens files by name, never by descriptor, so the name it is given leads through the folder
face-clean holds open and has checked: ``/proc/self/fd/<folder>/state.db``, which the kernel
resolves to that very folder wherever it has been renamed to. Before the open, the database and
its ``-wal``, ``-shm`` and ``-journal`` files must be regular files with one name if they exist;
after it (and after WAL mode is on, so that SQLite holds its ``-wal`` and ``-shm`` files open for
as long as the connection lives), the files SQLite holds must be the ones in that folder. SQLite
itself keeps the name it resolved, and removes ``-wal`` and ``-shm`` by that name when it closes.
The schema is not trusted either (``trusted_schema=OFF``): a crafted database cannot make
face-clean run its triggers' functions.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import PRIVATE, Folder, check_private, open_folder, same_file
from cleaner.paths import SQLITE_SUFFIXES


def connect(path: Path, read_only: bool = False, **kwargs: Any) -> sqlite3.Connection:
    """A connection to ``path``, a regular file in a private folder reached without following links;
    in WAL mode unless ``read_only``."""
    with open_folder(path.parent, create=not read_only, mode=PRIVATE) as folder:
        if not read_only:
            check_private(folder, "the state database's folder")
        _check_files(folder, path.name)
        by_folder = f"/proc/self/fd/{folder.fd}/{path.name}"
        target = by_folder if os.path.isdir(f"/proc/self/fd/{folder.fd}") else str(path)
        mode = "ro" if read_only else "rwc"
        conn: sqlite3.Connection = sqlite3.connect(f"file:{target}?mode={mode}", uri=True, **kwargs)
        try:
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens (or makes) the file now
            if not read_only:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # and now its -wal and -shm
            for suffix in ("", "-wal") if not read_only else ("",):
                _check_opened(folder, path.name + suffix)
        except BaseException:
            conn.close()
            raise
    return conn


def _check_files(folder: Folder, name: str) -> None:
    for suffix in SQLITE_SUFFIXES:
        st = folder.lstat(name + suffix)
        if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink != 1):
            raise UnsafePath(f"{folder.path / (name + suffix)} is not a regular file with one name; not opening it")


def _check_opened(folder: Folder, name: str) -> None:
    """The database SQLite has open is the one in ``folder``: found among this process's descriptors."""
    st = folder.lstat(name)
    if st is None or not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{folder.path / name} is not a regular file; not using it")
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return  # no /proc: the checks before the open are all there is
    for fd in fds:
        try:
            if same_file(st, os.stat(f"/proc/self/fd/{fd}")):
                return
        except OSError:
            continue
    raise UnsafePath(f"{folder.path / name} changed while it was being opened; not using it")
