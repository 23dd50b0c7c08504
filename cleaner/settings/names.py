"""The settings a config file may hold and face-clean remembers: the command line's options, by name."""

from __future__ import annotations

from pathlib import Path

POLICY = ("keep", "rules")
LOCATIONS = ("quarantine", "review_dir", "audit_log")
MODELS = ("engine", "detector", "gender_model", "age_model", "min_confidence")
SETTINGS = (*POLICY, *LOCATIONS, *MODELS)
PAGE = ("public_url", "trusted_proxy")  # the review page's, in config files only (cleaner.cli.serve), never remembered
PATHS = ("rules", *LOCATIONS)  # absolute once read; relative ones start at the config file's folder
MODEL_WORDS = ("builtin", "deepface")  # a model setting that is a word, not a manifest's path


def option(name: str) -> str:
    """The command line's option for a setting: ``review_dir`` -> ``--review-dir``."""
    return "--" + name.replace("_", "-")


def is_path(name: str, value: object) -> bool:
    """Whether a setting's value is a path (made absolute): a location, the rules file, or a model's manifest."""
    return name in PATHS or (name.endswith("_model") and value not in MODEL_WORDS)


def absolute(name: str, value: str | Path, base: Path | None = None) -> str:
    """A path setting as it is compared and stored: absolute, with the links of its folders resolved
    (as cleaner.paths.Layout reads it), the file itself not (a link planted there is refused later)."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    if name in ("quarantine", "review_dir"):
        return str(path.resolve())
    return str(path.parent.resolve() / path.name)
