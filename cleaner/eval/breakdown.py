"""``face-clean eval``'s further measures: ROC curves, accuracy by face size, group photos, and
the one-line summary that compares detectors and models.

Definitions (the README's table uses them):

* **face recall**: photos labelled Man, Woman or mixed in which at least one face was found.
* **false faces per no-face photo**: faces found on photos labelled none, divided by their number.
* **gender accuracy**: photos labelled Man or Woman whose largest face's gender is confident
  (at least the threshold) and right, out of those confident ones; the uncertain ones (sent to
  review) are counted apart, and photos where no face was found are face recall's business.
* **F1**: the mean of the F1 of Man and of Woman from the confusion matrix (there an
  uncertain or missed face counts against recall).
* **to review**: share of all evaluated photos whose largest face is uncertain.
* **ROC / AUC**: over photos labelled Man or Woman with a face, the largest face's probability
  of Man (for Woman, of Woman) as the score; with two classes the two curves mirror each other.
* **by face size**: gender accuracy restricted to photos whose largest face's shorter side is
  at least 50, 100, 128, 200 and 224 px (the sizes of the IMFDB study).
* **group photos** (labelled mixed): found both genders (each on a confident face), one only,
  none at all (no face, or only uncertain faces).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

from cleaner.eval.evaluation import GENDERS, UNCERTAIN, Confusion, Evaluation, Observation, ratio

SIZE_BUCKETS = (50, 100, 128, 200, 224)


def roc(observations: list[Observation], positive: str) -> dict[str, Any]:
    """The ROC curve (false-positive rate, true-positive rate) and its AUC for ``positive``."""
    # readable photos labelled Man or Woman with a face and a gender probability
    pairs = [
        (o.man if positive == "Man" else 1.0 - o.man, o.label == positive)
        for o in observations
        if o.readable and o.label in GENDERS and o.man is not None
    ]
    pos = sum(p for _, p in pairs)
    neg = len(pairs) - pos
    if not pos or not neg:
        return {"auc": None, "points": [], "positives": pos, "negatives": neg}
    pairs.sort(key=lambda sp: -sp[0])
    points, tp, fp, i = [(0.0, 0.0)], 0, 0, 0
    while i < len(pairs):  # one point per distinct score: ties move both rates at once
        score = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == score:
            tp += pairs[i][1]
            fp += not pairs[i][1]
            i += 1
        points.append((fp / neg, tp / pos))
    auc = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(points))
    return {"auc": auc, "points": points, "positives": pos, "negatives": neg}


@dataclass(frozen=True)
class Bucket:
    min_size: int
    photos: int  # labelled Man/Woman whose largest face is at least min_size
    uncertain: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        decided = self.photos - self.uncertain
        return self.correct / decided if decided else None


def by_face_size(observations: list[Observation], threshold: float) -> list[Bucket]:
    found = [o for o in observations if o.readable and o.label in GENDERS and o.face_size is not None]
    buckets = []
    for size in SIZE_BUCKETS:
        inside = [o for o in found if (o.face_size or 0) >= size]
        predicted = [o.predicted(threshold) for o in inside]
        buckets.append(
            Bucket(
                size,
                len(inside),
                sum(p == UNCERTAIN for p in predicted),
                sum(p == o.label for p, o in zip(predicted, inside, strict=True)),
            )
        )
    return buckets


def group_photos(observations: list[Observation], threshold: float) -> dict[str, int]:
    out = {"photos": 0, "both": 0, "Man only": 0, "Woman only": 0, "neither": 0}
    for o in observations:
        if not o.readable or o.label != "mixed":
            continue
        out["photos"] += 1
        sure = {g for g, confidence in o.genders if confidence >= threshold}
        key = "both" if sure >= set(GENDERS) else f"{next(iter(sure))} only" if sure else "neither"
        out[key] += 1
    return out


@dataclass(frozen=True)
class ComparisonRow:
    """One detector x model combination, in one line of the comparison table."""

    detector: str
    gender_model: str
    photos: int
    face_recall: float
    false_faces_per_noface: float
    gender_accuracy: float | None
    gender_uncertain: float  # share of photos labelled Man/Woman with a face that are uncertain
    f1: float
    review_share: float
    auc: float | None
    images_per_s: float | None  # None: answered from the cache, nothing to time


def summarise(
    observations: list[Observation], threshold: float, detector: str, model: str, rate: float | None
) -> ComparisonRow:
    evaluated = [o for o in observations if o.readable]
    people = [o for o in evaluated if o.label in (*GENDERS, "mixed")]
    noface = [o for o in evaluated if o.label == "none"]
    single = [o for o in evaluated if o.label in GENDERS and o.faces]
    predicted = [o.predicted(threshold) for o in single]
    uncertain = sum(p == UNCERTAIN for p in predicted)
    correct = sum(p == o.label for p, o in zip(predicted, single, strict=True))
    confusion = Confusion.of(evaluated, threshold)
    return ComparisonRow(
        detector=detector,
        gender_model=model,
        photos=len(evaluated),
        face_recall=ratio(sum(o.faces > 0 for o in people), len(people)),
        false_faces_per_noface=ratio(sum(o.faces for o in noface), len(noface)),
        gender_accuracy=ratio(correct, len(single) - uncertain) if len(single) > uncertain else None,
        gender_uncertain=ratio(uncertain, len(single)),
        f1=sum(confusion.scores(g).f1 for g in GENDERS) / len(GENDERS),
        review_share=ratio(sum(o.predicted(threshold) == UNCERTAIN for o in evaluated), len(evaluated)),
        auc=roc(observations, "Man")["auc"],
        images_per_s=rate,
    )


def extra_json(ev: Evaluation) -> dict[str, Any]:
    """The measures above, for ``--json``."""
    observations, threshold = list(ev.evaluated), ev.threshold
    return {
        "roc": {g: roc(observations, g) for g in GENDERS},
        "by_face_size": [{**asdict(b), "accuracy": b.accuracy} for b in by_face_size(observations, threshold)],
        "group_photos": group_photos(observations, threshold),
    }
