"""Files the watch daemon tries again later, each after a doubling delay.

Two kinds wait here.  A file that reads as cut off (a truncated JPEG, an empty file) and was
written to recently is probably still being written in several sittings (a resumable
upload, ``>>`` appends, ``dd`` in chunks): it is not decided, and is looked at again after
``settle``, 2 x ``settle``, ... until it has not changed for ``INCOMPLETE_FACTOR`` settle
periods; then it is decided as it is, and its record says why it is unreadable.  A file
whose move failed (a full quarantine disk, say) is tried again after 2, 4, ... seconds, at
most ``MOVE_RETRY_MAX`` apart, until the move succeeds or the file changes.

While a file waits with unchanged bytes, events about it (face-clean's own reads among
them) do not bring it back early: only its timer does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cleaner.records import ImageAnalysis, Status

INCOMPLETE_FACTOR = 15  # settle periods a cut-off file must stay unchanged before it is decided as it is
MOVE_RETRY_FIRST = 2.0  # seconds before the first new attempt at a failed move
MOVE_RETRY_MAX = 60.0  # seconds between attempts at most: a disk with space again is used soon
# cleaner.analysis.decode's reasons for a file that ends too early (cut off, or nothing yet)
CUT_OFF = re.compile(r"^(empty file$|truncated or corrupt )")


def reads_cut_off(analysis: ImageAnalysis) -> bool:
    return analysis.status is Status.UNREADABLE and CUT_OFF.match(analysis.error or "") is not None


@dataclass
class _Waiting:
    fingerprint: tuple[int, int] | None  # (size, mtime_ns) when it was put off
    since: float  # when these bytes were first put off (monotonic)
    attempts: int
    due: float


class RetryQueue:
    """Paths waiting for another attempt; single-threaded (the daemon's main loop owns it)."""

    def __init__(self, first: float, longest: float) -> None:
        self.first, self.longest = first, longest
        self._waiting: dict[Path, _Waiting] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, path: object) -> bool:
        return path in self._waiting

    def put_off(self, path: Path, fingerprint: tuple[int, int] | None, now: float, latest: float | None = None) -> None:
        """Try ``path`` again later: the same bytes wait longer each time, new bytes start afresh
        (``fingerprint`` None: as they were).  ``latest``: never later than this."""
        w = self._waiting.get(path)
        if w is None or (fingerprint is not None and w.fingerprint != fingerprint):
            w = self._waiting[path] = _Waiting(fingerprint, now, 0, now)
        delay = min(self.longest, self.first * 2**w.attempts)
        w.attempts += 1
        w.due = now + delay if latest is None else min(now + delay, max(now, latest))

    def unchanged_for(self, path: Path, fingerprint: tuple[int, int] | None, now: float) -> float:
        """Seconds these very bytes have been waiting (0 for bytes not seen waiting)."""
        w = self._waiting.get(path)
        return now - w.since if w is not None and w.fingerprint == fingerprint else 0.0

    def waiting(self, path: Path, fingerprint: tuple[int, int] | None) -> bool:
        """``path`` waits for its timer with these very bytes: an event about it changes nothing."""
        w = self._waiting.get(path)
        return w is not None and w.fingerprint == fingerprint

    def due(self, now: float) -> list[Path]:
        """The paths whose time has come, in name order (each stays until ``done`` or put off again)."""
        return sorted(p for p, w in self._waiting.items() if w.due <= now)

    def next_due(self, now: float) -> float | None:
        """Seconds until the next attempt, or None when nothing waits."""
        if not self._waiting:
            return None
        return max(0.0, min(w.due for w in self._waiting.values()) - now)

    def done(self, path: Path) -> None:
        self._waiting.pop(path, None)

    def removed(self, path: Path) -> None:
        """``path`` or a folder above it is gone."""
        prefix = f"{path}/"
        for p in [p for p in self._waiting if p == path or str(p).startswith(prefix)]:
            del self._waiting[p]
