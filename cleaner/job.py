"""The one-shot cleaning job: files → analysis → decision → action → audit, one file at a time.

Each file is finished (moved or not, and its audit record durable) before the next one is
opened, so an interrupted run leaves a log that matches the folder exactly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from cleaner.actions import Item, for_decision
from cleaner.audit import AuditLog, make_record, new_run_id
from cleaner.batch import BatchAnalyzer
from cleaner.decide import decide
from cleaner.records import Action, ImageAnalysis, Outcome, Status
from cleaner.rules import RuleSet
from cleaner.scan import STATE_DIR_NAME, scan
from cleaner.state import StateDB


@dataclass(frozen=True)
class Layout:
    """Where a run reads and writes; defaults all live in ``DIR/.face-clean``."""

    root: Path
    quarantine: Path
    review: Path
    audit_log: Path

    @property
    def state_db(self) -> Path:
        """The cache lives beside the audit log."""
        return self.audit_log.with_name("state.db")

    @classmethod
    def for_root(
        cls, root: Path, quarantine: Path | None = None, review: Path | None = None, audit_log: Path | None = None
    ) -> Layout:
        root = root.resolve()
        state = root / STATE_DIR_NAME
        return cls(
            root=root,
            quarantine=(quarantine or state / "quarantine").resolve(),
            review=(review or state / "review").resolve(),
            audit_log=(audit_log or state / "audit.jsonl").resolve(),
        )

    @property
    def own_paths(self) -> tuple[Path, ...]:
        sqlite_files = tuple(self.state_db.with_name(self.state_db.name + s) for s in ("-wal", "-shm", "-journal"))
        return (self.quarantine, self.review, self.audit_log, self.state_db, *sqlite_files)


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
            f"  analysed now: {self.seen - self.cached}   from cache: {self.cached}",
        ]
        return "\n".join(lines)


def run(
    rules: RuleSet,
    layout: Layout,
    analyzer: BatchAnalyzer,
    state: StateDB,
    dry_run: bool = False,
    recursive: bool = True,
    progress: bool | None = None,
    on_record: Callable[[str], None] | None = None,
) -> Summary:
    """Process every file once; Ctrl-C stops after the current file with the log intact."""
    summary = Summary()
    started = time.monotonic()
    files = scan(layout.root, recursive, rules.exclude, layout.own_paths)
    run_id = new_run_id()
    identity = analyzer.identity.key
    analyzer.lookup = lambda f: state.lookup(f.path, len(f.data), f.st.st_mtime_ns, f.sha256, identity)

    def work() -> Iterator[Path | ImageAnalysis]:
        for path in files:
            yield state.cached(path, identity) or path

    bar = tqdm(total=len(files), unit="img", disable=None if progress is None else not progress, dynamic_ncols=True)
    try:
        with AuditLog(layout.audit_log) as audit:
            for analysis in analyzer.analyze_many(work()):
                state.remember(analysis, identity)
                decision = decide(rules, analysis)
                item = Item(layout.root, analysis, decision)
                action = for_decision(decision, layout.quarantine, layout.review)
                outcome = action.pipeline(item, simulate=dry_run)
                if outcome.moved:
                    state.forget_file(analysis.path)
                record = make_record(item, outcome, analyzer.identity, run_id, dry_run)
                audit.write(record, durable=outcome.moved)
                summary.add(analysis.status, outcome, decision.reason)
                summary.cached += analysis.cached
                bar.update()
                if on_record:
                    on_record(f"{record.path}: {record.action}" + (f" ({record.reason})" if record.reason else ""))
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        state.commit()
        summary.seconds = time.monotonic() - started
    return summary
