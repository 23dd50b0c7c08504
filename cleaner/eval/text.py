"""What ``face-clean eval`` prints beyond the confusion matrix: ROC AUC, accuracy by face size,
group photos, speed, the table that compares detectors and models, and the ROC plot."""

from __future__ import annotations

from pathlib import Path

from cleaner.eval.breakdown import Summary, by_face_size, group_photos, roc
from cleaner.eval.evaluation import GENDERS, Evaluation


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


COLUMNS = (
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


def row(s: Summary) -> list[str]:
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


def comparison(summaries: list[Summary], markdown: bool = False) -> str:
    rows = [row(s) for s in summaries]
    if markdown:
        head = "| " + " | ".join(COLUMNS) + " |"
        rule = "| " + " | ".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + " |"
        return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]

    def fmt(cells: list[str] | tuple[str, ...]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([fmt(COLUMNS), *(fmt(r) for r in rows)])


def plot_roc(evaluations: list[tuple[str, Evaluation]], path: Path) -> None:
    """The ROC curve of Man for each combination, as a PNG (Woman's mirrors it)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for name, ev in evaluations:
        curve = roc(list(ev.evaluated), "Man")
        if curve["auc"] is None:
            continue
        xs, ys = zip(*curve["points"], strict=True)
        ax.plot(xs, ys, drawstyle="steps-post", label=f"{name} (AUC {curve['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="false-positive rate (Woman taken for Man)")
    ax.set(ylabel="true-positive rate (Man recognised)", title="face-clean eval: ROC, Man vs Woman")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.savefig(path, format="png")
