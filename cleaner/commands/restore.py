"""``face-clean restore``: under the folder lock, recover an interrupted restore, read the log, and
restore the selected files in the order they were moved out.

- **A dry run writes nothing**, not even dry-run records: its plan is its output, and the audit log
  stays a record of what was done to files. Like run's, it locks the folder and the log's folder only.
- **A restored photo is kept for good**: restore gives it a person's keep verdict (in the state
  database, by content; the restore record says ``decided_by: "person"``), which run and watch apply
  before any rule. Without a verdict (``verdict_by`` None: ``--no-verdict``) it is new to run and
  watch, which decide it again under the rules then in force.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack

from cleaner.audit.log import AuditLog, read
from cleaner.errors import StateError
from cleaner.paths import Layout
from cleaner.pipeline.lock import lock_layout
from cleaner.pipeline.output import RestoreOutput
from cleaner.pipeline.restore.log import RESTORE, LogView, read_log, same_root
from cleaner.pipeline.restore.restorer import Restorer, RestoreSummary
from cleaner.pipeline.restore.selection import Selection
from cleaner.pipeline.signals import stop_on_signals
from cleaner.pipeline.verdicts.model import by_person
from cleaner.records import AuditRecord, now
from cleaner.store.db import StateDB
from cleaner.store.folders import prepare
from cleaner.store.verdicts import KEEP, Verdict

log = logging.getLogger("face-clean")


def restore(
    layout: Layout,
    selection: Selection,
    rename: bool,
    dry_run: bool,
    output: RestoreOutput,
    verdict_by: str | None = None,
    invocation: str = "",
) -> RestoreSummary:
    """Restore what ``selection`` names, in order, each with a keep verdict by ``verdict_by`` if given;
    SIGTERM or SIGINT stop after a whole file. ``invocation``: the command line, for the list of runs."""
    summary = RestoreSummary(dry_run)
    stop = threading.Event()
    prepare(layout)  # before anything is written there
    with ExitStack() as stack:
        stack.enter_context(lock_layout(layout, RESTORE, dry_run))
        audit = None if dry_run else stack.enter_context(AuditLog(layout.audit_log))
        restorer = Restorer(layout, audit, rename)
        stack.callback(restorer.close)
        for r in restorer.recover():
            output.recovered(r.src, r.outcome)
        records = read(layout.audit_log)
        view = read_log(records, layout.root)
        state = None if dry_run else stack.enter_context(StateDB(layout.state_db))
        keep = None if state is None or verdict_by is None else _keeper(state, verdict_by)
        if state is not None and invocation and any(selection.matches(c) for c in view.pending):
            _listed(state, restorer.run_id, layout, invocation)
        with stop_on_signals(stop):
            for c in view.pending:
                if selection.matches(c):
                    summary.results.append(restorer.restore(c, *keep) if keep else restorer.restore(c))
                    output.restored(summary.results[-1])
                if stop.is_set():
                    break
    summary.interrupted = stop.is_set()
    _files_not_pending(selection, view, summary)
    summary.other_roots = view.other_roots
    _what_exists(records, view, layout, summary)
    output.summary(summary)
    return summary


def _listed(state: StateDB, run_id: str, layout: Layout, invocation: str) -> None:
    try:
        state.run_listed(run_id, layout.root, invocation)
    except StateError as err:  # a full disk: the restores matter, the list's line less
        log.warning("the restore is not in the list of runs: %s", err)


def _what_exists(records: list[AuditRecord], view: LogView, layout: Layout, summary: RestoreSummary) -> None:
    """The reasons, rules and runs of the moves out of the folder: still out, and ever."""
    keys: dict[str, Callable[[AuditRecord], str | None]] = {
        "reason": lambda r: r.reason,
        "rule": lambda r: r.rule or None,
        "run": lambda r: r.run_id,
    }
    moves = [r for r in records if r.moved and not r.dry_run and r.action != RESTORE and same_root(r, layout.root)]
    for name, key in keys.items():
        summary.pending_by[name] = Counter(v for c in view.pending if (v := key(c.record)) is not None)
        summary.ever[name] = {v for r in moves if (v := key(r)) is not None}


def _keeper(state: StateDB, who: str) -> tuple[Callable[[AuditRecord], AuditRecord], Callable[[str], None]]:
    """What a restore with a verdict does beside the move: its record says a person decided, and the
    keep verdict is stored (before the move: a crash then leaves a verdict, never a file without one)."""

    def store(sha256: str) -> None:
        state.give_verdict(Verdict(sha256, KEEP, who, now()))

    return (lambda r: by_person(r, who)), store


def _files_not_pending(selection: Selection, view: LogView, summary: RestoreSummary) -> None:
    """The FILEs no pending move matches: restored already, or unknown to the log."""
    for f in selection.files:
        if not any(f.matches(c) for c in view.pending):
            done = next((view.restored[k] for k in [*f.paths, f.source] if k is not None and k in view.restored), None)
            if done is None:
                summary.unknown.append(f.text)
            else:
                summary.already.append((f.text, done))
