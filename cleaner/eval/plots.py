"""``face-clean eval --plot`` and ``--roc``: PNGs drawn with matplotlib's object interface (no pyplot:
no global state, no display needed). Needs the ``eval`` extra."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cleaner.eval.breakdown import roc
from cleaner.eval.evaluation import Evaluation
from cleaner.eval.risk import POLICIES, Point
from cleaner.fs.safefs import write_atomically


def plot(ev: Evaluation, path: Path, risks: list[Point] | None = None) -> None:
    """Precision, recall and the uncertain share against the threshold, and beside it the
    risk-coverage curve of each policy (cleaner.eval.risk), as a PNG."""
    from matplotlib.figure import Figure

    points = ev.sweep()
    x = [p.threshold for p in points]
    fig = Figure(figsize=(13 if risks else 7, 5), dpi=100, layout="constrained")
    ax = fig.add_subplot(1, 2 if risks else 1, 1)
    if risks:
        risk_curve(fig.add_subplot(1, 2, 2), risks)
    ax.plot(x, [p.precision for p in points], marker="o", label="precision (mean of Man, Woman)")
    ax.plot(x, [p.recall for p in points], marker="s", label="recall (mean of Man, Woman)")
    ax.plot(x, [p.uncertain_share for p in points], marker="^", linestyle="--", label="share uncertain")
    ax.axvline(ev.threshold, color="grey", linestyle=":", label=f"rules' threshold {ev.threshold:.2f}")
    ax.set(xlim=(0.49, 1.0), ylim=(-0.02, 1.02), xlabel="minimum gender confidence", ylabel="share")
    ax.set_title(f"face-clean eval: {len(ev.evaluated)} images evaluated")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    _save(fig, path)


def risk_curve(ax: Any, risks: list[Point]) -> None:
    """Share silently misplaced against share sent to review, one point per threshold, per policy."""
    for policy in POLICIES:
        line = sorted((p for p in risks if p.policy == policy and p.group == "all"), key=lambda p: p.threshold)
        ax.plot([p.review_share for p in line], [p.misplaced_share for p in line], marker="o", label=f"--keep {policy}")
        for p in line:
            ax.annotate(f"{p.threshold:.2f}", (p.review_share, p.misplaced_share), fontsize="x-small")
    ax.set(xlabel="share sent to review", ylabel="share silently misplaced", title="risk and coverage")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def plot_roc(evaluations: list[tuple[str, Evaluation]], path: Path, risks: list[Point] | None = None) -> None:
    """The ROC curve of Man for each combination, and the first one's risk-coverage curve, as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12 if risks else 6, 6), dpi=100, layout="constrained")
    ax = fig.add_subplot(1, 2 if risks else 1, 1)
    if risks:
        risk_curve(fig.add_subplot(1, 2, 2), risks)
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
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_atomically(path, buf.getvalue(), chosen=True)
