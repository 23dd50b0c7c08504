"""The typed rule model the decider runs on; produced by cleaner.rules from a YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field

from cleaner.records import Action

ENGINES = ("onnx", "tensorflow")
POLICIES = ("any", "all", "largest", "majority")
GENDERS = ("Man", "Woman")
KEEP_CHOICES = ("Man", "Woman", "face", "all")


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


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    default_action: Action = Action.KEEP
    default_reason: str | None = None
    engine: str = "onnx"
    detector: str = "yunet"
    gender_model: str = "builtin"  # builtin, deepface, or a manifest's path (cleaner.model_choice)
    age_model: str = "builtin"
    min_face_size: int = 0
    min_detector_confidence: float = 0.0
    max_pixels: int = 200_000_000
    detect_size: int = 800  # longest side of the copy the detector sees; 0 = full resolution
    memory_budget: int = 384  # MB one image may take to read and decode (cleaner.decode.DEFAULT_BUDGET)
    exclude: tuple[str, ...] = ("@eaDir", "#recycle", ".*")
    attributes: frozenset[str] = field(default_factory=lambda: frozenset({"gender"}))
    source: str = "<built-in>"

    @property
    def moves_files(self) -> bool:
        uncertain = {r.on_uncertain for r in self.rules if r.when.gender is not None}
        actions = {r.action for r in self.rules} | uncertain | {self.default_action}
        return actions != {Action.KEEP}
