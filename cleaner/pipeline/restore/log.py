"""What the audit log says is still moved out of a folder, and what was restored already.

Records are read in order, keyed by the *quarantined* path: a move there makes a candidate, a later
restore record "restored from" there ends it, a later move to that name (a photo quarantined again)
makes one again. So two photos that left one name at different times both come back (the second as
a conflict). Moves out of other folders (``root`` is not DIR: a shared audit log, or one written in
a container, where the folder has another name) are left alone, and counted.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cleaner.records import AuditAction, AuditRecord

RESTORE = AuditAction.RESTORE.value  # the action of a restore record
RESTORED_FROM = "restored from "  # the note that names the quarantined file a restore took
MOVED_FROM = "moved from "  # the note of a move between face-clean's folders (a person's reject of a photo in review)


@dataclass(frozen=True)
class Candidate:
    """A file the log says was moved out of the folder and not restored since."""

    record: AuditRecord  # the record of the move out

    @property
    def source(self) -> str:
        """Where it went: its recorded destination."""
        return str(self.record.destination)

    @property
    def relpath(self) -> str:
        """Where it came from, below the folder."""
        return self.record.path

    @property
    def reason(self) -> str | None:
        return self.record.reason

    @property
    def rule(self) -> str | None:
        return self.record.rule or None

    @property
    def time(self) -> str | None:
        """When it was moved out."""
        return self.record.time or None

    @property
    def sha256(self) -> str | None:
        return self.record.sha256


@dataclass
class LogView:
    pending: list[Candidate]  # this folder's files, in the order they were moved out
    restored: dict[str, str]  # recorded or quarantined path of what was restored -> where it went
    other_roots: Counter[str]  # files still moved out of other folders, by folder


def restored_from(record: AuditRecord, prefix: str = RESTORED_FROM) -> str | None:
    for note in record.notes:
        if note.startswith(prefix):
            return note[len(prefix) :]
    return None


def read_log(records: Iterable[AuditRecord], root: Path) -> LogView:
    """The latest record about each quarantined file decides whether it is still out."""
    out: dict[str, AuditRecord] = {}
    restored: dict[str, str] = {}
    for r in records:
        if r.dry_run or not r.moved or r.destination is None:
            continue
        if r.action == RESTORE or restored_from(r) is not None:  # a restore, or a person's keep that was one
            src = restored_from(r)
            if src is not None:
                out.pop(src, None)
                restored[src] = r.destination
                if same_root(r, root):
                    restored[r.path] = r.destination
            continue
        out.pop(restored_from(r, MOVED_FROM) or "", None)  # it left the review folder for the quarantine
        out.pop(r.destination, None)  # re-inserted: the order is that of the latest move
        out[r.destination] = r
    view = LogView([], restored, Counter())
    for r in out.values():
        if same_root(r, root):
            view.pending.append(Candidate(r))
        else:
            view.other_roots[r.root] += 1
    return view


def same_root(r: AuditRecord, root: Path) -> bool:
    return os.path.realpath(r.root) == os.path.realpath(root)
