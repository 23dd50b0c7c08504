"""How well the analysis and the rules' face filters agree with human labels (``face-clean eval``).

Each labelled image gets one predicted label, computed the same simple way whatever the rules'
``multi_face`` policy is:

* ``none`` when no face is left after the rules' ``min_face_size`` / ``min_detector_confidence``;
* else the dominant gender of the largest of those faces (ties: the top-left one);
* ``uncertain`` when that gender's confidence is under the threshold (the rules' own
  ``min_gender_confidence``, or each value of the sweep).

Images labelled ``mixed`` (group photos with both genders) are left out of the confusion matrix
and scored apart, by the genders found among their faces (cleaner.eval.breakdown), as are the
ROC curves, the accuracy by face size and the comparison of several models.

``uncertain`` is a column of the confusion matrix, not a class: it is no one's prediction, so
it counts in no class's precision, but it is a miss in the recall of the image's label (an
uncertain photo is sent to review, not recognised).  Unreadable images are left out of every
number and counted apart.  Averages follow scikit-learn's ``classification_report``; 0/0 is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cleaner.records import ImageAnalysis
from cleaner.rules.deciding import considered_faces
from cleaner.rules.model import RuleSet

CLASSES = ("Man", "Woman", "none")
GENDERS = ("Man", "Woman")
UNCERTAIN = "uncertain"
COLUMNS = (*CLASSES, UNCERTAIN)
DEFAULT_THRESHOLD = 0.8
MISSING = "no such file (named in the labels)"
SWEEP = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)


def rules_threshold(rs: RuleSet) -> float:
    """The rules' ``min_gender_confidence``: that of the first rule that looks at gender (rules
    may each set their own), else of the first rule, else the built-in default."""
    gendered = [r for r in rs.rules if r.when.gender is not None or r.when.gender_confidence is not None]
    chosen = gendered or list(rs.rules)
    return chosen[0].min_gender_confidence if chosen else DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Observation:
    """One labelled image as the analysis saw it, before any threshold: the sweep needs no rerun."""

    path: Path
    label: str
    readable: bool
    error: str | None = None
    faces: int = 0  # faces left after the rules' face filters
    gender: str | None = None  # the largest face's dominant gender
    confidence: float | None = None
    cached: bool = False
    man: float | None = None  # the largest face's probability of Man (the ROC's score)
    face_size: int | None = None  # the largest face's shorter side, pixels
    genders: tuple[tuple[str, float], ...] = ()  # every considered face: (dominant gender, confidence)
    analysis: ImageAnalysis | None = None  # what the rules decide on (the risk-coverage table, cleaner.eval.risk)
    groups: tuple[tuple[str, str], ...] = ()  # what else the labels say of it (age, dataset)

    @classmethod
    def of(
        cls, rs: RuleSet, label: str, analysis: ImageAnalysis, groups: tuple[tuple[str, str], ...] = ()
    ) -> Observation:
        if not analysis.readable:
            reason = analysis.error or analysis.status.value
            return cls(analysis.path, label, False, reason, cached=analysis.cached)
        faces = considered_faces(rs, analysis)
        main = min(faces, key=lambda f: (-f.box.area, f.box.y, f.box.x), default=None)
        return cls(
            analysis.path,
            label,
            True,
            faces=len(faces),
            gender=main.dominant_gender if main else None,
            confidence=main.gender_confidence if main else None,
            cached=analysis.cached,
            man=main.gender.get("Man") if main and main.gender else None,
            face_size=main.box.size if main else None,
            genders=tuple(
                (f.dominant_gender, f.gender_confidence)
                for f in faces
                if f.dominant_gender is not None and f.gender_confidence is not None
            ),
            analysis=analysis,
            groups=groups,
        )

    def predicted(self, threshold: float) -> str:
        if self.faces == 0:
            return "none"
        if self.gender not in GENDERS or self.confidence is None or self.confidence < threshold:
            return UNCERTAIN
        return str(self.gender)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


@dataclass(frozen=True)
class Confusion:
    """Images per (label, prediction); rows are the classes, columns the classes and ``uncertain``."""

    counts: dict[str, dict[str, int]]

    @classmethod
    def of(cls, observations: Iterable[Observation], threshold: float) -> Confusion:
        counts = {label: dict.fromkeys(COLUMNS, 0) for label in CLASSES}
        for o in observations:
            if o.label in counts:  # mixed: scored apart
                counts[o.label][o.predicted(threshold)] += 1
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.counts.values())

    def predicted(self, column: str) -> int:
        return sum(self.counts[label][column] for label in CLASSES)

    def scores(self, label: str) -> Scores:
        support = sum(self.counts[label].values())
        p = ratio(self.counts[label][label], self.predicted(label))
        r = ratio(self.counts[label][label], support)
        return Scores(p, r, ratio(2 * p * r, p + r), support)

    @property
    def accuracy(self) -> float:
        return ratio(sum(self.counts[c][c] for c in CLASSES), self.total)

    @property
    def missed(self) -> int:
        """Labelled Man or Woman, and no face found."""
        return sum(self.counts[g]["none"] for g in GENDERS)

    @property
    def spurious(self) -> int:
        """Labelled none, and a face found (of either gender, or uncertain)."""
        return self.total_row("none") - self.counts["none"]["none"]

    def total_row(self, label: str) -> int:
        return sum(self.counts[label].values())

    def report(self) -> dict[str, Scores]:
        """Per class, then the macro (classes labelled or predicted) and the support-weighted averages."""
        per = {c: self.scores(c) for c in CLASSES}
        present = [c for c in CLASSES if per[c].support or self.predicted(c)]
        n, total = max(1, len(present)), self.total

        def macro(field: str) -> float:
            return sum(float(getattr(per[c], field)) for c in present) / n

        def weighted(field: str) -> float:
            return ratio(sum(float(getattr(s, field)) * s.support for s in per.values()), total)

        return {
            **per,
            "macro avg": Scores(macro("precision"), macro("recall"), macro("f1"), total),
            "weighted avg": Scores(weighted("precision"), weighted("recall"), weighted("f1"), total),
        }


@dataclass(frozen=True)
class SweepPoint:
    """At one threshold: precision and recall of the gender classes (macro average over Man and
    Woman: ``none`` does not depend on the threshold), and the share of all evaluated images
    that would be uncertain."""

    threshold: float
    precision: float
    recall: float
    uncertain_share: float
    per_class: dict[str, Scores]


def sweep_point(observations: list[Observation], threshold: float) -> SweepPoint:
    confusion = Confusion.of(observations, threshold)
    per = {g: confusion.scores(g) for g in GENDERS}
    return SweepPoint(
        threshold,
        sum(s.precision for s in per.values()) / len(per),
        sum(s.recall for s in per.values()) / len(per),
        ratio(confusion.predicted(UNCERTAIN), confusion.total),
        per,
    )


@dataclass(frozen=True)
class Evaluation:
    observations: tuple[Observation, ...]
    threshold: float  # the rules' min_gender_confidence

    @property
    def evaluated(self) -> list[Observation]:
        return [o for o in self.observations if o.readable]

    @property
    def unreadable(self) -> list[Observation]:
        return [o for o in self.observations if not o.readable]

    @property
    def confusion(self) -> Confusion:
        return Confusion.of(self.evaluated, self.threshold)

    def sweep(self) -> list[SweepPoint]:
        thresholds = sorted({*SWEEP, round(self.threshold, 4)})
        return [sweep_point(self.evaluated, t) for t in thresholds]

    def to_json(self) -> dict[str, Any]:
        confusion = self.confusion
        evaluated = self.evaluated
        return {
            "threshold": self.threshold,
            "classes": list(CLASSES),
            "columns": list(COLUMNS),
            "counts": {
                "labelled": len(self.observations),
                "evaluated": len(evaluated),
                "unreadable": len(self.unreadable),
                "missing": sum(o.error == MISSING for o in self.observations),
                "analysed_now": sum(not o.cached and o.error != MISSING for o in self.observations),
                "from_cache": sum(o.cached for o in self.observations),
                "several_faces": sum(o.faces > 1 for o in evaluated),
            },
            "confusion_matrix": confusion.counts,
            "report": {k: asdict(v) for k, v in confusion.report().items()},
            "accuracy": confusion.accuracy,
            "missed_faces": confusion.missed,
            "spurious_faces": confusion.spurious,
            "uncertain": confusion.predicted(UNCERTAIN),
            "sweep": [
                {
                    "threshold": p.threshold,
                    "precision": p.precision,
                    "recall": p.recall,
                    "uncertain_share": p.uncertain_share,
                    "per_class": {g: asdict(s) for g, s in p.per_class.items()},
                }
                for p in self.sweep()
            ],
            "unreadable": [{"path": str(o.path), "error": o.error} for o in self.unreadable],
            "images": [
                {
                    "path": str(o.path),
                    "label": o.label,
                    "prediction": o.predicted(self.threshold) if o.readable else None,
                    "faces": o.faces,
                    "gender": o.gender,
                    "confidence": o.confidence,
                }
                for o in self.observations
            ],
        }
