"""What the audit log says about a folder's past: where its files were moved to (so that an old
quarantine inside the folder is never scanned), and the runs that wrote records (``face-clean runs``)."""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cleaner.audit.log import read, records
from cleaner.fs.safefs import check_private, open_folder
from cleaner.pipeline.verdicts.model import WITHDRAW
from cleaner.records import PERSON, AuditAction, AuditRecord
from cleaner.store.runs import RunRow, read_runs

RESTORE = AuditAction.RESTORE.value


def moved_to(audit_log: Path, root: Path) -> list[str]:
    """The quarantine and review folders the log says files of ``root`` were moved to: each move's
    destination is ``FOLDER/<reason>/<recorded path>``. Read only from a folder that passes the state
    folder's check (one others may write to, or a planted log, is not believed: the run then sets it aside
    or refuses it, and says why), one record at a time."""
    try:
        with open_folder(audit_log.parent) as folder:
            check_private(folder, "the audit log's folder")
            st = folder.lstat(audit_log.name)
    except OSError:
        return []
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid not in (os.geteuid(), 0):
        return []
    found: dict[str, None] = {}
    real = os.path.realpath(root)
    try:
        for r in records(audit_log):
            if not r.moved or r.dry_run or r.action == RESTORE or r.destination is None:
                continue
            if os.path.realpath(r.root) != real:
                continue
            depth = len(PurePosixPath(r.path).parts) + 1  # the reason's folder, then the path
            dest = Path(r.destination)
            if len(dest.parts) > depth:
                found[str(dest.parents[depth - 1])] = None
    except OSError:
        return []  # unreadable: the run's own check says why
    return list(found)


@dataclass
class RunInfo:
    run_id: str
    command: str
    started: str
    ended: str | None
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)  # from the audit log: records by outcome
    totals: dict[str, int] = field(default_factory=dict)  # from the state database, when it has the run


def outcome(r: AuditRecord) -> str:
    if r.action == RESTORE:
        return "restored"
    if r.status in ("unreadable", "skipped", "error"):
        return r.status
    if r.error and not r.moved and r.action != AuditAction.KEEP and not r.dry_run:
        return "failed move"
    if r.action == WITHDRAW:
        return "withdrawn"
    if r.action in (AuditAction.QUARANTINE, AuditAction.REJECT):  # a person's reject quarantines, as a rule's does
        return "quarantined"
    return "review" if r.action == AuditAction.REVIEW else "kept"


def runs(audit_log: Path, state_db: Path, root: Path) -> list[RunInfo]:
    """Every run on ``root``: those the state database lists, and those only the audit log knows
    (restores, and runs from before the list was kept), oldest first."""
    rows: dict[str, RunRow] = {r.run_id: r for r in read_runs(state_db, root)}
    found: dict[str, RunInfo] = {}
    real = os.path.realpath(root)
    for r in read(audit_log) if audit_log.is_file() else []:
        if os.path.realpath(r.root) != real:
            continue
        info = found.get(r.run_id)
        if info is None:
            command = f"face-clean restore {root}" if r.action == RESTORE else ""
            if r.decided_by == PERSON and not command:  # from before verdicts were listed with their command
                command = f"a person's verdicts on {root} ({r.who or 'someone'})"
            info = found[r.run_id] = RunInfo(r.run_id, command, r.time, r.time, r.dry_run)
        info.ended = r.time
        info.counts[outcome(r)] += 1
    for row in rows.values():
        info = found.setdefault(row.run_id, RunInfo(row.run_id, row.command, row.started, row.ended, row.dry_run))
        info.command, info.started, info.ended, info.totals = row.command, row.started, row.ended, row.counts
    return sorted(found.values(), key=lambda i: i.started)
