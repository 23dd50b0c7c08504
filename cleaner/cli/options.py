"""The options shared by several commands: those that choose and adjust the rules, and those
that say where ``run`` and ``watch`` read and write; and what they make of them (the rules, the
folder layout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cleaner.cli.exits import EXIT_USAGE, fail
from cleaner.paths import Layout
from cleaner.rules import loading
from cleaner.rules.model import ENGINES, KEEP_CHOICES, RuleSet


def rule_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that choose and adjust the rules; shared by every command that reads them."""
    options = [
        click.option(
            "--keep",
            type=click.Choice(KEEP_CHOICES),
            help="Shortcut policy: keep Man, Woman, "
            "any face, or all (analyse and record only). Images without a face are quarantined "
            "unless the rules file sets no_face.",
        ),
        click.option(
            "--rules",
            "rules_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Rules file (default: the built-in rules, a copy of rules.yaml).",
        ),
        click.option("--engine", type=click.Choice(ENGINES), help="deepface engine (overrides the rules)."),
        click.option("--detector", help="deepface face detector (overrides the rules; default yunet)."),
        click.option(
            "--gender-model",
            metavar="builtin|deepface|MANIFEST",
            help="Gender model (overrides the rules): the built-in one (default), DeepFace's, or a manifest file.",
        ),
        click.option(
            "--age-model",
            metavar="builtin|deepface|MANIFEST",
            help="Age model, used when a rule asks for age (overrides the rules; default builtin).",
        ),
        click.option(
            "--min-confidence",
            type=float,
            help="Gender confidence below which a face is 'uncertain' (0.5-1, overrides the rules).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def folder_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where the job reads and writes, and how it reports; shared by ``run`` and ``watch``."""
    options = [
        click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        click.option(
            "--quarantine",
            type=click.Path(file_okay=False, path_type=Path),
            help="Quarantine folder (default DIR/.face-clean/quarantine).",
        ),
        click.option(
            "--review-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder for images a person should look at (default DIR/.face-clean/review).",
        ),
        click.option(
            "--audit-log",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Audit log, JSON Lines (default DIR/.face-clean/audit.jsonl); the state database sits beside it.",
        ),
        click.option("--dry-run", is_flag=True, help="Decide and record what would happen; move nothing."),
        click.option("--recursive/--no-recursive", default=True, show_default=True, help="Descend into subfolders."),
        click.option("-v", "--verbose", count=True, help="Print each decision (-vv: and deepface's own messages)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary; errors only."),
    ]
    for option in reversed(options):
        f = option(f)
    return rule_options(f)


def load_rules(
    rules_file: Path | None,
    keep: str | None,
    engine: str | None = None,
    detector: str | None = None,
    min_confidence: float | None = None,
    gender_model: str | None = None,
    age_model: str | None = None,
) -> RuleSet:
    """The rules file (or the built-in rules), ``--keep`` and the command line's overrides applied;
    a RulesError names the file, the rule and the field."""
    rs = loading.load(rules_file, keep)
    return loading.with_overrides(rs, engine, detector, min_confidence, gender_model, age_model)


def open_layout(directory: Path, quarantine: Path | None, review_dir: Path | None, audit_log: Path | None) -> Layout:
    layout = Layout.for_root(directory, quarantine, review_dir, audit_log)
    for name, folder in (("--quarantine", layout.quarantine), ("--review-dir", layout.review)):
        if folder == layout.root or folder in layout.root.parents:
            fail(f"{name} {folder} would contain the folder being cleaned; choose another folder", EXIT_USAGE)
    return layout


@dataclass(frozen=True)
class FolderArgs:
    """The options ``folder_options`` adds, as one value (``run`` and ``watch`` share them)."""

    directory: Path
    keep: str | None
    rules_file: Path | None
    engine: str | None
    detector: str | None
    gender_model: str | None
    age_model: str | None
    min_confidence: float | None
    quarantine: Path | None
    review_dir: Path | None
    audit_log: Path | None
    dry_run: bool
    recursive: bool
    verbose: int
    quiet: bool

    def rules(self) -> RuleSet:
        return load_rules(
            self.rules_file,
            self.keep,
            self.engine,
            self.detector,
            self.min_confidence,
            self.gender_model,
            self.age_model,
        )

    def layout(self) -> Layout:
        return open_layout(self.directory, self.quarantine, self.review_dir, self.audit_log)
