"""The one-shot cleaning job: files → analysis → decision → action → audit, one file at a time.

Each file is finished (moved or not, and its audit record durable) before the next one is
opened, so an interrupted run leaves a log that matches the folder exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.errors import StateError
from cleaner.paths import Layout
from cleaner.pipeline.actions import Item, MoveTo, for_decision
from cleaner.pipeline.audit import AuditLog, AuditRecord, make_record, move_ids, new_run_id, record_of
from cleaner.pipeline.handled import FailureEpisodes, Handled, vanished
from cleaner.pipeline.journal import MoveJournal
from cleaner.pipeline.scan import scan
from cleaner.pipeline.state.db import StateDB
from cleaner.pipeline.state.decided import LogPosition, path_key
from cleaner.pipeline.state.reconcile import reconcile
from cleaner.pipeline.summary import Summary
from cleaner.records import ImageAnalysis, Outcome
from cleaner.rules.deciding import decide
from cleaner.rules.loading import RuleSet
from cleaner.rules.model import canonical

log = logging.getLogger("face-clean")


def decision_key(rules: RuleSet, identity: str, dry_run: bool) -> str:
    """What decides a file (the rules' content, the models, whether it is simulated), hashed the
    same way in every process: a restart or a second run must recognise its own decisions."""
    text = json.dumps([canonical(rules), identity, dry_run], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


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
        self.decision_key = decision_key(rules, self.identity, dry_run)
        self.summary = Summary()
        self.failing = FailureEpisodes()
        # the watch daemon's: True to leave a file that looks cut off undecided for now
        self.defer: Callable[[ImageAnalysis], bool] | None = None
        self.stop = threading.Event()  # set from a signal handler: stop after the current file
        self.journal = MoveJournal(layout.journal)

    def recover(self) -> None:
        """Settle moves a crash left unfinished, before anything else is touched (a dry run only
        says so: it moves nothing), and restore the decided rows a crash lost."""
        if self.dry_run:
            if self.journal.unfinished():
                log.warning("moves interrupted by a crash are unfinished; the next real run settles them")
        else:
            self._settle_moves()
        reconcile(self.state, self.layout.audit_log, self.layout.root, self.decision_key)

    def _settle_moves(self) -> None:
        settled = self.journal.recover(
            write_record=self._write_recovered,
            recorded=lambda: move_ids(self.layout.audit_log),
            sources=self.layout.root,
            destinations=(self.layout.quarantine, self.layout.review),
            own=self.layout.own_paths,
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

    def process(self, files: list[Path], after_each: Callable[[Path, Handled], object] | None = None) -> None:
        """Decide each file once, in order; returns early, between files, when ``stop`` is set."""
        for analysis in self.analyzer.analyze_many(self.state.cached_many(files, self.identity)):
            handled = self._finish(analysis)
            if after_each is not None:
                after_each(analysis.path, handled)
            if self.stop.is_set():
                return

    def _finish(self, analysis: ImageAnalysis) -> Handled:
        if vanished(analysis):
            log.debug("%s: gone before it could be read", analysis.path)
            self.failing.forget(analysis.path)
            return Handled.VANISHED
        self.state.remember(analysis, self.identity)
        if self.defer is not None and self.defer(analysis):
            return Handled.DEFERRED
        decision = decide(self.rules, analysis)
        item = Item(self.layout.root, analysis, decision)
        action = for_decision(decision, self.layout.quarantine, self.layout.review)
        moves = isinstance(action, MoveTo) and not self.dry_run
        if not moves and self._known(analysis):
            return Handled.KNOWN
        move_id = None
        if isinstance(action, MoveTo) and moves and analysis.sha256 is not None:
            move_id = self.journal.new_id()
            planned = make_record(item, Outcome(action.kind), self.analyzer.identity, self.run_id, False, move_id)
            intent = self.journal.intent(move_id, analysis.path, analysis.sha256, vars(planned))
            action = replace(action, before_place=intent, token=move_id)
        outcome = action.pipeline(item, simulate=self.dry_run)
        if outcome.error and self._no_record(analysis, outcome, move_id):
            return Handled.MOVE_FAILED if os.path.lexists(analysis.path) else Handled.VANISHED
        if not outcome.error:
            self.failing.forget(analysis.path)
        record = make_record(
            item,
            outcome,
            self.analyzer.identity,
            self.run_id,
            self.dry_run,
            move_id if outcome.moved else None,
            self.decision_key,
        )
        self.audit.write(record, durable=outcome.moved)  # first: a full disk after this loses no record
        if move_id is not None:
            self.journal.end(move_id)
        if outcome.moved or outcome.error:
            self.state.forget_file(analysis.path)  # gone; or to be read again (it may have changed)
        at = LogPosition(self.layout.audit_log.name, *self.audit.position())
        if not outcome.moved and not outcome.error:
            self.state.mark_decided(analysis, self.decision_key, at)
        else:
            self.state.note_audit_position(at)
        self.summary.add(analysis.status, outcome, decision.reason)
        self.summary.cached += analysis.cached
        if self.on_record:
            self.on_record(record)
        return Handled.MOVE_FAILED if outcome.error else Handled.RECORDED

    def _no_record(self, analysis: ImageAnalysis, outcome: Outcome, move_id: str | None) -> bool:
        """A move that failed because the file was deleted meanwhile (nothing was decided), or failed
        again on the same bytes (the same failure: recorded once)."""
        gone = not os.path.lexists(analysis.path)
        if gone:
            self.failing.forget(analysis.path)
        elif not self.failing.repeated(analysis, outcome):
            return False
        if move_id is not None:
            self.journal.end(move_id)
        self.state.forget_file(analysis.path)  # to be read again (it may have changed)
        return True

    def _known(self, analysis: ImageAnalysis) -> bool:
        """These bytes were decided under the same rules, at this path (touched) or at one now gone
        (renamed): the decision stands and moves to this path, with no second record."""
        known = self.state.known_as(analysis, self.decision_key)
        if known is None:
            return False
        if known != path_key(analysis.path):
            self.state.forget_decided(Path(known))
            log.debug("%s: decided before as %s", analysis.path, known)
        self.state.mark_decided(analysis, self.decision_key)
        self.summary.unchanged += 1
        return True

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
            todo = job.undecided(files)  # a second run, or one after a crash, repeats nothing
            job.summary.unchanged = len(files) - len(todo)
            bar.reset(total=len(todo))
            with stop_on_signals(job.stop):
                job.process(todo, lambda path, handled: bar.update())
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
