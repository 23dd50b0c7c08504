"""The options shared by several commands: those that choose and adjust the rules, and those
that say where ``run`` and ``watch`` read and write; and what they make of them with the settings
remembered for the folder and the config files (cleaner.settings): the rules, the folder layout."""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from cleaner.cli.exits import EXIT_USAGE, fail
from cleaner.fs.names import shown
from cleaner.fs.safefs import within
from cleaner.paths import Layout
from cleaner.rules import loading
from cleaner.rules.model import ENGINES, KEEP_CHOICES, RuleSet, keep_choice
from cleaner.settings.names import SETTINGS, option
from cleaner.settings.resolve import Settings, resolve

log = logging.getLogger("face-clean")

NO_POLICY = """no policy: say what to keep with --keep or --rules; nothing was moved.
  --keep Man      keep photos with a man in them; quarantine those without a face, or with only women
  --keep Woman    keep photos with a woman in them; quarantine the rest
  --keep face     keep photos with any face; quarantine those without one
  --keep all      keep everything: analyse and record only
  --rules FILE    your own rules (rules.yaml documents them; `face-clean check --rules FILE` shows how they read)
Try it first with --dry-run: nothing moves, and the audit log says what would.
(A policy given to run or watch is remembered for the folder; a config file can hold one: face-clean config.)"""


class KeepType(click.ParamType[str]):
    """``--keep``: Man, Woman, face or all, in any case, singular or plural (men, women, faces, male...)."""

    name = "policy"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(KEEP_CHOICES) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        chosen = keep_choice(str(value))
        if chosen is None:
            self.fail(f"{value!r} is not a policy: choose one of {', '.join(KEEP_CHOICES)} (men, women, faces... too)")
        return chosen


def one_keep(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """``--keep`` once: two policies cannot both hold, and the last one winning silently moved photos."""
    chosen = list(dict.fromkeys(values))
    if len(chosen) > 1:
        raise click.BadParameter(
            f"given {len(values)} times ({', '.join(chosen)}); give one policy. --keep face keeps every photo "
            "with a face; for anything finer, write rules (--rules FILE)",
            ctx,
            param,
        )
    return chosen[0] if chosen else None


def keep_option(help_text: str) -> Callable[..., Any]:
    return click.option("--keep", type=KeepType(), multiple=True, callback=one_keep, help=help_text)


def rule_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that choose and adjust the rules; shared by every command that reads them."""
    options = [
        keep_option(
            "The policy: keep photos with a man, a woman, any face, or all (analyse and record only). Images "
            "without a face are quarantined unless the rules file sets no_face. Case-insensitive; plurals work."
        ),
        click.option(
            "--rules",
            "rules_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Rules file (rules.yaml documents them). With --keep, its settings apply and --keep's rules "
            "replace its own.",
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
    for o in reversed(options):
        f = o(f)
    return f


def location_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where files went and the log is: remembered for the folder after run or watch."""
    options = [
        click.option(
            "--quarantine",
            type=click.Path(file_okay=False, path_type=Path),
            help="Quarantine folder, outside DIR (default DIR/.face-clean/quarantine; remembered).",
        ),
        click.option(
            "--review-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder for images a person should look at, outside DIR (default DIR/.face-clean/review; remembered).",
        ),
        click.option(
            "--audit-log",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Audit log, JSON Lines (default DIR/.face-clean/audit.jsonl; remembered); the state database "
            "sits beside it.",
        ),
    ]
    for o in reversed(options):
        f = o(f)
    return f


def folder_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where the job reads and writes, and how it reports; shared by ``run`` and ``watch``."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        location_options,
        click.option("--dry-run", is_flag=True, help="Decide and record what would happen; move nothing."),
        click.option("--recursive/--no-recursive", default=True, show_default=True, help="Descend into subfolders."),
        click.option("-v", "--verbose", count=True, help="Print each file's outcome (-vv: and deepface's messages)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary; problems only."),
    ]
    for o in reversed(options):
        f = o(f)
    return rule_options(f)


def rules_for(s: Settings, require_policy: bool = False) -> RuleSet:
    """The rules the settings name (the built-in rules when none), ``--keep`` and the overrides applied;
    ``require_policy``: without --keep or --rules nothing may move, so the command stops (exit 2)."""
    if require_policy and not s.has_policy:
        fail(NO_POLICY, EXIT_USAGE)
    rs = loading.load(s.path("rules"), s["keep"])
    return loading.with_overrides(
        rs, s["engine"], s["detector"], s["min_confidence"], s["gender_model"], s["age_model"]
    )


def load_rules(rules_file: Path | None, keep: str | None, **overrides: Any) -> RuleSet:
    """The rules of commands that work without a folder (check, models, eval), with the config files'
    settings below the command line's."""
    return rules_for(resolve(None, {"rules_file": rules_file, "keep": keep, **overrides}))


def open_layout(directory: Path, quarantine: Path | None, review_dir: Path | None, audit_log: Path | None) -> Layout:
    layout = Layout.for_root(directory, quarantine, review_dir, audit_log)
    for name, folder in (("--quarantine", layout.quarantine), ("--review-dir", layout.review)):
        if folder == layout.root or folder in layout.root.parents:
            fail(f"{name} {folder} would contain the folder being cleaned; choose another folder", EXIT_USAGE)
    return layout


def layout_for(directory: Path, s: Settings, writing: bool = False) -> Layout:
    """The folder layout the settings give. ``writing`` (run, watch): a quarantine or review folder inside
    DIR is refused, and the folders inside DIR that files were moved to before are never scanned."""
    layout = open_layout(directory, s.path("quarantine"), s.path("review_dir"), s.path("audit_log"))
    if not writing:
        return layout
    for name, folder in (("quarantine", layout.quarantine), ("review_dir", layout.review)):
        if within(folder, layout.root) and not within(folder, layout.state_dir):
            fail(
                shown(
                    f"{option(name)} {folder} ({s.values[name].origin}) is inside {layout.root}, the folder being "
                    f"cleaned: its files would be among the photos, and a later run without it would scan it. "
                    f"Choose a folder outside {layout.root}, or leave {option(name)} out "
                    f"({layout.state_dir}/ holds everything by default)"
                ),
                EXIT_USAGE,
            )
    from cleaner.settings.history import moved_to

    before = s.remembered.moved_to if s.remembered is not None else moved_to(layout.audit_log, layout.root)
    inside = [Path(p) for p in before if within(p, layout.root) and os.path.realpath(p) != str(layout.root)]
    earlier = tuple(p for p in inside if p not in layout.own_paths)  # never DIR itself: it would hide every file
    return replace(layout, earlier=earlier)


def remembered_layout(
    directory: Path, quarantine: Path | None, review_dir: Path | None, audit_log: Path | None, tell: bool = True
) -> Layout:
    """The layout of a command that reads what run moved (restore, report, serve, verdict): the folders and
    log given, else those remembered for DIR; ``tell``: say which came from memory and which were changed."""
    from cleaner.settings.names import LOCATIONS

    settings = resolve(directory, {"quarantine": quarantine, "review_dir": review_dir, "audit_log": audit_log})
    if tell:
        tell_settings(settings, remembering=False, names=LOCATIONS)
    return layout_for(directory, settings)


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

    def settings(self) -> Settings:
        return resolve(self.directory, vars(self))


def tell_settings(s: Settings, remembering: bool, names: tuple[str, ...] = SETTINGS) -> None:
    """Say which settings (of ``names``) came from the folder's memory, and which the command line changed."""
    used = {k: v for k, v in s.from_memory().items() if k in names and v is not None}
    if used:
        given = ", ".join(f"{option(k)} {v}" for k, v in used.items())
        where = shlex.quote(str(s.root)) if s.root is not None else "DIR"
        text = f"face-clean: remembered for this folder: {given} (`face-clean config {where}` shows every setting)"
        click.echo(shown(text), err=True)
    for name, now, before in s.changed():
        if name not in names:
            continue
        after = "and remembered from now on" if remembering else "this time"
        click.echo(shown(f"face-clean: {now} instead of the remembered {before}, {after}"), err=True)
        if name == "quarantine" and remembering:
            old = before.removeprefix("--quarantine ")
            back = f"`face-clean restore DIR --quarantine {old}` brings them back"
            click.echo(shown(f"  files moved before stay in {old}: {back}"), err=True)
    for note in s.shadowed:
        log.warning("%s", note)


def remembered_now(s: Settings, layout: Layout, run_id: str, command: str, dry_run: bool) -> None:
    """After a run or watch has started: remember what its command line gave, and where files go (not
    after a dry run, which writes nothing but its audit log)."""
    from cleaner.records import now
    from cleaner.settings.remembered import remember

    if dry_run:
        return
    when = f"{command} {run_id}, {now()[:16].replace('T', ' ')} UTC"
    earlier = () if s.remembered is not None else layout.earlier
    try:
        remember(layout.root, s.to_remember(), when, (*earlier, layout.quarantine, layout.review))
    except OSError as err:  # UnsafePath too: the run goes on; the options must be given again next time
        log.warning("cannot remember the options for %s: %s", layout.root, err)
