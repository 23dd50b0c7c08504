"""The counts a run or the watch daemon reports: files decided, by outcome, and how fast."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cleaner.records import Action, Outcome, Status


@dataclass
class Summary:
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

    def add(self, status: Status, outcome: Outcome, reason: str | None) -> None:
        self.seen += 1
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

    def render(self, dry_run: bool) -> str:
        rate = self.seen / self.seconds if self.seconds > 0 else 0.0
        verb = "would be " if dry_run else ""

        def by_reason(c: Counter[str]) -> str:
            inner = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
            return f"{sum(c.values())}" + (f" ({inner})" if inner else "")

        lines = [
            f"{'Interrupted after' if self.interrupted else 'Done:'} {self.seen} files in {self.seconds:.1f} s "
            f"({rate:.2f} images/s)",
            f"  kept: {self.kept}",
            f"  {verb}quarantined: {by_reason(self.quarantined)}",
            f"  {verb}sent to review: {by_reason(self.review)}",
            f"  unreadable: {self.unreadable}   skipped: {self.skipped}   errors: {self.errors}"
            f"   failed moves: {self.move_failures}",
            f"  analysed now: {self.seen - self.cached}   from cache: {self.cached}"
            f"   already decided: {self.unchanged}",
        ]
        return "\n".join(lines)
