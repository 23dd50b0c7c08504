"""``face-clean eval --plot`` and ``--roc``: PNGs drawn with matplotlib's object interface (no pyplot:
no global state, no display needed). Needs the ``eval`` extra."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cleaner.eval.breakdown import roc
from cleaner.eval.evaluation import Evaluation
from cleaner.fs.safefs import write_atomically


def plot(ev: Evaluation, path: Path) -> None:
    """Precision, recall and the uncertain share against the threshold, as a PNG."""
    from matplotlib.figure import Figure

    points = ev.sweep()
    x = [p.threshold for p in points]
    fig = Figure(figsize=(7, 5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x, [p.precision for p in points], marker="o", label="precision (mean of Man, Woman)")
    ax.plot(x, [p.recall for p in points], marker="s", label="recall (mean of Man, Woman)")
    ax.plot(x, [p.uncertain_share for p in points], marker="^", linestyle="--", label="share uncertain")
    ax.axvline(ev.threshold, color="grey", linestyle=":", label=f"rules' threshold {ev.threshold:.2f}")
    ax.set(xlim=(0.49, 1.0), ylim=(-0.02, 1.02), xlabel="minimum gender confidence", ylabel="share")
    ax.set_title(f"face-clean eval: {len(ev.evaluated)} images evaluated")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    _save(fig, path)


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
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_atomically(path, buf.getvalue(), chosen=True)
