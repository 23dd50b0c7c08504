"""Uploads in progress: when is a file that is being written complete?  The watcher must never
analyse half a photo.

Evidence, best first: nobody holds the file open for writing (inotify's open and close
events), a close-after-write ended its last activity, and its size and mtime have stayed the
same for ``settle`` seconds.  Polling observers and network filesystems give no open or close
events, so there the quiet period alone decides.  A file that some process keeps open without
writing (an indexer, say) is taken once it has been quiet for ``STUCK_OPEN_FACTOR`` settle
periods, so a missed close event cannot hide a photo forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cleaner.fs.safefs import fingerprint

CLOSE_DEBOUNCE = 0.3  # seconds after a close-after-write before the file is taken
STUCK_OPEN_FACTOR = 15


@dataclass
class Activity:
    last_event: float
    fingerprint: tuple[int, int] | None  # (size, mtime_ns) when last looked at
    stable_since: float
    writers: int = 0  # opens minus closes seen (inotify only); a hint, inotify may merge events
    closed: bool = False  # the last activity was a close-after-write (or a rename into place)


class Pending:
    """Files seen changing, not yet complete; single-threaded (the daemon's main loop owns it)."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.files: dict[Path, Activity] = {}

    def __len__(self) -> int:
        return len(self.files)

    def _activity(self, path: Path, now: float) -> Activity:
        """The file's record, its fingerprint refreshed: the quiet period counts from the last change."""
        current = fingerprint(path)
        a = self.files.get(path)
        if a is None:
            a = self.files[path] = Activity(now, current, now)
        elif current != a.fingerprint:
            a.fingerprint, a.stable_since = current, now
        return a

    def changed(self, path: Path, now: float) -> None:
        a = self._activity(path, now)
        a.last_event, a.closed = now, False

    def found(self, path: Path, now: float, mtime_age: float) -> None:
        """Found by a scan, not by an event: already quiet for as long as its mtime is old."""
        if path in self.files:
            return
        a = self._activity(path, now)
        a.last_event = a.stable_since = now - max(0.0, mtime_age)

    def opened(self, path: Path, now: float) -> None:
        self.changed(path, now)
        self.files[path].writers += 1

    def closed_after_write(self, path: Path, now: float) -> None:
        a = self._activity(path, now)
        a.writers = max(0, a.writers - 1)
        a.last_event, a.closed = now, True

    def closed_no_write(self, path: Path) -> None:
        a = self.files.get(path)
        if a is not None:
            a.writers = max(0, a.writers - 1)

    def renamed_in(self, path: Path, now: float) -> None:
        """A rename into place is atomic: the file behind the new name is complete."""
        a = self._activity(path, now)
        a.last_event, a.closed, a.writers = now, True, 0

    def removed(self, path: Path) -> None:
        self.files.pop(path, None)
        prefix = f"{path}{os.sep}"
        for p in [p for p in self.files if str(p).startswith(prefix)]:
            del self.files[p]

    def ready(self, now: float) -> list[Path]:
        """Take the files that are complete now, in name order; forget the ones that vanished."""
        done: list[Path] = []
        for path, a in list(self.files.items()):
            quiet = now - a.last_event
            if a.writers > 0 and quiet < self.settle * STUCK_OPEN_FACTOR:
                continue
            if not (a.closed and quiet >= CLOSE_DEBOUNCE) and quiet < self.settle:
                continue
            current = fingerprint(path)
            if current is None:
                del self.files[path]  # gone (moved away, deleted) before it settled
            elif current != a.fingerprint:
                a.fingerprint, a.stable_since, a.last_event, a.closed = current, now, now, False
            elif a.closed or now - a.stable_since >= self.settle:
                done.append(path)
                del self.files[path]
        return sorted(done)

    def next_check(self, now: float) -> float:
        """Seconds until the earliest pending file could become ready."""
        if not self.files:
            return 1.0
        waits = [(CLOSE_DEBOUNCE if a.closed else self.settle) - (now - a.last_event) for a in self.files.values()]
        return max(0.05, min(1.0, min(waits)))
