"""Verdicts handed to the thread that owns the folder: the watch daemon's, with ``watch --serve``.

The review page's requests come from the web server's threads; the daemon applies them between two
files, with its own state database, audit log and mover, so that one thread, never two, writes to a
file of the folder. ``submit`` waits for the answer; one the daemon did not start within the time
given is withdrawn, never applied later.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from cleaner.pipeline.verdicts.apply import Tools

T = TypeVar("T")


class Busy(Exception):
    """The folder's owner could not act now (a run or watch holds it, or the daemon did not answer)."""


class Inbox:
    def __init__(self) -> None:
        self._work: queue.Queue[tuple[Callable[[Tools], Any], Future[Any]]] = queue.Queue()
        self.wake: Callable[[], None] = lambda: None  # set by the owner: makes its loop look at once
        self.open = False  # the owner takes work (a dry-run daemon never does)

    def submit(self, work: Callable[[Tools], T], timeout: float = 60.0) -> T:
        if not self.open:
            raise Busy("the daemon takes no verdicts (a dry run moves nothing, or it is not running)")
        done: Future[T] = Future()
        self._work.put((work, done))
        self.wake()
        try:
            return done.result(timeout)
        except FutureTimeout:
            if done.cancel():
                raise Busy(f"the daemon did not get to it within {timeout:.0f} s; nothing was done") from None
            return done.result()  # it started just now: its answer comes

    def run_pending(self, tools: Tools) -> int:
        """Apply what was submitted, in order, in the calling (owner's) thread; how many."""
        ran = 0
        while True:
            try:
                work, done = self._work.get_nowait()
            except queue.Empty:
                return ran
            if done.set_running_or_notify_cancel():
                ran += 1
                try:
                    done.set_result(work(tools))
                except BaseException as err:  # handed to the waiting request, which says it
                    done.set_exception(err)

    def close(self) -> None:
        """The owner stops: what waits is not done, and its requests are told so at once."""
        self.open = False
        while True:
            try:
                _, done = self._work.get_nowait()
            except queue.Empty:
                return
            if done.set_running_or_notify_cancel():
                done.set_exception(Busy("the daemon stopped before it got to it; nothing was done"))
