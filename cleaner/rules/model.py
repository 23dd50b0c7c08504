"""The typed rule model the decider runs on; produced by cleaner.rules.loading from a YAML file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from cleaner.paths import DEFAULT_EXCLUDE
from cleaner.records import Action

ENGINES = ("onnx", "tensorflow")
POLICIES = ("any", "all", "largest", "majority")
GENDERS = ("Man", "Woman")
KEEP_CHOICES = ("Man", "Woman", "face", "all")
# --keep's spellings, in any case: singular, plural, male/female (as eval's labels)
KEEP_ALIASES = {
    **dict.fromkeys(("man", "men", "male", "males"), "Man"),
    **dict.fromkeys(("woman", "women", "female", "females"), "Woman"),
    **dict.fromkeys(("face", "faces"), "face"),
    **dict.fromkeys(("all", "everything"), "all"),
}


def keep_choice(text: str) -> str | None:
    """``--keep``'s policy for a spelling of it (``men`` -> ``Man``), or None."""
    return KEEP_ALIASES.get(" ".join(text.split()).lower())


@dataclass(frozen=True)
class Range:
    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        if self.min is not None and self.min == self.max:
            return f"= {self.min:g}"
        parts = [f">= {self.min:g}" if self.min is not None else "", f"<= {self.max:g}" if self.max is not None else ""]
        return " and ".join(p for p in parts if p)


@dataclass(frozen=True)
class Condition:
    """All of these must hold for a rule to match; None means "not asked"."""

    faces: Range | None = None
    gender: str | None = None
    gender_confidence: Range | None = None
    face_size: Range | None = None
    detector_confidence: Range | None = None
    age: Range | None = None
    unreadable: bool | None = None

    @property
    def per_face(self) -> bool:
        """True when the rule looks at individual faces, so a multi-face policy applies."""
        fields = (self.gender, self.gender_confidence, self.face_size, self.detector_confidence, self.age)
        return any(f is not None for f in fields)


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    action: Action
    reason: str | None
    multi_face: str
    min_gender_confidence: float
    on_uncertain: Action
    uncertain_reason: str | None


# The reasons a photo goes to review because what would decide it is too weak to judge
NEAR_MISS, SMALL_FACE, BLURRED, TURNED, CHILD = "near-miss", "small-face", "blurred", "turned", "child"
CANNOT_TELL_REASONS = (NEAR_MISS, SMALL_FACE, BLURRED, TURNED, CHILD)


@dataclass(frozen=True)
class CannotTell:
    """When the evidence is too weak to judge (cleaner.rules.doubts); 0 / False turns a check off."""

    near_miss: bool = True  # a near miss, counted as a face of unknown gender, would change the decision -> review
    small_faces: int = 24  # faces from this size to min_face_size that would change the decision -> review
    min_sharpness: float = 0.0  # a face less sharp than this gets no gender decision (blurred)
    max_yaw: float = 90.0  # a face turned further than this (degrees) gets no gender decision (turned)
    child_age: float = 13.0  # a face the age model puts under this age gets no gender decision (child)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    default_action: Action = Action.KEEP
    default_reason: str | None = None
    engine: str = "onnx"
    detector: str = "yunet"
    gender_model: str = "builtin"  # builtin, deepface, or a manifest's path (cleaner.rules.model_choice)
    age_model: str = "builtin"
    min_face_size: int = 40
    min_detector_confidence: float = 0.0
    max_pixels: int = 200_000_000
    detect_size: int = 800  # longest side of the copy the detector sees; 0 = full resolution
    memory_budget: int = 384  # MB one image may take to read and decode (cleaner.analysis.decode.DEFAULT_BUDGET)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    include: tuple[str, ...] = ()  # when given, only files that match one of these are scanned
    attributes: frozenset[str] = field(default_factory=lambda: frozenset({"gender"}))
    cannot_tell: CannotTell = CannotTell()
    source: str = "<built-in>"

    @property
    def moves_files(self) -> bool:
        uncertain = {r.on_uncertain for r in self.rules if r.when.gender is not None}
        actions = {r.action for r in self.rules} | uncertain | {self.default_action}
        return actions != {Action.KEEP}


# Not part of what decides a file: where the rules were read from, and which names are scanned.
NOT_DECIDING = ("source", "exclude", "include")


def canonical(rs: RuleSet) -> str:
    """What in the rules decides a file, as text that is the same in every process: JSON with
    sorted keys, sets as sorted lists.  (``repr`` of a frozenset depends on PYTHONHASHSEED, and
    the rules file's path is no part of a decision.)"""

    def plain(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, (set, frozenset)):
            return sorted(plain(v) for v in value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    fields = {k: v for k, v in asdict(rs).items() if k not in NOT_DECIDING}
    return json.dumps(plain(fields), sort_keys=True, separators=(",", ":"), allow_nan=False)
