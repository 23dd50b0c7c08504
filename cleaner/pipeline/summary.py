"""The counts a run or the watch daemon reports: files decided, by outcome, and how fast."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cleaner.records import Action, Outcome, Status

NAMED = 5  # problems the summary names; the audit log has them all


@dataclass
class Summary:
    run_id: str = ""
    seen: int = 0
    kept: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    review: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    skipped: int = 0
    errors: int = 0
    move_failures: int = 0
    cached: int = 0
    unchanged: int = 0  # decided before, under the same rules, and unchanged since: no new record
    seconds: float = 0.0
    interrupted: bool = False
    # the first files that could not be processed, and why: (path below the folder, reason)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(
        self, status: Status, outcome: Outcome, reason: str | None, path: str = "", error: str | None = None
    ) -> None:
        self.seen += 1
        if (status in (Status.UNREADABLE, Status.ERROR) or outcome.error) and len(self.problems) < NAMED:
            self.problems.append((path, outcome.error or error or status.value))
        if status is Status.UNREADABLE:
            self.unreadable += 1
        elif status is Status.SKIPPED:
            self.skipped += 1
        elif status is Status.ERROR:
            self.errors += 1
        if outcome.error:
            self.move_failures += 1
        elif outcome.action is Action.QUARANTINE:
            self.quarantined[reason or "quarantine"] += 1
        elif outcome.action is Action.REVIEW:
            self.review[reason or "review"] += 1
        elif status is Status.ANALYSED:
            self.kept += 1

    @property
    def failed(self) -> int:
        """Files that could not be processed as asked: they make the exit code 1."""
        return self.unreadable + self.errors + self.move_failures

    @property
    def analysed_now(self) -> int:
        return self.seen - self.cached

    @property
    def images_per_s(self) -> float:
        return self.seen / self.seconds if self.seconds > 0 else 0.0

    def totals(self) -> dict[str, int]:
        """The counters, with the files skipped and those left alone as decided before (``face-clean runs``)."""
        return self.counts() | {"skipped": self.skipped, "unchanged": self.unchanged}

    def counts(self) -> dict[str, int]:
        """The counters ``watch`` logs and writes to its heartbeat."""
        return {
            "decided": self.seen,
            "kept": self.kept,
            "quarantined": sum(self.quarantined.values()),
            "review": sum(self.review.values()),
            "unreadable": self.unreadable,
            "errors": self.errors,
            "failed_moves": self.move_failures,
        }
