"""The watch daemon's heartbeat file, and what ``face-clean health`` reads in it.

The daemon rewrites the file (a JSON object) every 10 s while it runs, with its pid, host
and process start time, its counters, and any problem it has (moves that keep failing, a
watched folder that is gone); it writes it one last time with ``"stopped": true`` when it
ends.  ``health`` is unhealthy when the file is missing, stale, says the daemon stopped or
has a problem, or names a pid on this host that is not running (or is another process).

The file is written through a descriptor of its folder, opened once without following a link:
renaming the folder (the watched folder, when the heartbeat sits in it) does not leave the
daemon writing into nothing; each beat is a fresh temporary file renamed over the last, so a
link planted in its place is replaced, never written through.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.jsonl import parse
from cleaner.fs.safefs import Folder, open_folder

log = logging.getLogger("face-clean")
EVERY = 10.0  # seconds between rewrites
MAX_BYTES = 1 << 16  # a heartbeat is a few hundred bytes; never read more
MAX_TEXT = 400  # characters of any one text in it (a move error naming a deep path): bounded when written
HEAD = b'{"time": '  # how every heartbeat face-clean writes begins (a photo never does)


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells it from a later
    process given the same pid; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (command) "
    return fields[19] if len(fields) > 19 else None


class Heartbeat:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._folder: Folder | None = None
        self._last = 0.0
        self._warned = False
        self.me = {"pid": os.getpid(), "host": socket.gethostname(), "pid_start": process_start(os.getpid())}

    def beat(self, fields: dict[str, Any], force: bool = False, quiet: bool = False) -> None:
        """Rewrite the file (at most every ``EVERY`` seconds unless ``force``); ``quiet``: a file
        that cannot be written (its folder deleted with the watched folder) is no news."""
        now = time.monotonic()
        if self.path is None or (not force and now - self._last < EVERY):
            return
        self._last = now
        body = json.dumps({"time": time.time(), **self.me, **{k: _bounded(v) for k, v in fields.items()}}) + "\n"
        try:
            self._write(body.encode())
            self._warned = False
        except OSError as err:
            if not self._warned and not quiet:  # once, not every 10 s
                log.warning("cannot write the heartbeat %s: %s", self.path, err.strerror or err)
            self._warned = True

    def _write(self, data: bytes) -> None:
        if self.path is None:
            return
        if self._folder is None:
            self._folder = open_folder(self.path.parent)
        self._folder.replace(self.path.name, data, 0o644)

    def close(self) -> None:
        if self._folder is not None:
            self._folder.close()
            self._folder = None


def _bounded(value: Any) -> Any:
    """A text cut to ``MAX_TEXT`` characters: the whole heartbeat stays a few KiB, whatever it reports."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[: MAX_TEXT - 1] + "…"
    return value


def check_heartbeat(path: Path) -> None:
    """Before the daemon starts: the heartbeat it will replace is a heartbeat, not someone's photo."""
    try:
        with open_folder(path.parent) as folder:
            fd = folder.open_file(path.name, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        head = os.read(fd, MAX_BYTES)
    finally:
        os.close(fd)
    if not head.strip() or head.startswith(HEAD):  # ours (one of any length, left by a daemon killed mid-way)
        return
    body = parse(head.strip())
    if body is None or "pid" not in body:
        raise UnsafePath(f"{path} exists and is not a face-clean heartbeat; not replacing it (choose --heartbeat)")


def _read(path: Path) -> tuple[float, dict[str, Any] | None] | None:
    """(age in seconds, the JSON object or None if unreadable), or None when there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        age = max(0.0, time.time() - os.fstat(fd).st_mtime)
        data = os.read(fd, MAX_BYTES)
    finally:
        os.close(fd)
    return age, parse(data)


def _alive(body: dict[str, Any]) -> bool | None:
    """Whether the daemon's process runs; None when that cannot be checked from here."""
    pid = body.get("pid")
    if not isinstance(pid, int) or body.get("host") != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    started = body.get("pid_start")
    now = process_start(pid)
    return not (started and now and started != now)  # else the pid was given to a later process


def health(path: Path, max_age: float) -> tuple[bool, str]:
    """(healthy, the sentence that says why)."""
    read = _read(path)
    if read is None:
        return False, f"no heartbeat at {path}"
    age, body = read
    if age > max_age:
        return False, f"heartbeat {path} is {age:.0f} s old (more than {max_age:.0f} s)"
    if body is None:
        return False, f"heartbeat {path} is not face-clean's"
    pid = body.get("pid")
    if body.get("stopped") or body.get("stopping"):
        return False, f"the daemon (pid {pid}) has stopped: {body.get('reason') or 'no reason given'}"
    if _alive(body) is False:
        return False, f"the daemon (pid {pid}) is not running: it ended without a last heartbeat"
    if body.get("problem"):
        return False, str(body["problem"])
    failing = body.get("failing_moves") or 0
    if failing:
        return False, f"{failing} moves keep failing (last: {body.get('last_move_error')}); they are retried"
    return True, f"healthy: heartbeat {age:.0f} s old, pid {pid}, decided {body.get('decided', 0)}"
