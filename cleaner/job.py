"""The one-shot cleaning job: files → analysis → decision → action → audit, one file at a time.

Each file is finished (moved or not, and its audit record durable) before the next one is
opened, so an interrupted run leaves a log that matches the folder exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cleaner.actions import Item, MoveTo, for_decision
from cleaner.audit import AuditLog, AuditRecord, make_record, move_ids, new_run_id, record_of
from cleaner.batch import BatchAnalyzer
from cleaner.decide import decide
from cleaner.journal import MoveJournal
from cleaner.records import Action, ImageAnalysis, Outcome, Status
from cleaner.rules import RuleSet
from cleaner.scan import STATE_DIR_NAME, scan
from cleaner.signing import KEY_NAME
from cleaner.state import StateDB, StateError

log = logging.getLogger("face-clean")


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
        state = root / STATE_DIR_NAME  # not resolved: a link planted there is refused, never followed
        return cls(
            root=root,
            quarantine=quarantine.resolve() if quarantine else state / "quarantine",
            review=review.resolve() if review else state / "review",
            audit_log=audit_log.parent.resolve() / audit_log.name if audit_log else state / "audit.jsonl",
        )

    @property
    def journal(self) -> Path:
        """The move journal, beside the audit log."""
        return self.audit_log.with_name("moves.journal")

    @property
    def own_paths(self) -> tuple[Path, ...]:
        sqlite_files = tuple(self.state_db.with_name(self.state_db.name + s) for s in ("-wal", "-shm", "-journal"))
        lock = self.audit_log.with_name(".face-clean.lock")  # cleaner.lock's, when the log is elsewhere
        own = (self.audit_log.with_name(KEY_NAME), self.audit_log.with_name("heartbeat"))  # the journal's key, watch's
        return (self.quarantine, self.review, self.audit_log, self.state_db, self.journal, lock, *sqlite_files, *own)


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


class Job:
    """Decides batches of files with one audit log, one state database and one analyzer; ``run``
    hands it the whole folder once, the watch daemon each batch of files that settled."""

    def __init__(
        self,
        rules: RuleSet,
        layout: Layout,
        analyzer: BatchAnalyzer,
        state: StateDB,
        audit: AuditLog,
        dry_run: bool = False,
        on_record: Callable[[AuditRecord], None] | None = None,
    ) -> None:
        self.rules, self.layout, self.analyzer, self.state, self.audit = rules, layout, analyzer, state, audit
        self.dry_run = dry_run
        self.on_record = on_record
        self.run_id = new_run_id()
        self.identity = analyzer.identity.key
        # decisions depend on the rules, the analysis and whether they were simulated
        self.decision_key = hashlib.sha256(repr((rules, self.identity, dry_run)).encode()).hexdigest()[:32]
        self.summary = Summary()
        self.stop = threading.Event()  # set from a signal handler: stop after the current file
        self.journal = MoveJournal(layout.journal)

    def recover(self) -> None:
        """Settle moves a crash left unfinished, before anything else is touched (a dry run only
        says so: it moves nothing)."""
        if self.dry_run:
            if self.journal.unfinished():
                log.warning("moves interrupted by a crash are unfinished; the next real run settles them")
            return
        settled = self.journal.recover(
            write_record=self._write_recovered,
            recorded=lambda: move_ids(self.layout.audit_log),
            sources=self.layout.root,
            destinations=(self.layout.quarantine, self.layout.review),
            own=(self.layout.root / STATE_DIR_NAME, *self.layout.own_paths),
        )
        for s in settled:
            if s.outcome == "completed":
                self.state.forget_file(s.src)

    def _write_recovered(self, fields: dict[str, Any]) -> None:
        try:
            record = AuditRecord(**fields)
        except TypeError:  # a journal from another version, or tampered with: keep what we can
            log.error("the journal's record of %s is unreadable; its move is recorded without details", fields)
            record = record_of(fields)
        self.audit.write(record, durable=True)

    def process(self, files: list[Path], after_each: Callable[[], object] | None = None) -> None:
        """Decide each file once, in order; returns early, between files, when ``stop`` is set."""
        for analysis in self.analyzer.analyze_many(self.state.cached_many(files, self.identity)):
            self._finish(analysis)
            if after_each is not None:
                after_each()
            if self.stop.is_set():
                return

    def _finish(self, analysis: ImageAnalysis) -> None:
        self.state.remember(analysis, self.identity)
        decision = decide(self.rules, analysis)
        item = Item(self.layout.root, analysis, decision)
        action = for_decision(decision, self.layout.quarantine, self.layout.review)
        move_id = None
        if isinstance(action, MoveTo) and not self.dry_run and analysis.sha256 is not None:
            move_id = self.journal.new_id()
            planned = make_record(item, Outcome(action.kind), self.analyzer.identity, self.run_id, False, move_id)
            intent = self.journal.intent(move_id, analysis.path, analysis.sha256, vars(planned))
            action = replace(action, before_place=intent, token=move_id)
        outcome = action.pipeline(item, simulate=self.dry_run)
        record = make_record(
            item, outcome, self.analyzer.identity, self.run_id, self.dry_run, move_id if outcome.moved else None
        )
        self.audit.write(record, durable=outcome.moved)  # first: a full disk after this loses no record
        if move_id is not None:
            self.journal.end(move_id)
        if outcome.moved or outcome.error:
            self.state.forget_file(analysis.path)  # gone; or to be read again (it may have changed)
        if not outcome.moved and not outcome.error:
            self.state.mark_decided(analysis, self.decision_key)
        self.summary.add(analysis.status, outcome, decision.reason)
        self.summary.cached += analysis.cached
        if self.on_record:
            self.on_record(record)

    def undecided(self, files: list[Path]) -> list[Path]:
        """Leave out the files decided before, unchanged since, under the same rules: a restarted daemon skips them."""
        return self.state.undecided(files, self.decision_key)


def run(
    rules: RuleSet,
    layout: Layout,
    analyzer: BatchAnalyzer,
    state: StateDB,
    dry_run: bool = False,
    recursive: bool = True,
    progress: bool | None = None,
    on_record: Callable[[AuditRecord], None] | None = None,
) -> Summary:
    """Process every file once; Ctrl-C or SIGTERM stops after the current file with the log intact."""
    started = time.monotonic()
    bar = tqdm(total=0, unit="img", disable=None if progress is None else not progress, dynamic_ncols=True)
    job: Job | None = None
    try:
        with AuditLog(layout.audit_log) as audit:
            job = Job(rules, layout, analyzer, state, audit, dry_run, on_record)
            job.recover()  # first: a move a crash left half done changes what the scan finds
            files = scan(layout.root, recursive, rules.exclude, layout.own_paths)
            bar.reset(total=len(files))
            with stop_on_signals(job.stop):
                job.process(files, bar.update)
            job.summary.interrupted = job.stop.is_set()
    except KeyboardInterrupt:
        if job is not None:
            job.summary.interrupted = True
    finally:
        bar.close()
        if job is not None:
            job.journal.close()
        with contextlib.suppress(StateError):  # a full disk: its message is on its way already, or comes at close
            state.commit()
    summary = job.summary if job is not None else Summary()
    summary.seconds = time.monotonic() - started
    return summary


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the current file is finished, never cut in half."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = lambda signum, frame: stop.set()  # noqa: E731
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
