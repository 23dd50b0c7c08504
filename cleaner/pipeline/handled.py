"""What became of one file handed to the job, beyond its audit record, and the rules that make
some files get no record at all.

A record is a decision.  A file that vanished before it could be read was never decided; a
move that fails again, on the same bytes, is the same failure (one record per episode, not one
per attempt); a file that looks cut off while it is still being written is not decided yet.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cleaner.records import AuditRecord, ImageAnalysis, Outcome, Status

log = logging.getLogger("face-clean")


class Handled(str, Enum):
    RECORDED = "recorded"  # decided: an audit record (moved or not)
    MOVE_FAILED = "move-failed"  # decided, but the move failed (recorded once per failure episode)
    DEFERRED = "deferred"  # reads as cut off and was written to recently: not decided yet
    KNOWN = "known"  # these bytes were decided before under the same rules (touched, renamed)
    VANISHED = "vanished"  # gone before it could be read or moved: nothing to decide


@dataclass(frozen=True)
class Done:
    """One file handed to the job, done with: what became of it, and its audit record if it got one."""

    path: Path
    handled: Handled
    record: AuditRecord | None = None


def vanished(analysis: ImageAnalysis) -> bool:
    """Deleted or renamed away between being queued and being read: no decision, no record."""
    return analysis.sha256 is None and analysis.status is Status.UNREADABLE and not os.path.lexists(analysis.path)


class FailureEpisodes:
    """Files whose move failed, with the bytes it failed on: trying the same move on the same
    bytes again is not a new decision, and gets no record of its own."""

    def __init__(self) -> None:
        self._failing: dict[Path, tuple[int, int | None, str | None]] = {}

    def __len__(self) -> int:
        return len(self._failing)

    def repeated(self, analysis: ImageAnalysis, outcome: Outcome) -> bool:
        """Note this failed move; True when it is the same failure as last time (no new record)."""
        now = (analysis.size, analysis.mtime_ns, analysis.sha256)
        again = self._failing.get(analysis.path) == now
        self._failing[analysis.path] = now
        if again:
            log.debug("%s: the move failed again: %s", analysis.path, outcome.error)
        return again

    def forget(self, path: Path) -> None:
        self._failing.pop(path, None)
