"""The options shared by several commands: those that choose and adjust the rules, and those
that say where ``run`` and ``watch`` read and write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cleaner.rules import loading as rules


def rule_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that choose and adjust the rules; shared by every command that reads them."""
    options = [
        click.option(
            "--keep",
            type=click.Choice(rules.KEEP_CHOICES),
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
        click.option("--engine", type=click.Choice(rules.ENGINES), help="deepface engine (overrides the rules)."),
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
