"""After a crash: restore the decided rows the state database lost but the audit log has.

The audit record of a file is written (and flushed) before its row in the ``decided`` table,
which is committed in batches; a process killed in between leaves a record without a row,
and without this the next run would decide the file again and write a second record.  The
state database keeps the audit log's position with each row, in the same transaction
(cleaner.store.decided), so only the records past the committed position need a look: each one
made under the same decision key, that moved nothing, whose file is still there with the
recorded bytes, gets its row back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cleaner.audit import log as audit
from cleaner.fs.hashing import hash_file
from cleaner.records import Action, AuditRecord, ImageAnalysis, Status
from cleaner.store.db import StateDB
from cleaner.store.decided import LogPosition

log = logging.getLogger("face-clean")


def reconcile(state: StateDB, log_path: Path, root: Path, decision_key: str) -> int:
    """Mark decided the files the audit log records past the committed position; how many."""
    try:
        st = os.lstat(log_path)
    except FileNotFoundError:
        return 0
    at = state.audit_position(log_path.name)
    if at is None:  # a new state database, or one older than this bookkeeping: nothing is known to be missing
        state.note_audit_position(LogPosition(log_path.name, st.st_ino, st.st_size))
        state.commit()
        return 0
    offset = at.offset if at.inode == st.st_ino and at.offset <= st.st_size else 0  # replaced or cut: all of it
    restored = 0
    for record in audit.read(log_path, offset):
        analysis = _still_there(record, root, decision_key)
        if analysis is not None:
            state.mark_decided(analysis, decision_key)
            restored += 1
    state.note_audit_position(LogPosition(log_path.name, st.st_ino, st.st_size))
    state.commit()
    if restored:
        log.info("restored %d decisions that a crash kept from the state database", restored)
    return restored


def _still_there(record: AuditRecord, root: Path, decision_key: str) -> ImageAnalysis | None:
    """The file the record decided, if it would have got a row and is unchanged since."""
    if record.decision_key != decision_key or record.root != str(root) or record.moved:
        return None
    if record.action != Action.KEEP.value and not record.dry_run:
        return None  # a move that failed: the file was not decided
    if record.sha256 is None:
        return None
    path = root / record.path
    try:
        st, sha = hash_file(path, root)  # never through a link below the photo folder
        status = Status(record.status)
    except (OSError, ValueError):
        return None
    if st.st_size != record.size or sha != record.sha256:
        return None
    return ImageAnalysis(path, st.st_size, sha, status, mtime_ns=st.st_mtime_ns)
