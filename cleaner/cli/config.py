"""``face-clean config``: each setting in force and where it comes from, and every ``FACE_CLEAN_*``
variable with its origin (cleaner.environment); the config files, opened in an editor; forgetting
what a folder remembers (cleaner.settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cleaner import environment
from cleaner.cli import logs
from cleaner.cli.exits import EXIT_USAGE, fail
from cleaner.cli.help import OK, USAGE, epilog
from cleaner.cli.options import location_options, rule_options
from cleaner.errors import RulesError
from cleaner.fs.names import shown
from cleaner.fs.safefs import PRIVATE, open_folder
from cleaner.fs.yaml_fields import load_yaml, read_text
from cleaner.paths import REMEMBERED, Layout
from cleaner.rules import loading, model_choice
from cleaner.settings import config_files
from cleaner.settings.names import SETTINGS
from cleaner.settings.resolve import Settings, resolve

ORDER = (
    "command line > remembered for the folder > the folder's config.yaml > $FACE_CLEAN_CONFIG > "
    "~/.config/face-clean/config.yaml > rules file > FACE_CLEAN_DETECTOR/_GENDER_MODEL/_AGE_MODEL > built-in"
)
TEMPLATE = """\
# face-clean config: defaults for the command line's options, for every folder this file applies to.
# The first source that sets an option wins: {order}.
# `face-clean config [DIR]` shows every setting in force and where it comes from. Paths are relative
# to this file's folder.
# keep: Man                       # the policy: Man | Woman | face | all (or rules: below)
# rules: rules.yaml               # your rules file (rules.yaml in face-clean's repository documents them)
# quarantine: /srv/quarantine     # where rejects go (outside the photo folder)
# review_dir: /srv/quarantine/review
# audit_log: /srv/face-clean/audit.jsonl
# detector: yunet
# gender_model: builtin           # builtin | deepface | path/to/manifest.yaml
# age_model: builtin
# engine: onnx
# min_confidence: 0.8
"""
EXAMPLES = (
    "face-clean config ./photos          # every setting for ./photos, and where it comes from",
    "face-clean config                   # the settings of the config files alone",
    "face-clean config ./photos --keep Woman   # what a run with --keep Woman would use",
    "face-clean config --edit            # open ~/.config/face-clean/config.yaml in $EDITOR",
    "face-clean config ./photos --edit   # open ./photos/.face-clean/config.yaml, the folder's own",
    "face-clean config ./photos --forget # forget the options remembered for ./photos",
)
RULE_KEYS = {"engine": "engine", "detector": "detector", "gender_model": "gender_model", "age_model": "age_model"}
RULE_KEYS["min_confidence"] = "min_gender_confidence"
ENV = {"detector": model_choice.ENV["detector"], "gender_model": model_choice.ENV["gender"]}
ENV["age_model"] = model_choice.ENV["age"]


@click.command(epilog=epilog(EXAMPLES, (OK, USAGE)))
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@rule_options
@location_options
@click.option("--path", "show_paths", is_flag=True, help="Only list the config files looked for, and which exist.")
@click.option("--edit", is_flag=True, help="Open the config file in $EDITOR (made from a template if missing).")
@click.option("--forget", is_flag=True, help="Forget the options remembered for DIRECTORY.")
def config(directory: Path | None, show_paths: bool, edit: bool, forget: bool, **options: Any) -> None:
    """Show each setting in force (for DIRECTORY, if given) and where it comes from, and every
    FACE_CLEAN_* environment variable (env: set; default: not set).

    The first source that sets an option wins: the command line, what DIRECTORY remembers from the
    last run or watch on it, DIRECTORY/.face-clean/config.yaml, $FACE_CLEAN_CONFIG (a file, or a
    folder with config.yaml), ~/.config/face-clean/config.yaml; then, for the models, the rules
    file, the FACE_CLEAN_DETECTOR, FACE_CLEAN_GENDER_MODEL and FACE_CLEAN_AGE_MODEL variables and
    the built-in defaults.
    """
    logs.setup(0, False)
    if forget:
        _forget(directory)
    elif edit:
        _edit(directory)
    elif show_paths:
        _config_files(directory, "")
    else:
        _show(directory, resolve(directory, options))


def _show(directory: Path | None, s: Settings) -> None:
    where = f"for {directory.resolve()}" if directory is not None else "without a folder"
    click.echo(f"Settings {where} (the first source that sets one wins: {ORDER})")
    rules = _rules_values(s)
    places = (s.path("quarantine"), s.path("review_dir"), s.path("audit_log"))
    layout = Layout.for_root(directory, *places) if directory else None
    for name in SETTINGS:
        value, origin = s[name], s.values[name].origin
        if value is None and name in rules:
            value, origin = rules[name]
        elif value is None and layout is not None and name in ("quarantine", "review_dir", "audit_log"):
            value = {"quarantine": layout.quarantine, "review_dir": layout.review, "audit_log": layout.audit_log}[name]
            origin = "built-in default (in the folder's state folder)"
        elif value is None:
            origin = "not set: the rules decide" if name == "keep" and s["rules"] else "not set"
        click.echo(shown(f"  {name:<15} {'-' if value is None else value!s:<42} {origin}"))
    if not s.has_policy:
        click.echo("  (no policy: run and watch refuse to start until --keep or --rules is given)")
    click.echo("Config files:")
    _config_files(directory, "  ")
    if layout is not None:
        state = layout.state_dir
        remembered = "found" if s.remembered is not None else "nothing remembered"
        click.echo(shown(f"Remembered: {state / REMEMBERED} ({remembered}; --forget forgets it)"))
    for note in s.shadowed:
        click.echo(shown(f"note: {note}"))
    _environment()


def _environment() -> None:
    """Every FACE_CLEAN_* variable, its value (a password never) and its origin: env or default."""
    try:
        env = environment.read()
    except RulesError as err:
        fail(str(err), EXIT_USAGE)
    click.echo("Environment:")
    for var in environment.VARIABLES:
        click.echo(shown(f"  {var.name:<25} {env.shown(var.field):<31} {env.origin(var.field)}"))


def _config_files(directory: Path | None, indent: str) -> None:
    """The config files looked for, first the one that wins, and which exist."""
    for what, path in config_files.searched(directory):
        click.echo(shown(f"{indent}{path}  ({what}; {'found' if config_files.exists(path) else 'none'})"))


def _rules_values(s: Settings) -> dict[str, tuple[Any, str]]:
    """The model settings the rules decide where nothing above them does, and where each comes from."""
    rules_path = s.path("rules")
    try:
        raw: Any = {}
        if rules_path is None:
            rs = loading.load(None, s["keep"])
        else:  # read once: the settings it checks and the values it gives come from the same text
            text = read_text(rules_path, loading.MAX_RULES_BYTES, "rules file", RulesError)
            rs = loading.load_text(text, str(rules_path), s["keep"])
            raw = load_yaml(text, str(rules_path), "rules file", RulesError)
    except RulesError as err:
        fail(str(err), EXIT_USAGE)
    raw = raw if isinstance(raw, dict) else {}
    source = f"rules file {rules_path}" if rules_path else "the documented default rules (rules.yaml)"
    values = {
        "engine": rs.engine,
        "detector": rs.detector,
        "gender_model": rs.gender_model,
        "age_model": rs.age_model,
        "min_confidence": loading.documented_defaults()["min_gender_confidence"],
    }
    if raw.get("min_gender_confidence") is not None:
        values["min_confidence"] = raw["min_gender_confidence"]
    out: dict[str, tuple[Any, str]] = {}
    for name, value in values.items():
        if raw.get(RULE_KEYS[name]) is not None:
            origin = source
        elif name in ENV and name in environment.read().given:
            origin = f"environment {ENV[name]}"
        elif name in ENV:
            origin = "built-in default"
        else:
            origin = "the documented default rules (rules.yaml)"
        out[name] = (value, origin)
    return out


def _edit(directory: Path | None) -> None:
    path = config_files.folder_config(directory) if directory else config_files.user_config()
    if not path.exists():
        if directory:
            with open_folder(path.parent, create=True, mode=PRIVATE) as folder:
                folder.replace(path.name, TEMPLATE.format(order=ORDER).encode(), 0o600)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(TEMPLATE.format(order=ORDER), encoding="utf-8")
    click.echo(f"editing {path}")
    click.edit(filename=str(path))
    _show(directory, resolve(directory, {}))  # a mistake shows now, naming the file and line


def _forget(directory: Path | None) -> None:
    if directory is None:
        fail("--forget needs the folder whose remembered options to forget", EXIT_USAGE)
    from cleaner.records import now
    from cleaner.settings.remembered import recall, remember

    remembered = recall(directory)
    if remembered is None or not remembered.settings:
        click.echo(f"nothing remembered for {directory.resolve()}")
        return
    remember(directory, {}, now(), forget=list(remembered.settings))
    given = ", ".join(f"{k} {v}" for k, v in remembered.settings.items())
    click.echo(shown(f"forgot for {directory.resolve()}: {given}"))
