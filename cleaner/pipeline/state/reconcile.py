"""After a crash: restore the decided rows the state database lost but the audit log has.

The audit record of a file is written (and flushed) before its row in the ``decided`` table,
which is committed in batches; a process killed in between leaves a record without a row,
and without this the next run would decide the file again and write a second record.  The
state database keeps the audit log's position with each row, in the same transaction
(cleaner.pipeline.state.decided), so only the records past the committed position need a look: each one
made under the same decision key, that moved nothing, whose file is still there with the
recorded bytes, gets its row back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cleaner.fs.safefs import open_folder
from cleaner.pipeline import audit
from cleaner.pipeline.state.db import StateDB
from cleaner.pipeline.state.decided import LogPosition
from cleaner.records import ImageAnalysis, Status

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


def _still_there(record: dict[str, Any], root: Path, decision_key: str) -> ImageAnalysis | None:
    """The file the record decided, if it would have got a row and is unchanged since."""
    if record.get("decision_key") != decision_key or record.get("root") != str(root) or record.get("moved"):
        return None
    if record.get("action") != "keep" and not record.get("dry_run"):
        return None  # a move that failed: the file was not decided
    sha, path = record.get("sha256"), root / str(record.get("path"))
    if sha is None:
        return None
    try:
        with open_folder(path.parent, root) as folder:  # never through a link below the photo folder
            fd = folder.open_file(path.name, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != record.get("size") or _sha256(fd) != sha:
                return None
        finally:
            os.close(fd)
        status = Status(record.get("status"))
    except (OSError, ValueError):
        return None
    return ImageAnalysis(path, st.st_size, sha, status, mtime_ns=st.st_mtime_ns)


def _sha256(fd: int) -> str:
    digest = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        digest.update(chunk)
    return digest.hexdigest()
