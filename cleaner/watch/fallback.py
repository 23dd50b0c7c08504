"""When inotify cannot keep up: out of watches, or its queue overflowing, the daemon polls instead.

watchdog swallows the error of a subfolder it cannot watch (the kernel's ``max_user_watches`` is
reached: 195,546 folders do it) and answers an overflowing queue by dropping every watch and adding
them all again, which, with 20,000 folders, overflows the queue once more: a daemon at 100 % CPU
that never sees the next upload, and says nothing about it.  ``install`` wraps those two places of
watchdog (7.x, pinned) so that either one reports to the daemon of the folder concerned, which logs
why and swaps its observer for a polling one (cleaner.watch.events.polling_instead), then looks at
every file again (events were lost).  An overflow is not answered by rebuilding the watches: the
observer is about to be stopped.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("face-clean")
_listeners: dict[bytes, Callable[[], None]] = {}
_given_up: set[bytes] = set()  # roots whose daemon is told: their observer is on its way out
_lock = threading.Lock()
_installed = False


def listen(root: Path, report: Callable[[], None]) -> None:
    """Call ``report`` once when inotify gives up on ``root`` or below it."""
    with _lock:
        _listeners[os.fsencode(root)] = report


def forget(root: Path) -> None:
    with _lock:
        _listeners.pop(os.fsencode(root), None)
        _given_up.discard(os.fsencode(root))


def gave_up(root: Path) -> bool:
    """Whether inotify gave up on ``root``, whose daemon has not switched to polling yet."""
    with _lock:
        return os.fsencode(root) in _given_up


def give_up(path: bytes | str, why: str) -> bool:
    """Tell the daemon watching ``path`` that inotify gave up (``why``); False when none listens."""
    raw = os.fsencode(path)
    with _lock:
        root = next((r for r in _listeners if raw == r or raw.startswith(r.rstrip(b"/") + b"/")), None)
        report = _listeners.pop(root, None) if root is not None else None
        given_up = any(raw == r or raw.startswith(r.rstrip(b"/") + b"/") for r in _given_up)
        if report is None:
            return given_up
        _given_up.add(raw if root is None else root)
    log.warning("inotify gave up on %s: %s; polling the whole folder instead", os.fsdecode(root or raw), why)
    report()
    return True


def install() -> None:
    """Wrap watchdog's inotify observer (once): its out-of-watches error and its queue overflow."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    from watchdog.observers import inotify, inotify_c

    overflowed = inotify.InotifyWatchGroup.on_queue_overflow

    def add_callback(self: Any, path: bytes, mask: Any, callback: Any, id_: Any) -> Any:
        # watchdog's own, less its warning when a callback is added again (each new folder of a recursive
        # watch): that warning's text is the repr of the whole watch table, deep paths and all, so a
        # tree 1,400 folders deep cost minutes and tens of GB of warnings
        try:
            with self._lock:
                watch = self._get_or_create_watch(path, mask)
                watch.callbacks[id_] = callback
                return watch.wd
        except OSError as err:
            if err.errno == errno.ENOSPC:
                give_up(path, "out of inotify watches (see fs.inotify.max_user_watches)")
            raise

    def on_queue_overflow(self: Any) -> None:
        if not give_up(self.path, "its event queue overflowed (see fs.inotify.max_queued_events)"):
            overflowed(self)

    inotify_c.InotifyFD.add_callback = add_callback  # type: ignore[method-assign]
    inotify.InotifyWatchGroup.on_queue_overflow = on_queue_overflow  # type: ignore[method-assign]
