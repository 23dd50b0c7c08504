"""Typed records that cross module boundaries: analysis in, decisions and outcomes out, and the
audit record that says all of it for one file.

They hold plain Python values only (no numpy scalars), so every one of them can be written
to JSON as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from cleaner import __version__


class Status(str, Enum):
    """How far the analysis of a file got."""

    ANALYSED = "analysed"
    UNREADABLE = "unreadable"  # not an image, corrupt, truncated, empty, too large, no access
    SKIPPED = "skipped"  # never looked inside (a symbolic link, say)
    ERROR = "error"  # the image decoded but the model failed on it


class Action(str, Enum):
    """What the rules may decide for a file (a rules file's ``action``)."""

    KEEP = "keep"
    QUARANTINE = "quarantine"
    REVIEW = "review"


class AuditAction(str, Enum):
    """Every value an audit record's ``action`` takes: the one owner of that vocabulary
    (docs/reference/audit-record.md). A str enum: a record's ``action`` (a str) equals its member."""

    KEEP = "keep"  # the rules, or a person's verdict, kept it (in place, or back in the folder)
    QUARANTINE = "quarantine"  # the rules sent it to the quarantine
    REVIEW = "review"  # the rules sent it to a person (the review folder)
    REJECT = "reject"  # a person's verdict sent it to the quarantine
    WITHDRAW = "withdraw"  # a person's verdict was withdrawn: the rules decide it again
    RESTORE = "restore"  # `face-clean restore` put it back where it was

    @classmethod
    def of(cls, action: Action) -> AuditAction:
        """The record's word for a decision of the rules."""
        return cls(action.value)


PERSON = "person"  # AuditRecord.decided_by of every record a person's verdict decided

# The version of the audit record's fields and words, written in every record (``schema``). A line
# without one was written before versions (face-clean 0.1.0 up to the catch-all): version 1, read
# as it is; its vocabulary is the same. Bump it when a field or an action changes meaning.
SCHEMA, UNVERSIONED = 2, 1


@dataclass(frozen=True)
class Box:
    """A face's bounding box, in pixels of the upright (EXIF-corrected) image."""

    x: int
    y: int
    w: int
    h: int

    @property
    def size(self) -> int:
        """The shorter side: what the ``face_size`` conditions and ``min_face_size`` mean."""
        return min(self.w, self.h)

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class Face:
    box: Box
    detector_confidence: float
    gender: dict[str, float] | None = None  # {"Man": p, "Woman": p}, probabilities in [0, 1]
    dominant_gender: str | None = None
    age: float | None = None
    yaw: float | None = None  # degrees turned from the camera, from the 5 landmarks (cleaner.analysis.yunet)
    sharpness: float | None = None  # Laplacian variance of the face, 64 x 64 grey (cleaner.analysis.face_crops)

    @property
    def gender_confidence(self) -> float | None:
        """Probability of the dominant gender; None when gender was not analysed."""
        return max(self.gender.values()) if self.gender else None


@dataclass(frozen=True)
class ImageAnalysis:
    """Everything the rules may look at for one file."""

    path: Path
    size: int
    sha256: str | None
    status: Status = Status.ANALYSED
    error: str | None = None
    width: int | None = None
    height: int | None = None
    faces: tuple[Face, ...] = ()
    mtime_ns: int | None = None
    notes: tuple[str, ...] = ()
    cached: bool = False  # taken from the state database, not analysed again
    near_misses: tuple[Face, ...] = ()  # detections under the detector's threshold: maybe a face (box, score)

    @property
    def readable(self) -> bool:
        return self.status is Status.ANALYSED


@dataclass(frozen=True)
class Decision:
    """What the rules want done with one file, and which rule said so."""

    action: Action
    rule: str
    reason: str | None = None  # quarantine/review subfolder
    uncertain: bool = False  # the deciding rule could not tell because a gender was uncertain
    faces_considered: int = 0  # faces left after min_face_size / min_detector_confidence


@dataclass(frozen=True)
class Outcome:
    """What an action actually did."""

    action: Action
    destination: Path | None = None
    moved: bool = False
    error: str | None = None
    notes: tuple[str, ...] = field(default=())
    record: AuditRecord | None = None  # the audit record the action wrote itself (a move's, with its journal)


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log: one file, one decision, what was done and by what. Changed with
    ``dataclasses.replace``; the order of the fields is the order of the keys in the log."""

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
    faces: list[dict[str, Any]]  # each Face as a JSON object (box, detector_confidence, gender, ...)
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
    move_id: str | None = None  # ties a move to its journal entry (cleaner.moves.journal)
    gender_model: str | None = None  # builtin, deepface or a manifest's path; None: no gender analysed
    age_model: str | None = None
    decision_key: str | None = None  # the rules and models that decided (cleaner.pipeline.job.decision_key)
    decided_by: str | None = None  # "person": a person's verdict decided (cleaner.pipeline.verdicts); None: the rules
    who: str | None = None  # who gave that verdict: the OS user, or the web page's user
    sidecars: list[str] = field(default_factory=list)  # the sidecars moved with it (cleaner.pipeline.sidecars)
    sidecar_of: str | None = None  # a sidecar's record: the photo it moved with (its path below root)
    near_misses: list[dict[str, Any]] = field(default_factory=list)  # detections under the threshold (box, score)
    schema: int = SCHEMA  # the record's version (SCHEMA above); a line without one reads as UNVERSIONED

    @classmethod
    def of(cls, values: dict[str, Any]) -> AuditRecord:
        """A record read back (the log, a journal): unknown fields dropped, missing ones empty."""
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in values.items() if k in known and (v is not None or _EMPTY.get(k) is None)}
        return cls(**{**_EMPTY, **given})

    @property
    def failed_move(self) -> bool:
        """The rules asked for a move, and it did not happen."""
        return bool(self.error) and self.action != AuditAction.KEEP and not self.moved and not self.dry_run


_EMPTY: dict[str, Any] = dict(time="", run_id="", root="", path="", size=0, sha256=None, status="", error=None)
_EMPTY.update(width=None, height=None, faces=[], faces_considered=0, cached=False, rule="", action="", reason=None)
_EMPTY.update(uncertain=False, destination=None, moved=False, dry_run=False, engine="", detector="", model_files=[])
_EMPTY.update(model_sha256=[], deepface_version="", tool_version="", notes=[], sidecars=[], near_misses=[])
_EMPTY.update(schema=UNVERSIONED)


def now() -> str:
    """The time of a record: UTC, to the millisecond."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]
