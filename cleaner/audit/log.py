"""The audit log: one JSON line per file per decision, durable before the next file starts, read back
as typed records.

It is the record users undo from, so it says everything needed to find a file again: where
it was, where it went, its sha256, and what (rule, model, tool version) decided. It knows the
records (cleaner.records) and nothing of what made them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from cleaner.errors import AuditLogError, UnsafePath
from cleaner.fs.jsonl import Appender, iter_objects, json_line, parse, read_objects, say_skipped
from cleaner.fs.safefs import PRIVATE, check_private, open_folder
from cleaner.records import SCHEMA, AuditRecord


class AuditLog:
    """Append-only JSONL file in a private folder (cleaner.store.folders), opened without
    following a link; each write reaches the OS before it returns, and the disk too when asked (the
    records of moves)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open_folder(path.parent, create=True, mode=PRIVATE) as folder:
                check_private(folder, "the audit log's folder")
                self._log = Appender(folder, path.name, "audit log", 0o644)
        except OSError as err:
            why = str(err) if isinstance(err, UnsafePath) else f"cannot write the audit log {path}: {err.strerror}"
            raise AuditLogError(why, at_start=True) from None

    def write(self, record: AuditRecord, durable: bool = True) -> None:
        """Flushed to the OS always; fsynced too when ``durable`` (records of moves): a power cut
        may then lose the record of a file left in place, never the record of where one went."""
        try:
            # vars(), not asdict(): the fields are plain values already, and asdict deep-copies them;
            # every line written now carries this version, whatever record it was made from
            self._log.write(json_line({**vars(record), "schema": SCHEMA}), durable)
        except OSError as err:
            raise AuditLogError(
                f"stopped: cannot write the audit log {self.path}: {err.strerror} (last file: {record.path})",
                at_start=False,
            ) from None

    def position(self) -> tuple[int, int]:
        """(inode, size) after the last record: where the next one starts (cleaner.store.reconcile)."""
        st = os.fstat(self._log.fd)
        return st.st_ino, st.st_size

    def close(self) -> None:
        try:
            os.fsync(self._log.fd)
        except OSError:
            pass  # every record was written as it came; a failing sync now loses nothing more
        self._log.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def move_ids(path: Path) -> set[str]:
    """The moves the audit log has a record of (recovery asks, after a crash)."""
    if not os.path.lexists(path):
        return set()
    return {r.move_id for r in read(path) if r.move_id is not None}


# What a record's fields may hold; a line with another type in one of them is not one of our records.
_TYPES: dict[str, tuple[type, ...]] = dict.fromkeys(("path", "root", "run_id", "action", "time"), (str,))
_OPTIONAL_TEXT = ("destination", "sha256", "move_id", "error", "reason", "rule", "status", "decided_by", "who")
_TYPES.update(dict.fromkeys(_OPTIONAL_TEXT, (str, type(None))))
_TYPES.update(moved=(bool,), dry_run=(bool,), size=(int,), notes=(list,), faces=(list,), near_misses=(list,))
_TYPES.update(schema=(int,))


def is_record(r: dict[str, Any]) -> bool:
    """A face-clean audit record: the fields that say which file and what happened, of the right types."""
    if not all(k in r for k in ("path", "root", "run_id", "action")):
        return False
    if not all(isinstance(r[k], t) for k, t in _TYPES.items() if k in r):
        return False
    return all(isinstance(f, dict) for f in r.get("faces", [])) and all(isinstance(n, str) for n in r.get("notes", []))


def read(path: Path, offset: int = 0) -> list[AuditRecord]:
    """All records of an audit log (from byte ``offset``); lines that are not records (a line torn by
    a power cut, damage, something else's JSON) are skipped, and the reader says how many."""
    objects, bad = read_objects(path, offset)
    records = [AuditRecord.of(r) for r in objects if is_record(r)]
    one, many = "that is not a face-clean record", "that are not face-clean records"
    say_skipped(path, bad + len(objects) - len(records), f"{one} (torn or damaged)", f"{many} (torn or damaged)")
    return records


def records(path: Path) -> Iterator[AuditRecord]:
    """``read``, one record at a time: memory bounded by the longest line, not the log's size."""
    bad = [0]
    for r in iter_objects(path, 0, bad):
        if is_record(r):
            yield AuditRecord.of(r)
        else:
            bad[0] += 1
    say_skipped(
        path,
        bad[0],
        "that is not a face-clean record (torn or damaged)",
        "that are not face-clean records (torn or damaged)",
    )


def read_complete(path: Path, offset: int, inode: int | None) -> tuple[list[AuditRecord], int, int]:
    """The records of the complete lines from byte ``offset`` on (a writer may be appending the next line
    meanwhile: a line without its newline is left for the next call), the offset after the last of them,
    and the log's inode. A log that is not the one of ``inode``, or is shorter than ``offset`` (replaced,
    cut), is read from its start."""
    with open_folder(path.parent) as folder:
        fd = folder.open_file(path.name, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if st.st_ino != inode or st.st_size < offset:
            offset = 0
        chunks, at = [], offset
        while chunk := os.pread(fd, 1 << 20, at):
            chunks.append(chunk)
            at += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    complete = data[: data.rfind(b"\n") + 1]
    objects = [parse(line) for line in complete.split(b"\n") if line.strip()]
    records = [AuditRecord.of(o) for o in objects if o is not None and is_record(o)]
    return records, offset + len(complete), st.st_ino
