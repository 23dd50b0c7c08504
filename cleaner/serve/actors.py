"""Who applies the review page's verdicts, so that one writer, never two, touches a file of the folder:

- ``face-clean serve DIR`` on its own: the page itself, holding the folder's locks (as ``run`` and
  ``restore`` do) only while it acts, one request at a time. While a ``run`` or ``watch`` holds them,
  an action is refused (409), saying who holds them: start the daemon with ``--serve`` instead.
- ``face-clean watch DIR --serve``: the daemon, between two files, in its own thread, with its own
  state database, audit log and mover (cleaner.pipeline.verdicts.inbox).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from cleaner.commands.verdict_session import open_tools
from cleaner.errors import LockError
from cleaner.paths import Layout
from cleaner.pipeline.verdicts.apply import Tools
from cleaner.pipeline.verdicts.inbox import Busy, Inbox
from cleaner.records import new_run_id

T = TypeVar("T")


class Actor(Protocol):
    def act(self, work: Callable[[Tools], T]) -> T:
        """Run ``work`` with the folder's tools, as its one writer; Busy if that cannot be now."""
        ...


class LockedActor:
    """The page on its own: the folder's locks for the length of one request."""

    def __init__(self, layout: Layout, invocation: str = "") -> None:
        """``invocation``: the command line, listed by ``face-clean runs`` with the page's verdicts (one run)."""
        self.layout, self.invocation = layout, invocation or f"face-clean serve {layout.root}"
        self.run_id = new_run_id()
        self._one = threading.Lock()  # this process's requests one after the other: a lock is never ours twice

    def act(self, work: Callable[[Tools], T]) -> T:
        with self._one:
            try:
                with open_tools(self.layout, "serve", self.invocation, self.run_id) as tools:
                    return work(tools)
            except LockError as err:
                raise Busy(f"{err} (to review while the daemon runs, start it with --serve)") from None


class InboxActor:
    """``watch --serve``: the daemon applies the work."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def act(self, work: Callable[[Tools], T]) -> T:
        return self.inbox.submit(work)
