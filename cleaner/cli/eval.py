"""``face-clean eval``: measure the analysis and the rules' face filters against labelled photos.

It reads and analyses, through the same cache as ``run``; it never moves a file and writes no
audit record. The measuring is cleaner.eval's; this is the options and the printing.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from cleaner.cli import logs
from cleaner.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail
from cleaner.cli.help import INTERRUPTED, MODELS, OK, USAGE, epilog
from cleaner.cli.options import load_rules, rule_options, rules_for
from cleaner.errors import StateError
from cleaner.eval import labels as labels_mod
from cleaner.fs.names import shown
from cleaner.fs.safefs import write_atomically
from cleaner.paths import STATE_DB, STATE_DIR

EXTRA_HINT = "pip install 'face-clean[eval]'"
PNG: dict[str, Any] = {"metavar": "FILE.png", "type": click.Path(dir_okay=False, path_type=Path)}


def _need_matplotlib(option: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail(f"{option} needs matplotlib: {EXTRA_HINT}", EXIT_USAGE)


def _writable(path: Path | None, option: str) -> None:
    if path is not None and not path.resolve().parent.is_dir():
        fail(f"{option} {path}: its folder does not exist", EXIT_USAGE)


EXAMPLES = (
    "face-clean eval labels.csv                     # path,label rows; labels Man, Woman or none",
    "face-clean eval dataset/                       # dataset/Man/..., dataset/Woman/..., dataset/none/...",
    "face-clean eval labels.csv --rules rules.yaml --json eval.json --plot sweep.png",
    "face-clean eval labels.csv --detector yunet,opencv --gender-model builtin,deepface --markdown",
)


@click.command(
    "eval",
    epilog=epilog(EXAMPLES, (OK, (1, "a labelled image was missing or unreadable"), USAGE, MODELS, INTERRUPTED)),
)
@click.argument("labels_path", metavar="LABELS", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*labels_mod.FORMATS, "verdicts"]),
    help="Label format (default: from LABELS itself); verdicts: a photo folder, a person's verdicts as labels.",
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
    """
    from cleaner.eval import plots, risk, text
    from cleaner.eval.observe import measure, numbers

    logs.setup(verbose, quiet=False)
    if state_db and no_cache:
        fail("--state-db and --no-cache exclude each other", EXIT_USAGE)
    # --detector and --gender-model may each name several, comma-separated: every pair is measured
    if fmt == "verdicts":
        _verdicts(labels_path, rule_args, verbose)
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
    labels = labels_mod.load(labels_path, fmt, path_column, label_column, combos[0].exclude)  # LabelError: exit 2
    cache = None if no_cache else (state_db or labels.root / STATE_DIR / STATE_DB)
    runs = []
    for rs in combos:
        try:
            runs.append(measure(rs, labels, cache, verbose))
        except StateError as err:
            fail(f"{err}; choose another place with --state-db, or use --no-cache", EXIT_USAGE)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
    if len(runs) == 1:
        (one,) = runs
        ev, rate = one.evaluation, one.row.images_per_s
        click.echo(text.render(ev, labels, one.rules) + "\n" + text.extras(ev, rate))
        risks = risk.of_evaluation(one.rules, ev)
        click.echo("\n" + risk.render(risks) + "\n" + risk.render_groups(risks, ev.threshold))
    else:
        click.echo(f"{labels.source}: {len(labels.items)} labelled photos")
        click.echo(text.comparison([m.row for m in runs], markdown))
        click.echo("(definitions: README, 'Evaluating the filter'; every number of each: --json)")
    curves = [(f"{m.row.detector} + {m.row.gender_model}", m.evaluation) for m in runs]
    first_risks = risk.of_evaluation(runs[0].rules, runs[0].evaluation) if plot_path or roc_path else None

    def write_json(path: Path) -> None:
        write_atomically(path, (json.dumps(numbers(labels, runs), indent=2) + "\n").encode(), chosen=True)

    def plot_sweep(path: Path) -> None:
        plots.plot(runs[0].evaluation, path, first_risks)

    def plot_roc(path: Path) -> None:
        plots.plot_roc(curves, path, first_risks)

    for path, write in ((json_path, write_json), (plot_path, plot_sweep), (roc_path, plot_roc)):
        try:
            if path is not None:
                write(path)
        except OSError as err:
            fail(f"cannot write {path}: {err.strerror or err}", EXIT_PARTIAL)
    sys.exit(EXIT_PARTIAL if any(m.evaluation.unreadable for m in runs) else EXIT_OK)


def _verdicts(folder: Path, rule_args: dict[str, Any], verbose: int) -> NoReturn:
    """The rules against the person's verdicts on the photos of ``folder`` (cleaner.eval.verdicts): the
    rules and threshold in force for the folder (remembered for it by run or watch, unless given here)."""
    from cleaner.eval.verdicts import compare, render
    from cleaner.paths import Layout
    from cleaner.settings.resolve import resolve

    if not folder.is_dir():
        fail(f"--format verdicts: {folder} is not a photo folder", EXIT_USAGE)
    settings = resolve(folder, rule_args)
    rs = rules_for(settings)
    rs = replace(rs, attributes=rs.attributes | {"gender"})
    thresholds = sorted({r.min_gender_confidence for r in rs.rules})
    origin = settings.values["min_confidence"].origin if settings["min_confidence"] is not None else "the rules"
    policy = f"--keep {settings['keep']}" if settings["keep"] else settings["rules"] or "the built-in rules"
    used = ", ".join(f"{t:g}" for t in thresholds)
    compared, missing = compare(rs, Layout.for_root(folder), verbose)
    click.echo(render(compared, missing))
    click.echo(shown(f"rules: {policy}; gender threshold {used} (from {origin})"))
    sys.exit(EXIT_OK)


def _several(value: str | None) -> list[str | None]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else [None]
