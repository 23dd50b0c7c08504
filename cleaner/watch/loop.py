"""``face-clean watch``'s loop: catch up on what arrived while it was down, then follow the folder.

One main loop owns everything: it drains the observer's events into ``Pending``, hands the
files that are complete to the same ``Job`` as ``run`` (same rules, quarantine, audit log and
state database), tries again the files that wait in a ``RetryQueue`` (cut off while still being
written, or whose move failed), touches the heartbeat and reports its counters now and then.
SIGTERM and SIGINT stop it between two files; the state database then knows every decided
file, so a restart repeats nothing and misses nothing.  A watched folder that goes away
stops it with ``FolderGone``. What it uses is opened and closed by its caller
(cleaner.watch.service, through cleaner.commands.session).
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from watchdog.observers.api import BaseObserver

from cleaner.commands.verdict_session import tools_of
from cleaner.fs.safefs import fingerprint
from cleaner.paths import below
from cleaner.pipeline.handled import Done, Handled
from cleaner.pipeline.job import Job
from cleaner.pipeline.output import Quiet, WatchOutput
from cleaner.pipeline.people.pull import pull
from cleaner.pipeline.scan import Patterns, scan
from cleaner.pipeline.signals import stop_on_signals
from cleaner.pipeline.verdicts.apply import Tools
from cleaner.pipeline.verdicts.inbox import Inbox
from cleaner.records import ImageAnalysis
from cleaner.watch import events as watch
from cleaner.watch import fallback
from cleaner.watch.heartbeat import Heartbeat
from cleaner.watch.pending import Pending
from cleaner.watch.retry import INCOMPLETE_FACTOR, MOVE_RETRY_FIRST, MOVE_RETRY_MAX, RetryQueue, reads_cut_off
from cleaner.watch.root_guard import RootGuard

log = logging.getLogger("face-clean")
COMMIT_EVERY = 0.5  # seconds between two commits of the state while files keep coming


@dataclass(frozen=True)
class WatchOptions:
    settle: float = 2.0  # seconds a file must be quiet
    rescan: float = 30 * 60.0  # seconds between full rescans; 0 = never
    polling: bool = False
    heartbeat: Path | None = None
    summary_every: float = 60 * 60.0  # seconds between counter summaries; 0 = never
    recursive: bool = True


class Watcher:
    def __init__(
        self,
        job: Job,
        options: WatchOptions,
        guard: RootGuard | None = None,
        output: WatchOutput | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        self.job, self.options = job, options
        self.inbox = inbox  # verdicts from the review page (watch --serve), applied in this thread
        self.output: WatchOutput = output or Quiet()
        self.layout = job.layout
        self.pending = Pending(options.settle)
        self.incomplete = RetryQueue(options.settle, options.settle * INCOMPLETE_FACTOR)
        self.failed = RetryQueue(MOVE_RETRY_FIRST, MOVE_RETRY_MAX)
        self.last_move_error: str | None = None
        self.events: queue.Queue[watch.Event] = queue.Queue()
        self.patterns = Patterns(job.rules.exclude, job.rules.include)
        beat = () if options.heartbeat is None else (options.heartbeat,)
        self.own = (*self.layout.own_paths, *beat)  # never decided, even inside the folder
        self._own_guard = guard is None
        self.guard = guard or RootGuard(self.layout.root)
        self.tools: Tools | None = None
        self.heartbeat = Heartbeat(options.heartbeat)
        self._summary_at = self._rescan_at = self._committed = 0.0
        self._handled: set[Path] = set()
        job.defer = self._defer

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Until SIGTERM/SIGINT; the caller closes the audit log and state afterwards."""
        stop = self.job.stop
        reason = "stopped on request (SIGTERM or SIGINT)"
        with stop_on_signals(stop), ExitStack() as serving:
            self.observer = self._start_observer()  # first, so nothing written during catch-up is missed
            try:
                log.info("watching %s (settle %.1f s), run %s", self.layout.root, self.options.settle, self.job.run_id)
                self.job.recover()
                self._open_inbox(serving)
                self._catch_up()
                now = time.monotonic()
                self._summary_at = now + self.options.summary_every
                self._rescan_at = now + self.options.rescan
                while not stop.is_set():
                    self._drain_events(timeout=self._next_wait())
                    self.guard.check()
                    self._answer()
                    self._process(self.pending.ready(time.monotonic()))
                    self._periodic()
            except BaseException as err:
                reason = self.guard.gone() or f"stopped by an error: {err}"
                raise
            finally:
                if self.inbox is not None:
                    self.inbox.close()
                # watchdog logs an error when its reader thread is stopped mid-read: expected here
                logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)
                self.observer.stop()
                self.observer.join(timeout=5)
                self._close(reason)

    def _open_inbox(self, stack: ExitStack) -> None:
        """Take verdicts from now on (a dry run takes none: it moves nothing)."""
        if self.inbox is None or self.job.mover is None:
            return
        self.tools = tools_of(self.job, stack)
        self.tools.again = lambda paths: self._found([Path(p) for p in paths])  # copies: decided again at once
        self.inbox.wake = lambda: self.events.put(watch.Event(watch.WAKE, self.layout.root))
        self.inbox.open = True

    def _answer(self) -> None:
        """Apply the verdicts that came in, between two files."""
        if self.inbox is not None and self.tools is not None and self.inbox.run_pending(self.tools):
            pull(self.job)  # a verdict about a person: their photos in review or quarantine move now
            self.job.state.commit()

    def _close(self, reason: str) -> None:
        """Flush what can be flushed (nothing, for a folder deleted with its state), then the last heartbeat."""
        gone = self.guard.gone() is not None
        if not gone:
            self.job.state.commit()
        self.heartbeat.beat({"stopped": True, "reason": reason, **self._count_dict()}, force=True, quiet=gone)
        self.heartbeat.close()
        if self._own_guard:
            self.guard.close()
        self.output.counts(self._count_dict(), stopped=True)

    def _start_observer(self) -> BaseObserver:
        polling = self.options.polling
        fstype = watch.needs_polling(self.layout.root)
        if fstype and not polling:
            log.warning(
                "%s is on a %s filesystem, where changes made from other machines raise no events: "
                "use --polling (the periodic rescan is the only safety net until then)",
                self.layout.root,
                fstype,
            )
        return watch.start_observer(self.layout.root, self.own, self.patterns.skips, self.events, polling)

    def _catch_up(self) -> None:
        """Every file not decided yet (or changed since) joins the queue, as if just found."""
        files = scan(self.layout.root, self.options.recursive, self.patterns, self.own)
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

    def _below(self, paths: list[Path]) -> list[Path]:
        """The files of a folder that appeared which the rules' patterns do not leave out."""
        return [p for p in paths if not self.patterns.skips(below(self.layout.root, p))]

    def _next_wait(self) -> float:
        now = time.monotonic()
        waits = [self.pending.next_check(now), self.incomplete.next_due(now), self.failed.next_due(now)]
        return max(0.05, min(w for w in waits if w is not None))

    def _drain_events(self, timeout: float) -> None:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            if event.kind != watch.WAKE and fallback.gave_up(self.layout.root):
                event = watch.Event(watch.FALL_BACK, self.layout.root)  # the events queued before it are moot
            self._apply(event)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return

    def _apply(self, e: watch.Event) -> None:
        now, p = time.monotonic(), self.pending
        if e.kind == watch.WAKE:
            return  # it woke the loop, which answers the verdicts next
        if e.kind == watch.FALL_BACK:  # inotify gave up (cleaner.watch.fallback): poll, and look at everything
            args = (self.layout.root, self.own, self.patterns.skips, self.events)
            self.observer = watch.polling_instead(self.observer, *args)
            watch.drain(self.events)  # all lost or all seen again: every file is looked at now
            return self._catch_up()
        if e.kind == watch.DIR_APPEARED:
            # A folder created and filled at once (cp -r): its files may predate our watch on it.
            if self.options.recursive:
                self._found(self._below(scan(e.path, True, (), self.own)))
        elif e.kind == watch.REMOVED:
            p.removed(e.path)
            self.incomplete.removed(e.path)
            self.failed.removed(e.path)
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

    # -- deciding ------------------------------------------------------------------------
    def _process(self, ready: list[Path]) -> None:
        # a file waiting for its retry, unchanged, stays with its timer (our own reads raise events too)
        ready = [p for p in ready if not self._waits(p)]
        todo = self.job.undecided(ready) if ready else []
        now = time.monotonic()
        retries = set(self.incomplete.due(now)) | set(self.failed.due(now))
        todo = sorted(set(todo) | retries)
        if todo:
            self._handled.clear()
            for done in self.job.decide_each(todo):
                self._after_file(done)
            self.job.state.commit()
            self._committed = time.monotonic()
            for path in retries - self._handled:  # not reached: stopped in between
                (self.failed if path in self.failed else self.incomplete).put_off(path, None, now)
        self._heartbeat()

    def _waits(self, path: Path) -> bool:
        if path not in self.failed and path not in self.incomplete:
            return False  # the usual case: no second lstat of a file that ready() has just looked at
        current = fingerprint(path)
        return self.failed.waiting(path, current) or self.incomplete.waiting(path, current)

    def _defer(self, analysis: ImageAnalysis) -> bool:
        """A file that reads as cut off and was written to lately is still being written: not yet."""
        if not reads_cut_off(analysis) or analysis.mtime_ns is None:
            return False
        now, path, bytes_now = time.monotonic(), analysis.path, (analysis.size, analysis.mtime_ns)
        limit = self.incomplete.longest
        quiet = max(time.time() - analysis.mtime_ns / 1e9, self.incomplete.unchanged_for(path, bytes_now, now))
        if quiet >= limit:
            self.incomplete.done(path)  # waited long enough: decided as it is, with its reason
            return False
        if path not in self.incomplete:
            log.info("%s: %s; waiting for the rest of it", path, analysis.error)
        self.incomplete.put_off(path, bytes_now, now, latest=now + limit - quiet)
        return True

    def _after_file(self, done: Done) -> None:
        """Commit at most every ``COMMIT_EVERY`` seconds during a burst, and after each batch: a commit
        per file was a quarter of the daemon's own work in a burst.  A kill -9 loses the newest rows,
        never a decision: cleaner.store.reconcile restores them from the audit log on the next
        start."""
        now = time.monotonic()
        if now - self._committed >= COMMIT_EVERY:
            self.job.state.commit()
            self._committed = now
        self._answer()  # a person waiting on the review page does not wait for a long catch-up
        path = done.path
        self._handled.add(path)
        if done.record is not None and done.record.failed_move:
            self.last_move_error = done.record.error
        if done.handled is Handled.MOVE_FAILED:
            self.failed.put_off(path, fingerprint(path), time.monotonic())
        elif done.handled is not Handled.DEFERRED:
            self.failed.done(path)
            self.incomplete.done(path)
        self._heartbeat()

    def _periodic(self) -> None:
        now = time.monotonic()
        if self.options.rescan and now >= self._rescan_at:
            self._rescan_at = now + self.options.rescan
            log.info("periodic rescan")
            self._catch_up()
        if self.options.summary_every and now >= self._summary_at:
            self._summary_at = now + self.options.summary_every
            self.output.counts(self._count_dict(), stopped=False)

    # -- health --------------------------------------------------------------------------
    def _count_dict(self) -> dict[str, int]:
        """The job's counters, and what waits here."""
        waiting = {"failing_moves": len(self.failed), "waiting_incomplete": len(self.incomplete)}
        return {**self.job.summary.counts(), **waiting, "pending": len(self.pending)}

    def _heartbeat(self) -> None:
        """Rewritten (at most every 10 s) after each file and each idle turn of the loop, so a stale one
        means a stuck daemon; Docker's HEALTHCHECK then marks the container unhealthy."""
        last = {"last_move_error": self.last_move_error} if self.failed else {}
        self.heartbeat.beat({"stopped": False, **self._count_dict(), **last})


def _is_folder(path: Path) -> bool:
    """A folder itself, not a link to one: a link is a file to record, never a folder to enter."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
