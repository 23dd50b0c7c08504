"""The audit log: one JSON line per file per decision, durable before the next file starts.

It is the record users undo from, so it says everything needed to find a file again: where
it was, where it went, its sha256, and what (rule, model, tool version) decided.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from cleaner import __version__
from cleaner.analysis.face_analyzer import ModelIdentity
from cleaner.errors import AuditLogError, UnsafePath
from cleaner.fs.jsonl import Appender, read_objects, say_skipped
from cleaner.fs.safefs import PRIVATE, check_private, open_folder
from cleaner.pipeline.actions import Item
from cleaner.records import Outcome


@dataclass(frozen=True)
class AuditRecord:
    time: str
    run_id: str
    root: str
    path: str  # relative to root
    size: int
    sha256: str | None
    status: str
    error: str | None
    width: int | None
    height: int | None
    faces: list[dict[str, Any]]
    faces_considered: int
    cached: bool
    rule: str
    action: str
    reason: str | None
    uncertain: bool
    destination: str | None
    moved: bool
    dry_run: bool
    engine: str
    detector: str
    model_files: list[str]
    model_sha256: list[str]
    deepface_version: str
    tool_version: str = __version__
    notes: list[str] = field(default_factory=list)
    move_id: str | None = None  # ties a move to its journal entry (cleaner.pipeline.journal)
    gender_model: str | None = None  # builtin, deepface or a manifest's path; None: no gender analysed
    age_model: str | None = None
    decision_key: str | None = None  # the rules and models that decided (cleaner.pipeline.job.decision_key)


def json_line(fields: dict[str, Any]) -> str:
    """One JSON line, UTF-8 where it can be; a file name that is not valid UTF-8 is written with
    ASCII escapes (``\\udce9``), which ``json.loads`` and ``os.fsencode`` turn back into its bytes."""
    line = json.dumps(fields, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(fields, ensure_ascii=True)
    return line + "\n"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def make_record(
    item: Item,
    outcome: Outcome,
    identity: ModelIdentity,
    run_id: str,
    dry_run: bool,
    move_id: str | None = None,
    decision_key: str | None = None,
) -> AuditRecord:
    a, d = item.analysis, item.decision
    return AuditRecord(
        time=now(),
        run_id=run_id,
        root=str(item.root),
        path=item.relpath,
        size=a.size,
        sha256=a.sha256,
        status=a.status.value,
        error=outcome.error or a.error,
        width=a.width,
        height=a.height,
        faces=[asdict(f) for f in a.faces],
        faces_considered=d.faces_considered,
        cached=a.cached,
        rule=d.rule,
        action=d.action.value,
        reason=d.reason,
        uncertain=d.uncertain,
        destination=str(outcome.destination) if outcome.destination else None,
        moved=outcome.moved,
        dry_run=dry_run,
        engine=identity.engine,
        detector=identity.detector,
        model_files=list(identity.model_files),
        model_sha256=list(identity.model_sha256),
        deepface_version=identity.deepface_version,
        gender_model=identity.gender_model,
        age_model=identity.age_model,
        notes=[*a.notes, *outcome.notes],
        move_id=move_id,
        decision_key=decision_key,
    )




class AuditLog:
    """Append-only JSONL file in a private folder (cleaner.pipeline.state.folders), opened without following a link;
    each write reaches the OS before it returns, and the disk too when asked (records of moves)."""

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
            # vars(), not asdict(): the fields are plain values already, and asdict deep-copies them
            self._log.write(json_line(vars(record)), durable)
        except OSError as err:
            raise AuditLogError(
                f"stopped: cannot write the audit log {self.path}: {err.strerror} (last file: {record.path})",
                at_start=False,
            ) from None

    def position(self) -> tuple[int, int]:
        """(inode, size) after the last record: where the next one starts (cleaner.pipeline.state.reconcile)."""
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


_EMPTY: dict[str, Any] = dict(size=0, faces=[], faces_considered=0, cached=False, rule="", uncertain=False)
_EMPTY.update(engine="", detector="", model_files=[], model_sha256=[], deepface_version="", notes=[])


def record_of(fields: dict[str, Any]) -> AuditRecord:
    """An AuditRecord from a record read back (log, journal): unknown fields dropped, missing ones empty."""
    known = AuditRecord.__dataclass_fields__
    return AuditRecord(**{**dict.fromkeys(known), **_EMPTY, **{k: v for k, v in fields.items() if k in known}})


def move_ids(path: Path) -> set[str]:
    """The moves the audit log has a record of (recovery asks, after a crash)."""
    if not os.path.lexists(path):
        return set()
    return {r["move_id"] for r in read(path) if isinstance(r.get("move_id"), str)}


# What a record's fields may hold; a line with another type in one of them is not one of our records.
_TYPES: dict[str, tuple[type, ...]] = dict.fromkeys(("path", "root", "run_id", "action", "time"), (str,))
_OPTIONAL_TEXT = ("destination", "sha256", "move_id", "error", "reason", "rule", "status")
_TYPES.update(dict.fromkeys(_OPTIONAL_TEXT, (str, type(None))))
_TYPES.update(moved=(bool,), dry_run=(bool,), size=(int,), notes=(list,), faces=(list,))


def is_record(r: dict[str, Any]) -> bool:
    """A face-clean audit record: the fields that say which file and what happened, of the right types."""
    if not all(k in r for k in ("path", "root", "run_id", "action")):
        return False
    if not all(isinstance(r[k], t) for k, t in _TYPES.items() if k in r):
        return False
    return all(isinstance(f, dict) for f in r.get("faces", [])) and all(isinstance(n, str) for n in r.get("notes", []))


def read(path: Path, offset: int = 0) -> list[dict[str, Any]]:
    """All records of an audit log (from byte ``offset``); lines that are not records (a line torn by
    a power cut, damage, something else's JSON) are skipped, and the reader says how many."""
    objects, bad = read_objects(path, offset)
    records = [r for r in objects if is_record(r)]
    one, many = "that is not a face-clean record", "that are not face-clean records"
    say_skipped(path, bad + len(objects) - len(records), f"{one} (torn or damaged)", f"{many} (torn or damaged)")
    return records
