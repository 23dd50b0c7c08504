"""Filesystem events: watchdog's observer, turned into a queue of plain (kind, path) events.

The observer thread only queues; the daemon's main loop owns every decision.  Events for the
tool's own paths (quarantine, review folder, audit log, state) and for temporary names of
files still being uploaded (``.part``, ``.crdownload``, ``.tmp``, ``~``, dot-files) are dropped
here: a temporary file is seen when it is renamed to its final name.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingEmitter
from watchdog.utils.dirsnapshot import DirectorySnapshot

from cleaner.fs.walking import snapshot_walk, walk
from cleaner.paths import STATE_DIR
from cleaner.watch import fallback

log = logging.getLogger("face-clean")

TEMPORARY = re.compile(r"(^\.|\.(part|crdownload|tmp|partial|download|!ut|filepart)$|~$)", re.IGNORECASE)
# Filesystems whose changes made elsewhere (another machine, a FUSE daemon) raise no inotify event.
NETWORK_FILESYSTEMS = re.compile(r"^(nfs4?|cifs|smb3?|smbfs|9p|afs|ceph|glusterfs|davfs|fuse(\..*)?|fuseblk|virtiofs)$")
POLL_INTERVAL = 1.0

# Event kinds queued for the daemon.
CHANGED, OPENED, CLOSED, CLOSED_NO_WRITE, RENAMED_IN, REMOVED, DIR_APPEARED = (
    "changed",
    "opened",
    "closed",
    "closed-no-write",
    "renamed-in",
    "removed",
    "dir-appeared",
)
WAKE = "wake"  # not a file: work for the daemon came in (a verdict from the review page)
FALL_BACK = "fall-back"  # not a file: inotify cannot keep up (cleaner.watch.fallback); poll instead


@dataclass(frozen=True)
class Event:
    kind: str
    path: Path


def is_temporary(name: str) -> bool:
    return TEMPORARY.search(name) is not None


class _Handler(FileSystemEventHandler):
    def __init__(
        self, root: Path, own: Iterable[Path], ignored: Callable[[str, bool], bool], out: queue.Queue[Event]
    ) -> None:
        self.root = str(root)
        self.own = tuple(str(p) for p in [*own, root / STATE_DIR])
        self.ignored = ignored
        self.out = out

    def _wanted(self, path: str, is_dir: bool) -> bool:
        if path == self.root:
            return True
        if not path.startswith(self.root + os.sep):
            return False
        if any(path == o or path.startswith(o + os.sep) for o in self.own):
            return False
        return not self.ignored(path[len(self.root) + 1 :].replace(os.sep, "/"), is_dir)

    def _put(self, kind: str, path: str | bytes) -> None:
        path = os.fsdecode(path)
        if self._wanted(path, kind == DIR_APPEARED) and not (kind != REMOVED and is_temporary(os.path.basename(path))):
            self.out.put(Event(kind, Path(path)))

    def on_any_event(self, event: FileSystemEvent) -> None:
        e = event
        if isinstance(e, (FileCreatedEvent, FileModifiedEvent)):
            self._put(CHANGED, e.src_path)
        elif isinstance(e, FileOpenedEvent):
            self._put(OPENED, e.src_path)
        elif isinstance(e, FileClosedEvent):
            self._put(CLOSED, e.src_path)
        elif isinstance(e, FileClosedNoWriteEvent):
            self._put(CLOSED_NO_WRITE, e.src_path)
        elif isinstance(e, FileDeletedEvent):
            self._put(REMOVED, e.src_path)
        elif isinstance(e, FileMovedEvent):
            self._put(REMOVED, e.src_path)
            self._put(RENAMED_IN, e.dest_path)
        elif isinstance(e, DirMovedEvent):
            self._put(REMOVED, e.src_path)
            self._put(DIR_APPEARED, e.dest_path)
        elif isinstance(e, DirCreatedEvent):
            self._put(DIR_APPEARED, e.src_path)


class _Snapshot(DirectorySnapshot):
    """watchdog's snapshot, its walk without recursion (cleaner.fs.walking): any depth."""

    def walk(self, root: str) -> Iterator[tuple[str, os.stat_result]]:
        if not self.recursive:
            yield from super().walk(root)
            return
        yield from snapshot_walk(root, self.stat, self.listdir)


class _PollingEmitter(PollingEmitter):
    """Polling that sees a link as a link (``lstat``): a linked folder is never walked, only reported."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        watch = self.watch
        self._take_snapshot = lambda: _Snapshot(
            watch.path, recursive=watch.is_recursive, stat=os.lstat, listdir=os.scandir
        )


class _IterativeOs:
    """The ``os`` module as watchdog's inotify observer sees it on Python 3.11, whose ``os.walk``
    recurses once per level (3.12's does not): the same module, with cleaner.fs.walking's walk."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    @staticmethod
    def walk(top: bytes, topdown: bool = True, onerror: object = None, followlinks: bool = False) -> object:
        return walk(top)  # watchdog walks bytes paths, top-down, links not followed


def _poller() -> BaseObserver:
    return BaseObserver(_PollingEmitter, timeout=POLL_INTERVAL)


def start_observer(
    root: Path, own: Iterable[Path], ignored: Callable[[str, bool], bool], out: queue.Queue[Event], polling: bool
) -> BaseObserver:
    """An inotify observer, or a polling one for network shares; inotify falls back to polling
    with a warning when the kernel's watch limit is reached."""
    handler = _Handler(root, own, ignored, out)
    if not polling:
        fallback.listen(root, lambda: out.put(Event(FALL_BACK, root)))
    try:
        observer: BaseObserver = _poller() if polling else _native_observer()
        observer.schedule(handler, str(root), recursive=True)
        observer.start()
    except OSError as err:
        if polling:
            raise
        log.warning(
            "inotify cannot watch %s (%s; see fs.inotify.max_user_watches): polling instead", root, err.strerror
        )
        observer = _poller()
        observer.schedule(handler, str(root), recursive=True)
        observer.start()
    return observer


def polling_instead(
    observer: BaseObserver,
    root: Path,
    own: Iterable[Path],
    ignored: Callable[[str, bool], bool],
    out: queue.Queue[Event],
) -> BaseObserver:
    """A polling observer of ``root`` in place of ``observer`` (inotify that ran out of watches or
    overflowed: cleaner.watch.fallback), which is stopped."""
    fallback.forget(root)
    logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)  # its reader, stopped mid-read
    observer.stop()  # not waited for: busy with the flood, it ends in its own time
    return start_observer(root, own, ignored, out, polling=True)


def drain(out: queue.Queue[Event]) -> None:
    """Drop the queued events of files, keeping a wake-up (a verdict waits)."""
    woken = False
    while True:
        try:
            woken |= out.get_nowait().kind == WAKE
        except queue.Empty:
            break
    if woken:
        out.put(Event(WAKE, Path()))


def _native_observer() -> BaseObserver:
    """inotify reporting a move from outside the watched folder as a move, not as a new file: such a
    file (``mv`` from elsewhere on the same disk) is complete at once, like a rename inside it."""
    try:
        from watchdog.observers import inotify
    except ImportError:  # not Linux: whatever watchdog offers here
        return Observer()
    if sys.version_info < (3, 12):
        setattr(inotify, "os", _IterativeOs())  # noqa: B010 - its watches of a deep tree, without recursion
    fallback.install()
    InotifyObserver = inotify.InotifyObserver
    return InotifyObserver(generate_full_events=True)


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem ``path`` lies on, from /proc/self/mounts (Linux only)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, fstype = "", None
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, fields[2]
    return fstype


def needs_polling(path: Path) -> str | None:
    """The filesystem type, when it is one where inotify misses changes made by other machines."""
    fstype = filesystem_type(path)
    return fstype if fstype and NETWORK_FILESYSTEMS.match(fstype) else None
