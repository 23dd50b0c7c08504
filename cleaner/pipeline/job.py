"""The job: files -> analysis -> decision -> action -> audit, one file at a time.

Each file is finished (moved or not, and its audit record durable) before the next one is
opened, so an interrupted run leaves a log that matches the folder exactly. ``run`` hands the
job the whole folder once (cleaner.commands.run), ``watch`` each batch of files that arrived
(cleaner.watch.loop); both get it from cleaner.commands.session, which opens what it uses.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from cleaner.analysis.protocol import Analyzer
from cleaner.audit.log import AuditLog
from cleaner.fs.safefs import within
from cleaner.moves.journal import COMPLETED, Unfinished
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline import recording
from cleaner.pipeline.actions import Item, MoveTo, for_decision
from cleaner.pipeline.handled import Done, FailureEpisodes, Handled, vanished
from cleaner.pipeline.output import Quiet, RunOutput
from cleaner.pipeline.people.step import PeopleStep, recorded
from cleaner.pipeline.sidecars import without_sidecars
from cleaner.pipeline.summary import Summary
from cleaner.pipeline.thumbs import DecisionThumbs
from cleaner.pipeline.verdicts.model import by_person, decision_of
from cleaner.records import AuditRecord, Decision, ImageAnalysis, Outcome, new_run_id
from cleaner.rules.deciding import decide
from cleaner.rules.model import RuleSet, canonical
from cleaner.store.db import StateDB
from cleaner.store.decided import LogPosition, path_key
from cleaner.store.reconcile import reconcile

log = logging.getLogger("face-clean")
MOVE_RECOVERED = "move completed by recovery after an interruption"


def said_of(identity: str, analysis: ImageAnalysis, decision: Decision, log: int, who: str | None = None) -> str:
    """What a record of a file left in place says: the analysis (by the models that made it) and the
    outcome, decided by the rules or by the person ``who`` gave a verdict, in the audit log ``log`` (its
    inode: a new log holds none of the old records). The same under other rules, or in a dry run, is no
    new decision: no new record."""
    fields = [identity, analysis.status.value, analysis.error, decision.action.value, decision.rule, decision.reason]
    text = json.dumps([*fields, who, log], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def decision_key(rules: RuleSet, identity: str, dry_run: bool) -> str:
    """What decides a file (the rules' content, the models, whether it is simulated), hashed the
    same way in every process: a restart or a second run must recognise its own decisions."""
    text = json.dumps([canonical(rules), identity, dry_run], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def ours(layout: Layout, m: Unfinished) -> bool:
    """A journal entry from the photo folder (or, a person's reject, the review folder) into the quarantine
    or review folder, and nothing else."""
    own = any(within(m.src, p) for p in layout.own_paths)
    from_folder = not own and within(m.src.parent, layout.root)
    if not (from_folder or within(m.src.parent, layout.review)):
        return False
    return all(any(within(d.parent, f) for f in (layout.quarantine, layout.review)) for d in m.candidates)


def recover_moves(mover: Mover, layout: Layout, state: StateDB) -> None:
    """Finish or roll back every move a crash left unfinished (those of ``layout``'s folders only),
    forget the state of each source whose move completed, and empty the journal."""
    for r in mover.recover(functools.partial(ours, layout), "move", MOVE_RECOVERED):
        log.warning("recovered an interrupted move of %s: %s", r.src, r.outcome)
        if r.outcome == COMPLETED:
            state.forget_file(r.src)
    mover.journal.empty()


class Job:
    """Decides files with one audit log, one state database, one analyzer and one mover."""

    def __init__(
        self,
        rules: RuleSet,
        layout: Layout,
        analyzer: Analyzer,
        state: StateDB,
        audit: AuditLog,
        mover: Mover | None = None,  # None: a dry run (nothing moves)
        dry_run: bool = False,
        output: RunOutput | None = None,
    ) -> None:
        self.rules, self.layout, self.analyzer, self.state, self.audit = rules, layout, analyzer, state, audit
        self.mover, self.dry_run = mover, dry_run
        self.output: RunOutput = output or Quiet()
        self.run_id = new_run_id()
        self.identity = analyzer.identity.key
        self.decision_key = decision_key(rules, self.identity, dry_run)
        self.summary = Summary(run_id=self.run_id)
        self.failing = FailureEpisodes()
        # the watcher's: True to leave a file that looks cut off undecided for now
        self.defer: Callable[[ImageAnalysis], bool] | None = None
        self.stop = threading.Event()  # set from a signal handler: stop after the current file
        self._checked: dict[str, int] = {}
        self.people = PeopleStep.of(state, layout.root)  # faces grouped into people, and their verdicts
        # photos a person's keep just put back (path -> sha256): their arrival is that verdict, already recorded
        self.placed: dict[str, str] = {}
        # the thumbnails of the photos it moves to review or the quarantine: the page opens with pictures
        self.thumbs = None if dry_run or mover is None else DecisionThumbs(state)

    def recover(self) -> None:
        """Recover moves a crash left unfinished, before anything else is touched (a dry run only
        says so: it moves nothing), and restore the decided rows a crash lost."""
        if self.mover is None:
            if Mover.pending(self.layout.journal):
                log.warning("moves interrupted by a crash are unfinished; the next real run recovers them")
        else:
            recover_moves(self.mover, self.layout, self.state)
        reconcile(self.state, self.layout.audit_log, self.layout.root, self.decision_key)

    def decide_each(self, files: list[Path]) -> Iterator[Done]:
        """Decide each file once, in order; returns early, between files, when ``stop`` is set."""
        self._checked = {}  # cleaner.store.decided.known_as: rows checked in this batch
        for analysis in self.analyzer.analyze_many(self.state.cached_many(files, self.identity)):
            done = self._finish(analysis)
            self.output.handled(done)
            yield done
            if self.stop.is_set():
                return

    def decide_all(self, files: list[Path]) -> None:
        for _ in self.decide_each(files):
            pass

    def _finish(self, analysis: ImageAnalysis) -> Done:
        path = analysis.path
        if vanished(analysis):
            log.debug("%s: gone before it could be read", path)
            self.failing.forget(path)
            return Done(path, Handled.VANISHED)
        self.state.remember(analysis, self.identity)
        if self.defer is not None and self.defer(analysis):
            return Done(path, Handled.DEFERRED)
        verdict = self.state.verdict(analysis.sha256)  # a person's verdict on these bytes outranks every rule
        decision = decide(self.rules, analysis) if verdict is None else decision_of(verdict)
        person = None if self.people is None else self.people.call(self.rules, analysis, decision, verdict is not None)
        decision = decision if person is None else person.decision  # a person's verdict outranks the models
        action = for_decision(decision, self.layout, self.mover)
        stays = not isinstance(action, MoveTo) or self.dry_run
        who = verdict.who if verdict is not None else None if person is None else person.who
        said = said_of(self.identity, analysis, decision, self.audit.position()[0], who) if stays else None
        if stays and (self._known(analysis, said) or self._said_before(analysis, said) or self._placed(analysis, said)):
            return Done(path, Handled.KNOWN)
        identity, key = self.analyzer.identity, self.decision_key
        record = recording.decided(self.layout.root, analysis, decision, identity, self.run_id, self.dry_run, key)
        if verdict is not None:
            record = by_person(record, verdict.who)
        elif person is not None:
            record = recorded(record, person)
        item = Item(self.layout.root, analysis, decision, record)
        outcome = action.pipeline(item, simulate=self.dry_run)
        if outcome.error and self._no_record(analysis, outcome):
            return Done(path, Handled.MOVE_FAILED if os.path.lexists(path) else Handled.VANISHED)
        if not outcome.error:
            self.failing.forget(path)
        written = outcome.record or self._write(recording.done(item, outcome))  # a move's is written with it
        if outcome.moved or outcome.error:
            self.state.forget_file(path)  # gone; or to be read again (it may have changed)
        if outcome.moved and self.thumbs is not None and written.destination:
            self.thumbs.moved(written.destination)  # after the record: a failure here costs a picture only
        at = LogPosition(self.layout.audit_log.name, *self.audit.position())
        if not outcome.moved and not outcome.error:
            self.state.mark_decided(analysis, self.decision_key, at, said)
        else:
            self.state.note_audit_position(at)
        self.summary.add(analysis.status, outcome, decision.reason, written.path, analysis.error)
        self.summary.cached += analysis.cached
        return Done(path, Handled.MOVE_FAILED if outcome.error else Handled.RECORDED, written)

    def _write(self, record: AuditRecord) -> AuditRecord:
        self.audit.write(record, durable=False)  # first: a full disk after this loses no record
        return record

    def _no_record(self, analysis: ImageAnalysis, outcome: Outcome) -> bool:
        """A move that failed because the file was deleted meanwhile (nothing was decided), or failed
        again on the same bytes (the same failure: recorded once)."""
        gone = not os.path.lexists(analysis.path)
        if gone:
            self.failing.forget(analysis.path)
        elif not self.failing.repeated(analysis, outcome):
            return False
        self.state.forget_file(analysis.path)  # to be read again (it may have changed)
        return True

    def _known(self, analysis: ImageAnalysis, said: str | None) -> bool:
        """These bytes were decided under the same rules, at this path (touched) or at one now gone
        (renamed): the decision stands and moves to this path, with no second record."""
        known = self.state.known_as(analysis, self.decision_key, self._checked)
        if known is None:
            return False
        if known != path_key(analysis.path):
            self.state.forget_decided(Path(known))
            log.debug("%s: decided before as %s", analysis.path, known)
        self.state.mark_decided(analysis, self.decision_key, said=said)
        self.summary.unchanged += 1
        return True

    def _said_before(self, analysis: ImageAnalysis, said: str | None) -> bool:
        """The last record of these bytes at this path says the same (other rules, a dry run before):
        the decision is unchanged and gets no second record; it now stands under these rules."""
        if said is None or not self.state.said_before(analysis, said):
            return False
        self.state.mark_decided(analysis, self.decision_key, said=said)
        self.summary.unchanged += 1
        return True

    def _placed(self, analysis: ImageAnalysis, said: str | None) -> bool:
        """A photo a person's keep put back here a moment ago (these bytes): its record is that keep's."""
        if self.placed.pop(str(analysis.path), None) != analysis.sha256 or analysis.sha256 is None:
            return False
        self.state.mark_decided(analysis, self.decision_key, said=said)
        self.summary.unchanged += 1
        return True

    def undecided(self, files: list[Path]) -> list[Path]:
        """Leave out the files decided before, unchanged since, under the same rules: a restart skips them;
        and the sidecars whose photo is beside them: they go where it goes (cleaner.pipeline.sidecars)."""
        return self.state.undecided(without_sidecars(files), self.decision_key)
