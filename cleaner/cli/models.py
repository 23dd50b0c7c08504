"""``face-clean models``: which model files the rules need, whether each is there and intact,
and fetching the ones DeepFace downloads."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cleaner.cli import EXIT_MODELS, EXIT_OK, fail, load_rules, main, model_errors
from cleaner.cli.options import rule_options


@main.group()
def models() -> None:
    """Model files: which the rules need, whether they are intact, and fetching them."""


@dataclass(frozen=True)
class Needed:
    role: str  # "yunet detector", "gender (builtin)", ...
    path: Path
    sha256: str | None  # what it must hash to, where known
    download: Any = None  # the WeightFile DeepFace downloads it as; None: nothing to download
    bundled: bool = False  # shipped with face-clean or its dependencies

    def problem(self) -> str | None:
        from cleaner.analysis import file_check

        if not self.path.is_file():
            return "missing"
        return file_check.damage(self.path, self.sha256)


def _needed(rules_file: Path | None, keep: str | None, **overrides: Any) -> tuple[list[Needed], list[str]]:
    """What the rules need: files, and pip packages that are not installed."""
    from cleaner.analysis import builtin_models, classifiers, detectors
    from cleaner.analysis import engine as engine_mod
    from cleaner.analysis.face_analyzer import check_detector

    rs = load_rules(rules_file, keep, **overrides)
    engine_mod.select(rs.engine)
    check_detector(rs.detector)  # an UnknownDetector ends as exit 2 through @model_errors
    found = [
        Needed(f"{rs.detector} detector", f.path, None, f, f.bundled) for f in detectors.files(rs.detector, rs.engine)
    ]
    known = builtin_models.KNOWN
    choices = {"gender": rs.gender_model, "age": rs.age_model}
    for task in sorted(rs.attributes):
        c = classifiers.build(task, choices[task], rs.engine)
        if isinstance(c, classifiers.DeepFaceClassifier):
            found += [Needed(f"{task} ({c.name})", f.path, None, f) for f in c.weight_files()]
            continue
        for path, sha in c.files():
            bundled = path.name in known and path.resolve() == known[path.name].path.resolve()
            found.append(Needed(f"{task} ({c.name})", path, sha, None, bundled))
    return list(dict.fromkeys(found)), detectors.missing_packages(rs.detector, rs.engine)


@models.command()
@rule_options
@model_errors
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


@models.command()
@rule_options
@model_errors
def fetch(**options: Any) -> None:
    """Download the model files the rules need that are missing or damaged (through DeepFace's
    own download code); the built-in models come with face-clean and need no download."""
    from cleaner.analysis import weights

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
    files = [n.download for n in todo]
    try:
        for path in weights.fetch(files):
            click.echo(f"fetched {path}")
    except Exception as err:
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        fail(f"download failed: {err}{cause}\n{weights.missing_message(files)}", EXIT_MODELS)
