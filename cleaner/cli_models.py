"""``face-clean models``: which weight files the rules need, and fetching them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cleaner.cli import EXIT_MODELS, EXIT_OK, fail, load_rules, main, model_errors, rule_options


@main.group()
def models() -> None:
    """Model weights: which the rules need, and fetching them."""


def _needed(
    rules_file: Path | None, keep: str | None, engine: str | None, detector: str | None, min_confidence: float | None
) -> list[Any]:
    from cleaner import engine as engine_mod
    from cleaner import weights

    rs = load_rules(rules_file, keep, engine, detector, min_confidence)
    engine_mod.select(rs.engine)
    from cleaner.analyze import check_detector

    check_detector(rs.detector)  # an UnknownDetector ends as exit 2 through @model_errors
    return weights.required(rs.detector, rs.attributes)


@models.command()
@rule_options
@model_errors
def status(**options: Any) -> None:
    """List the weight files the rules need and whether each is present."""
    from cleaner import weights

    files = _needed(**options)
    click.echo(f"weights folder: {weights.weights_dir()}")
    for f in files:
        click.echo(f"  {'present' if f.present else 'MISSING'}  {f.model:<10} {f.path}")
    if not files:
        click.echo("  (these rules need no downloaded weights)")
    sys.exit(EXIT_OK if all(f.present for f in files) else EXIT_MODELS)


@models.command()
@rule_options
@model_errors
def fetch(**options: Any) -> None:
    """Download the weight files the rules need (through deepface's own download code)."""
    from cleaner import weights

    files = [f for f in _needed(**options) if not f.present]
    if not files:
        click.echo("all weights the rules need are present")
        return
    try:
        for path in weights.fetch(files):
            click.echo(f"fetched {path}")
    except Exception as err:
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        fail(f"download failed: {err}{cause}\n{weights.missing_message(files)}", EXIT_MODELS)
