"""Typed records that cross module boundaries: analysis in, decisions and outcomes out.

They hold plain Python values only (no numpy scalars), so every one of them can be written
to JSON as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class Status(str, Enum):
    """How far the analysis of a file got."""

    ANALYSED = "analysed"
    UNREADABLE = "unreadable"  # not an image, corrupt, truncated, empty, too large, no access
    SKIPPED = "skipped"  # never looked inside (a symbolic link, say)
    ERROR = "error"  # the image decoded but the model failed on it


class Action(str, Enum):
    KEEP = "keep"
    QUARANTINE = "quarantine"
    REVIEW = "review"


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
