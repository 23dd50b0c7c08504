"""Each file's current state, from the audit log: its latest record, and where that record left it.

One place for what the report, the review page and ``face-clean verdict`` all ask: which files
are there, what was last decided about each (across runs), and where each is now. A record that
only withdraws a person's verdict changes nothing but that: the file keeps its latest decision.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

from cleaner.records import PERSON, AuditAction, AuditRecord

Place = tuple[str, str]  # (root, path): one file of the log


def place(r: AuditRecord) -> Place:
    return r.root, r.path


def where(r: AuditRecord) -> str:
    """Where the record left the file: its destination if it was moved (or, for a person's verdict on a
    file that stayed in the quarantine, where it stays), else its place in the folder."""
    if r.destination and (r.moved or (r.decided_by == PERSON and not r.dry_run)):
        return r.destination
    return os.path.join(r.root, r.path)


def fold(latest: dict[Place, AuditRecord], records: Iterable[AuditRecord]) -> list[Place]:
    """Bring ``latest`` up to date with ``records`` (in the log's order); the places they changed."""
    changed = []
    for r in records:
        key = place(r)
        before = latest.get(key)
        if r.action == AuditAction.WITHDRAW and before is not None:
            r = replace(before, decided_by=None, who=None, time=r.time)  # decided as before, by no one's verdict
        latest[key] = r
        changed.append(key)
    return changed


def current(records: Iterable[AuditRecord]) -> dict[Place, AuditRecord]:
    """The latest record of every file of the log."""
    latest: dict[Place, AuditRecord] = {}
    fold(latest, records)
    return latest
