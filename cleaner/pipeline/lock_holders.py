"""Who holds a face-clean lock, and whether a photo folder above or below one is locked.

``run /p`` and ``run /p/sub`` would both move the files of ``/p/sub``.  So after locking its
photo folder (cleaner.pipeline.lock), a process looks for a held lock in the state folders above it
and below it.  Both lock first and look second, so of two that start together the one that
looks last sees the other (both may stop, if they look at the same instant: neither has
touched anything then).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cleaner.fs.names import shown
from cleaner.fs.safefs import open_folder
from cleaner.fs.walking import walk
from cleaner.paths import FOLDER_NAME, ROOT_LOCK, STATE_DIR, outside_state, state_home


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: written into the lock file so that a second process can name it."""

    pid: int
    host: str
    command: str
    since: str  # ISO 8601 with the holder's offset
    made: tuple[str, ...] = ()  # folders made only to hold the lock: whoever takes it over removes them

    @classmethod
    def me(cls, command: str, made: tuple[str, ...] = ()) -> Holder:
        since = datetime.now().astimezone().isoformat("T", "seconds")
        return cls(os.getpid(), socket.gethostname(), command, since, made)

    @classmethod
    def parse(cls, data: bytes) -> Holder | None:
        try:
            fields = json.loads(data)
            made = tuple(str(m) for m in fields.get("made", ()))
            return cls(int(fields["pid"]), str(fields["host"]), str(fields["command"]), str(fields["since"]), made)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # empty (the holder has not written it yet) or not ours

    def alive(self) -> bool | None:
        """Whether the holder's process exists; None when it runs on another host."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            pass  # EPERM: it exists, as another user
        return True

    def describe(self) -> str:
        try:
            since = datetime.fromisoformat(self.since).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            since = self.since
        return shown(f"pid {self.pid} on {self.host}, '{self.command}', since {since}")  # read from a file


def held_nearby(root: Path, mine: Iterable[int]) -> str | None:
    """The message for a held photo-folder lock above or below ``root`` (not one of the locks this
    process holds, ``mine``: descriptors), or None. A photo folder's lock is in its state folder,
    inside it or, for a shared folder, in the account's state home (cleaner.paths.state_for): both
    places are looked at."""
    own = set()
    for fd in mine:
        st = os.fstat(fd)
        own.add((st.st_dev, st.st_ino))
    for folder in root.parents:
        for lock in (folder / STATE_DIR / ROOT_LOCK, outside_state(folder) / ROOT_LOCK):
            holder = _held(lock, own)
            if holder:
                return f"{root} is inside {folder}, which is in use by another face-clean ({holder})"
    for below, lock in _registered(root):
        holder = _held(lock, own)
        if holder:
            return f"{root} holds {below}, which is in use by another face-clean ({holder})"
    for below, dirs, _files in walk(str(root)):  # never follows a link, never recurses
        if below != str(root) and STATE_DIR in dirs:
            holder = _held(Path(below) / STATE_DIR / ROOT_LOCK, own)
            if holder:
                return f"{root} holds {below}, which is in use by another face-clean ({holder})"
        if STATE_DIR in dirs:
            dirs.remove(STATE_DIR)  # quarantines and review folders inside: not photo folders
    return None


def _registered(root: Path) -> Iterator[tuple[str, Path]]:
    """The shared photo folders below ``root`` that have a state folder in the account's state home."""
    home = state_home()
    try:
        names = os.listdir(home)
    except OSError:
        return
    prefix = os.fsencode(root).rstrip(b"/") + b"/"
    for name in names:
        try:
            with open_folder(home / name) as folder:
                fd = folder.open_file(FOLDER_NAME, os.O_RDONLY)
            try:
                path = os.read(fd, 4097).rstrip(b"\n")
            finally:
                os.close(fd)
        except OSError:
            continue
        if path.startswith(prefix) and b"\n" not in path:
            yield os.fsdecode(path), home / name / ROOT_LOCK


def _held(path: Path, own: set[tuple[int, int]]) -> str | None:
    """Who holds the lock file at ``path`` (or which file it is), or None if nobody does."""
    try:
        with open_folder(path.parent) as folder:  # never through a link
            fd = folder.open_file(path.name, os.O_RDONLY)
    except OSError:
        return None  # no lock file, or none we may read: no face-clean of ours holds it
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in own:
            return None
        if st.st_uid not in (os.geteuid(), 0):
            return None  # not a face-clean of this account: an uploader's, planted and held to stop us
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.parse(os.pread(fd, 4096, 0))
            return holder.describe() if holder else f"lock file {path}"
        except OSError:
            return None  # no locking here: nothing can be told
        return None
    finally:
        os.close(fd)  # drops our shared lock, if we got it
