"""``face-clean watch``: catch up on what arrived while it was down, then follow the folder.

One main loop owns everything: it drains the observer's events into ``Pending``, hands the
files that settled to the same ``Job`` as ``run`` (same rules, quarantine, audit log and state
database), touches the heartbeat and logs a summary now and then.  SIGTERM and SIGINT stop it
between two files; the state database then knows every decided file, so a restart repeats
nothing and misses nothing.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from cleaner import watch
from cleaner.audit import AuditRecord
from cleaner.job import Job, stop_on_signals
from cleaner.jsonl import parse
from cleaner.names import shown
from cleaner.safefs import UnsafePath, open_folder
from cleaner.scan import matcher, scan
from cleaner.settle import Pending

log = logging.getLogger("face-clean")
HEARTBEAT_EVERY = 10.0  # seconds


@dataclass(frozen=True)
class WatchOptions:
    settle: float = 2.0  # seconds a file must be quiet
    rescan: float = 30 * 60.0  # seconds between full rescans; 0 = never
    polling: bool = False
    heartbeat: Path | None = None
    summary_every: float = 60 * 60.0  # seconds between counter summaries; 0 = never
    recursive: bool = True


class Daemon:
    def __init__(self, job: Job, options: WatchOptions) -> None:
        self.job, self.options = job, options
        self.layout = job.layout
        self.pending = Pending(options.settle)
        self.events: queue.Queue[watch.Event] = queue.Queue()
        self.excluded = matcher(job.rules.exclude)
        beat = () if options.heartbeat is None else (options.heartbeat,)
        self.own = (*self.layout.own_paths, *beat)  # never decided, even inside the folder
        self.started = time.monotonic()
        self._beat = self._summary_at = self._rescan_at = 0.0

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Until SIGTERM/SIGINT; the caller closes the audit log and state afterwards."""
        stop = self.job.stop
        with stop_on_signals(stop):
            observer = self._start_observer()  # first, so nothing written during catch-up is missed
            try:
                log.info("watching %s (settle %.1f s)", self.layout.root, self.options.settle)
                self.job.recover()
                self._catch_up()
                now = time.monotonic()
                self._summary_at = now + self.options.summary_every
                self._rescan_at = now + self.options.rescan
                while not stop.is_set():
                    self._drain_events(timeout=self.pending.next_check(time.monotonic()))
                    self._process(self.pending.ready(time.monotonic()))
                    self._periodic()
            finally:
                # watchdog logs an error when its reader thread is stopped mid-read: expected here
                logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)
                observer.stop()
                observer.join(timeout=5)
                self.job.state.commit()
                self.job.journal.close()
                self._heartbeat(force=True, stopping=True)
                log.info("stopped: %s", self._counts())

    def _start_observer(self) -> watch.BaseObserver:
        polling = self.options.polling
        fstype = watch.needs_polling(self.layout.root)
        if fstype and not polling:
            log.warning(
                "%s is on a %s filesystem, where changes made from other machines raise no events: "
                "use --polling (the periodic rescan is the only safety net until then)",
                self.layout.root,
                fstype,
            )
        return watch.start_observer(self.layout.root, self.own, self.excluded, self.events, polling)

    def _catch_up(self) -> None:
        """Every file not decided yet (or changed since) joins the queue, as if just found."""
        files = scan(self.layout.root, self.options.recursive, self.job.rules.exclude, self.own)
        todo = self.job.undecided(files)
        log.info("catching up: %d files, %d not decided yet", len(files), len(todo))
        self._found(todo)

    def _found(self, paths: list[Path]) -> None:
        now, wall = time.monotonic(), time.time()
        for path in paths:
            if watch.is_temporary(path.name):
                continue
            try:
                age = wall - os.lstat(path).st_mtime
            except OSError:
                continue
            self.pending.found(path, now, age)

    def _drain_events(self, timeout: float) -> None:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._apply(event)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return

    def _apply(self, e: watch.Event) -> None:
        now, p = time.monotonic(), self.pending
        if e.kind == watch.DIR_APPEARED:
            # A folder created and filled at once (cp -r): its files may predate our watch on it.
            if self.options.recursive:
                self._found(scan(e.path, True, self.job.rules.exclude, self.own))
        elif e.kind == watch.REMOVED:
            p.removed(e.path)
        elif _is_folder(e.path) or (not self.options.recursive and e.path.parent != self.layout.root):
            return
        elif e.kind == watch.CHANGED:
            p.changed(e.path, now)
        elif e.kind == watch.OPENED:
            p.opened(e.path, now)
        elif e.kind == watch.CLOSED:
            p.closed_after_write(e.path, now)
        elif e.kind == watch.CLOSED_NO_WRITE:
            p.closed_no_write(e.path)
        elif e.kind == watch.RENAMED_IN:
            p.renamed_in(e.path, now)

    def _process(self, ready: list[Path]) -> None:
        todo = self.job.undecided(ready) if ready else []
        if todo:
            self.job.process(todo, self._after_file)
        self._heartbeat()

    def _after_file(self) -> None:
        """Commit at once (cheap with SQLite's WAL): even after kill -9, a restart knows this file is done."""
        self.job.state.commit()
        self._heartbeat()

    def _periodic(self) -> None:
        now = time.monotonic()
        if self.options.rescan and now >= self._rescan_at:
            self._rescan_at = now + self.options.rescan
            log.info("periodic rescan")
            self._catch_up()
        if self.options.summary_every and now >= self._summary_at:
            self._summary_at = now + self.options.summary_every
            log.info("summary: %s", self._counts(), extra={"event": "summary", "counts": self._count_dict()})

    # -- health --------------------------------------------------------------------------
    def _count_dict(self) -> dict[str, int]:
        s = self.job.summary
        return {
            "decided": s.seen,
            "kept": s.kept,
            "quarantined": sum(s.quarantined.values()),
            "review": sum(s.review.values()),
            "unreadable": s.unreadable,
            "errors": s.errors,
            "failed_moves": s.move_failures,
            "pending": len(self.pending),
        }

    def _counts(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self._count_dict().items())

    def _heartbeat(self, force: bool = False, stopping: bool = False) -> None:
        """Rewritten (at most every 10 s) after each file and each idle turn of the loop, so a stale one
        means a stuck daemon; Docker's HEALTHCHECK then marks the container unhealthy."""
        now = time.monotonic()
        if self.options.heartbeat is None or (not force and now - self._beat < HEARTBEAT_EVERY):
            return
        self._beat = now
        body = {"time": time.time(), "pid": os.getpid(), "stopping": stopping, **self._count_dict()}
        beat = self.options.heartbeat
        try:  # a fresh temporary name, renamed over it: a link there is replaced, never written through
            with open_folder(beat.parent) as folder:
                folder.replace(beat.name, (json.dumps(body) + "\n").encode(), 0o644)
        except OSError as err:
            log.warning("cannot write the heartbeat %s: %s", beat, err.strerror or err)


def _is_folder(path: Path) -> bool:
    """A folder itself, not a link to one: a link is a file to record, never a folder to enter."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def check_heartbeat(path: Path) -> None:
    """Before the daemon starts: the heartbeat it will replace is a heartbeat, not someone's photo."""
    try:
        with open_folder(path.parent) as folder:
            fd = folder.open_file(path.name, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        head = os.read(fd, 4096)
    finally:
        os.close(fd)
    body = parse(head.strip()) if head.strip() else {"pid": 0}
    if body is None or "pid" not in body:
        raise UnsafePath(f"{path} exists and is not a face-clean heartbeat; not replacing it (choose --heartbeat)")


def log_decision(record: AuditRecord) -> None:
    text = f"{record.path}: {record.action}" + (f" ({record.reason})" if record.reason else "")
    if record.error:
        text += f" - {record.error}"
    fields = {"event": "decision", "path": record.path, "action": record.action, "reason": record.reason}
    fields.update(moved=record.moved, destination=record.destination, status=record.status, error=record.error)
    log.info(shown(text), extra=fields)  # names are anyone's: no escape sequence reaches a terminal


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the heartbeat was written; None when there is none."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None
