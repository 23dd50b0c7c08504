"""What ``face-clean eval`` prints: the confusion matrix, precision and recall, the threshold sweep,
then ROC AUC, accuracy by face size, group photos and speed; or the table that compares detectors
and models."""

from __future__ import annotations

from cleaner.eval.breakdown import ComparisonRow, by_face_size, group_photos, roc
from cleaner.eval.evaluation import COLUMNS, GENDERS, UNCERTAIN, Evaluation
from cleaner.eval.labels import LabelSet
from cleaner.rules.model import RuleSet


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def extras(ev: Evaluation, rate: float | None) -> str:
    obs = list(ev.evaluated)
    curves = {g: roc(obs, g) for g in GENDERS}
    man = curves["Man"]
    lines = [""]
    if man["auc"] is None:
        lines.append("ROC: needs photos labelled Man and photos labelled Woman with a face found")
    else:
        aucs = ", ".join(f"{g} {c['auc']:.3f}" for g, c in curves.items())
        lines.append(
            f"ROC AUC (score: the largest face's probability of the gender; {man['positives']} Man and "
            f"{man['negatives']} Woman photos with a face): {aucs}"
        )
    lines.append("Gender accuracy by size of the largest face (photos labelled Man or Woman; uncertain apart):")
    for b in by_face_size(obs, ev.threshold):
        decided = b.photos - b.uncertain
        lines.append(
            f"  >= {b.min_size:>3} px: {b.correct}/{decided} right = {_pct(b.accuracy)}   uncertain {b.uncertain}"
        )
    groups = group_photos(obs, ev.threshold)
    if groups["photos"]:
        lines.append(
            f"Group photos labelled mixed: {groups['photos']}; both genders found {groups['both']}, "
            f"Man only {groups['Man only']}, Woman only {groups['Woman only']}, neither {groups['neither']}"
        )
    speed = f"{rate:.1f} images/s (model loading not counted)" if rate else "all from the cache, not timed"
    lines.append(f"Speed: {speed}")
    return "\n".join(lines)


TABLE_COLUMNS = (
    "detector",
    "gender model",
    "photos",
    "face recall",
    "false faces per no-face photo",
    "gender accuracy",
    "uncertain",
    "F1",
    "to review",
    "AUC",
    "images/s",
)


def row(s: ComparisonRow) -> list[str]:
    return [
        s.detector,
        s.gender_model,
        str(s.photos),
        _pct(s.face_recall),
        f"{s.false_faces_per_noface:.2f}",
        _pct(s.gender_accuracy),
        _pct(s.gender_uncertain),
        f"{s.f1:.3f}",
        _pct(s.review_share),
        "-" if s.auc is None else f"{s.auc:.3f}",
        "cached" if s.images_per_s is None else f"{s.images_per_s:.1f}",
    ]


def comparison(summaries: list[ComparisonRow], markdown: bool = False) -> str:
    rows = [row(s) for s in summaries]
    if markdown:
        head = "| " + " | ".join(TABLE_COLUMNS) + " |"
        rule = "| " + " | ".join("---" if i < 2 else "---:" for i in range(len(TABLE_COLUMNS))) + " |"
        return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(TABLE_COLUMNS)]

    def fmt(cells: list[str] | tuple[str, ...]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([fmt(TABLE_COLUMNS), *(fmt(r) for r in rows)])


def _table(header: list[str], rows: list[list[str]], first: int) -> list[str]:
    width = max(10, *(len(h) + 2 for h in header[1:]))

    def line(cells: list[str]) -> str:
        return "  " + cells[0].ljust(first) + "".join(c.rjust(width) for c in cells[1:])

    return [line(header), *(line(r) for r in rows)]


def render(ev: Evaluation, labels: LabelSet, rs: RuleSet) -> str:
    c, counts = ev.confusion, ev.to_json()["counts"]
    missing = counts["missing"]
    lines = [
        f"{labels.source} ({labels.format}): {counts['labelled']} labelled images, {counts['evaluated']} evaluated",
        f"  analysed now: {counts['analysed_now']}   from cache: {counts['from_cache']}",
    ]
    if labels.skipped:
        lines.append(f"  {labels.skipped} entries without a gender were skipped")
    lines += [f"  {note}" for note in labels.notes]
    lines += [
        f"Prediction: the largest face's gender; uncertain under {ev.threshold:.2f} (min_gender_confidence of"
        f" {rs.source}); images with several faces: {counts['several_faces']}",
        "",
        "Confusion matrix (rows: label, columns: prediction)",
        *_table(["", *COLUMNS], [[k, *map(str, row.values())] for k, row in c.counts.items()], 8),
        "",
    ]
    report = c.report()
    rows = [[k, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", str(s.support)] for k, s in report.items()]
    rows.insert(3, ["accuracy", "", "", f"{c.accuracy:.2f}", str(c.total)])
    lines += [
        *_table(["", "precision", "recall", "f1-score", "support"], rows, 14),
        "",
        f"Missed faces (labelled Man or Woman, no face found): {c.missed}",
        f"Spurious faces (labelled none, a face found): {c.spurious}",
        f"Uncertain (a face, gender confidence under {ev.threshold:.2f}): {c.predicted(UNCERTAIN)}",
        f"Unreadable: {len(ev.unreadable)}" + (f" (missing: {missing})" if missing else ""),
        "",
        "Threshold sweep (precision, recall: mean over Man and Woman; uncertain: share of evaluated images)",
    ]
    header = ["threshold", "precision", "recall", *(f"{g} {m}" for g in GENDERS for m in "PR"), "uncertain"]
    rows = [
        [
            f"{p.threshold:.2f}" + (" <- rules" if p.threshold == round(ev.threshold, 4) else ""),
            *(f"{v:.2f}" for v in (p.precision, p.recall)),
            *(f"{v:.2f}" for g in GENDERS for v in (p.per_class[g].precision, p.per_class[g].recall)),
            f"{p.uncertain_share:.2f}",
        ]
        for p in ev.sweep()
    ]
    return "\n".join([*lines, *_table(header, rows, 14)])
