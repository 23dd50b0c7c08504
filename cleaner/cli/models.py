"""``face-clean models``: which model files the rules need, whether each is there and intact,
and fetching the ones DeepFace downloads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cleaner.cli.exits import EXIT_MODELS, EXIT_OK, fail
from cleaner.cli.help import MODELS, OK, USAGE, epilog
from cleaner.cli.options import load_rules, rule_options

if TYPE_CHECKING:  # imported when the command runs (deepface)
    from cleaner.analysis.inventory import Needed


@click.group(
    epilog=epilog(
        ("face-clean models status --keep Man", "face-clean models fetch --gender-model deepface"), (OK, USAGE, MODELS)
    )
)
def models() -> None:
    """Model files: which the rules need, whether they are intact, and fetching them."""


def _needed(rules_file: Path | None, keep: str | None, **overrides: Any) -> tuple[list[Needed], list[str]]:
    """What the rules need: files, and pip packages that are not installed."""
    from cleaner.analysis.inventory import needed

    rs = load_rules(rules_file, keep, **overrides)
    return needed(rs.detector, rs.engine, rs.attributes, {"gender": rs.gender_model, "age": rs.age_model})


@models.command(
    epilog=epilog(
        (
            "face-clean models status                         # what the default rules need",
            "face-clean models status --rules /config/rules.yaml --gender-model deepface",
        ),
        (OK, USAGE, (3, "a model file the rules need is missing or damaged, or a package is not installed")),
    )
)
@rule_options
def status(**options: Any) -> None:
    """List the model files the rules need, and check each: present, right size and checksum."""
    from cleaner.analysis import weights

    found, packages = _needed(**options)
    click.echo(f"weights folder: {weights.weights_dir()}")
    bad = 0
    for n in found:
        problem = n.problem()
        bad += problem is not None
        state = "present" if problem is None else "MISSING" if problem == "missing" else "DAMAGED"
        where = " (comes with face-clean)" if n.bundled and problem is None else ""
        click.echo(f"  {state:<8} {n.role:<22} {n.path}{where}")
        if problem not in (None, "missing"):
            click.echo(f"           it {problem}")
    for package in packages:
        bad += 1
        click.echo(f"  MISSING  Python package {package} (pip install {package})")
    if not found and not packages:
        click.echo("  (these rules need no model files)")
    sys.exit(EXIT_OK if not bad else EXIT_MODELS)


@models.command(
    epilog=epilog(
        (
            "face-clean models fetch --gender-model deepface  # DeepFace's VGG-Face gender weights (537 MB)",
            "face-clean models fetch --detector retinaface",
        ),
        (OK, USAGE, (3, "a download failed, or a detector's package is not installed")),
    )
)
@rule_options
def fetch(**options: Any) -> None:
    """Download the model files the rules need that are missing or damaged (through DeepFace's
    own download code); the built-in models come with face-clean and need no download."""
    from cleaner.analysis import downloads, weights

    found, packages = _needed(**options)
    if packages:
        fail(
            f"the detector needs Python packages that are not installed: pip install {' '.join(packages)}", EXIT_MODELS
        )
    todo = [n for n in found if n.problem() is not None]
    cannot = [n for n in todo if n.download is None]
    if cannot:
        fail("\n".join(f"{n.role}: {n.path} is {n.problem()} and cannot be downloaded" for n in cannot), EXIT_MODELS)
    if not todo:
        click.echo("all weights the rules need are present")
        return
    for n in todo:
        if n.path.is_file():  # damaged: keep it aside (it is not a photo, but never destroy a file)
            aside = n.path.with_name(n.path.name + ".damaged")
            n.path.replace(aside)
            click.echo(f"moved the damaged {n.path} to {aside}")
    files = [n.download for n in todo if n.download is not None]  # (cannot: refused above)
    try:
        for path in downloads.fetch(files):
            click.echo(f"fetched {path}")
    except Exception as err:
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        fail(f"download failed: {err}{cause}\n{weights.missing_message(files)}", EXIT_MODELS)
