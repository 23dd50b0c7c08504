"""``face-clean eval``: measure the analysis and the rules' face filters against labelled photos.

It reads and analyses, through the same cache as ``run``; it never moves a file and writes no
audit record.  The metrics are defined in cleaner.eval.evaluation, the label formats in cleaner.eval.labels.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from cleaner.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    _setup_logging,
    build_analyzer,
    fail,
    load_rules,
    main,
    model_errors,
)
from cleaner.cli.options import rule_options
from cleaner.eval import labels as labels_mod
from cleaner.eval import text as eval_report
from cleaner.eval.breakdown import Summary, extra_json, summarise
from cleaner.eval.evaluation import COLUMNS, GENDERS, MISSING, UNCERTAIN, Evaluation, Observation, rules_threshold
from cleaner.paths import STATE_DB, STATE_DIR
from cleaner.rules.model import RuleSet

log = logging.getLogger("face-clean")
EXTRA_HINT = "pip install 'face-clean[eval]'"
PNG: dict[str, Any] = {"metavar": "FILE.png", "type": click.Path(dir_okay=False, path_type=Path)}


@contextmanager
def _state(path: Path | None) -> Iterator[Any]:
    """The state database at ``path``, or a throw-away one (``--no-cache``)."""
    from cleaner.pipeline.state.db import StateDB

    with tempfile.TemporaryDirectory(prefix="face-clean-eval-") as scratch:
        with StateDB(path or Path(scratch) / STATE_DB) as state:
            yield state


def observe(
    rs: RuleSet, labels: labels_mod.LabelSet, state_path: Path | None, verbose: int
) -> tuple[list[Observation], float | None]:
    """Analyse every labelled image once, in order, answered from the cache where it can be; with
    the rate of the images analysed now (model loading left out; None if all came from the cache)."""
    from tqdm import tqdm

    present = [i for i in labels.items if os.path.lexists(i.path)]
    found: dict[Path, Observation] = {}
    with _state(state_path) as state, tqdm(total=len(present), unit="img", disable=None, dynamic_ncols=True) as bar:
        analyzer = build_analyzer(rs, state, verbose)  # loads the models: not timed
        identity = analyzer.identity.key
        started = time.perf_counter()
        analyses = analyzer.analyze_many(state.cached_many([i.path for i in present], identity))
        try:
            for item, analysis in zip(present, analyses, strict=True):
                state.remember(analysis, identity)
                found[item.path] = Observation.of(rs, item.label, analysis)
                bar.update()
        finally:
            state.commit()
        seconds = time.perf_counter() - started
    fresh = sum(not o.cached for o in found.values())
    out = [found.get(i.path) or Observation(i.path, i.label, False, MISSING) for i in labels.items]
    for o in out:
        shown = o.predicted(rules_threshold(rs)) if o.readable else f"unreadable: {o.error}"
        confidence = f" ({o.gender} {o.confidence:.2f})" if o.confidence is not None else ""
        log.info(f"{o.path}: label {o.label}, predicted {shown}{confidence}")
    return out, (fresh / seconds if fresh and seconds > 0 else None)


def _table(header: list[str], rows: list[list[str]], first: int) -> list[str]:
    width = max(10, *(len(h) + 2 for h in header[1:]))
    line = lambda cells: "  " + cells[0].ljust(first) + "".join(c.rjust(width) for c in cells[1:])  # noqa: E731
    return [line(header), *(line(r) for r in rows)]


def render(ev: Evaluation, labels: labels_mod.LabelSet, rs: RuleSet) -> str:
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


def _need_matplotlib(option: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail(f"{option} needs matplotlib: {EXTRA_HINT}", EXIT_USAGE)


def plot(ev: Evaluation, path: Path) -> None:
    """Precision, recall and the uncertain share against the threshold, as a PNG (no pyplot: no
    global state, no display needed)."""
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
    fig.savefig(path, format="png")


def _writable(path: Path | None, option: str) -> None:
    if path is not None and not path.resolve().parent.is_dir():
        fail(f"{option} {path}: its folder does not exist", EXIT_USAGE)


@main.command("eval")
@click.argument("labels_path", metavar="LABELS", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(labels_mod.FORMATS), help="Label format (default: from LABELS itself)."
)
@click.option("--path-column", default="path", show_default=True, help="CSV: the column with the image paths.")
@click.option("--label-column", default="label", show_default=True, help="CSV: the column with the labels.")
@click.option(
    "--state-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Analysis cache (default: ROOT/{STATE_DIR}/{STATE_DB}, where ROOT is the CSV's or .mat's folder, "
    "or the folder of label folders: where `run` on ROOT keeps it).",
)
@click.option("--no-cache", is_flag=True, help="Analyse everything afresh and keep no cache.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write every number here (JSON)."
)
@click.option("--plot", "plot_path", **PNG, help="Draw the threshold sweep (needs matplotlib).")
@click.option("--roc", "roc_path", **PNG, help="Draw the ROC curve of each detector and model (needs matplotlib).")
@click.option("--markdown", is_flag=True, help="Print the comparison of several models as a Markdown table.")
@click.option("-v", "--verbose", count=True, help="Print each image's label and prediction (-vv: deepface's too).")
@rule_options
@model_errors
def eval_command(
    labels_path: Path,
    fmt: str | None,
    path_column: str,
    label_column: str,
    state_db: Path | None,
    no_cache: bool,
    json_path: Path | None,
    plot_path: Path | None,
    roc_path: Path | None,
    markdown: bool,
    verbose: int,
    **rule_args: Any,
) -> None:
    """Compare predictions with the labels in LABELS (a CSV, an IMDB-WIKI .mat, or a folder
    with Man/, Woman/, none/ and mixed/ in it); print the confusion matrix, precision / recall /
    F1, a threshold sweep, ROC AUC, accuracy by face size and speed. Moves nothing.
    --detector and --gender-model may name several, comma-separated: each pair is measured and
    compared in one table.

    \b
    Exit codes: 0 done; 1 done, but some labelled images were missing or unreadable;
    2 bad usage, labels or rules; 3 model weights missing or unloadable; 130 interrupted.
    """
    from cleaner.errors import StateError

    _setup_logging(verbose, quiet=False)
    if state_db and no_cache:
        fail("--state-db and --no-cache exclude each other", EXIT_USAGE)
    # --detector and --gender-model may each name several, comma-separated: every pair is measured
    detectors = _several(rule_args.pop("detector"))
    models = _several(rule_args.pop("gender_model"))
    combos = [
        replace(rs, attributes=rs.attributes | {"gender"})  # eval always needs the gender
        for d in detectors
        for m in models
        for rs in [load_rules(**rule_args, detector=d, gender_model=m)]
    ]
    for path, option in ((plot_path, "--plot"), (roc_path, "--roc")):
        if path:
            _need_matplotlib(option)
        _writable(path, option)
    _writable(json_path, "--json")
    if markdown and len(combos) == 1:
        fail("--markdown prints the comparison of several detectors or models: name them with commas", EXIT_USAGE)
    try:
        labels = labels_mod.load(labels_path, fmt, path_column, label_column, combos[0].exclude)
    except labels_mod.LabelError as err:
        fail(str(err), EXIT_USAGE)
    cache = None if no_cache else (state_db or labels.root / STATE_DIR / STATE_DB)
    runs = []
    for rs in combos:
        try:
            observations, rate = observe(rs, labels, cache, verbose)
        except StateError as err:
            fail(f"{err}; choose another place with --state-db, or use --no-cache", EXIT_USAGE)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        ev = Evaluation(tuple(observations), rules_threshold(rs))
        model = Path(rs.gender_model).stem if os.sep in rs.gender_model else rs.gender_model
        runs.append((rs, ev, summarise(observations, ev.threshold, rs.detector, model, rate)))
    if len(runs) == 1:
        rs, ev, summary = runs[0]
        click.echo(render(ev, labels, rs) + "\n" + eval_report.extras(ev, summary.images_per_s))
    else:
        click.echo(f"{labels.source}: {len(labels.items)} labelled photos")
        click.echo(eval_report.comparison([s for _, _, s in runs], markdown))
        click.echo("(definitions: README, 'Evaluating the filter'; every number of each: --json)")
    try:
        if json_path:
            numbers: dict[str, Any] = {
                "labels": {"source": str(labels.source), "format": labels.format, "root": str(labels.root)}
            }
            numbers |= {"skipped_labels": labels.skipped, "unlabelled_files": labels.unlabelled}
            each = [_numbers(ev, s) for _, ev, s in runs]
            numbers |= each[0] if len(each) == 1 else {"comparison": [asdict(s) for _, _, s in runs], "runs": each}
            json_path.write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
        if plot_path:
            plot(runs[0][1], plot_path)
        if roc_path:
            eval_report.plot_roc([(f"{s.detector} + {s.gender_model}", ev) for _, ev, s in runs], roc_path)
    except OSError as err:
        fail(f"cannot write {err.filename}: {err.strerror}", EXIT_PARTIAL)
    sys.exit(EXIT_PARTIAL if any(ev.unreadable for _, ev, _ in runs) else EXIT_OK)


def _several(value: str | None) -> list[str | None]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else [None]


def _numbers(ev: Evaluation, summary: Summary) -> dict[str, Any]:
    return {**ev.to_json(), **extra_json(list(ev.evaluated), ev.threshold), "summary": asdict(summary)}
