"""Every ``FACE_CLEAN_*`` environment variable, read in this one place into a typed, frozen record.

What a variable means belongs to the machine or the container, not to a folder (the device, a
site-wide default model, a secret): so they are environment variables, not options. Each is read
when it is used (``read()`` is cheap), so a test or a long-lived process sees the value of now. An
empty variable is an unset one. A value that cannot be used stops the command with a message naming
the variable (a ``ConfigError``: exit code 2), never a traceback and never silently a default.
Model names are checked where they are used (cleaner.rules.model_choice: a manifest is read then).
``face-clean config`` prints each with its origin; docs/reference/environment.md documents them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from cleaner.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Variable:
    """One variable: its name, the field of ``Environment`` it fills, what unset means, what it does."""

    name: str
    field: str
    default: str
    means: str


VARIABLES = (
    Variable("FACE_CLEAN_CONFIG", "config", "none", "a config file, or a folder holding config.yaml"),
    Variable("FACE_CLEAN_DETECTOR", "detector", "yunet", "the face detector where the rules name none"),
    Variable("FACE_CLEAN_GENDER_MODEL", "gender_model", "builtin", "builtin, deepface or a manifest's path"),
    Variable("FACE_CLEAN_AGE_MODEL", "age_model", "builtin", "builtin, deepface or a manifest's path"),
    Variable("FACE_CLEAN_DEVICE", "device", "auto", "where the models run: auto, cpu or cuda"),
    Variable("FACE_CLEAN_BATCH", "batch", "measured", "faces per model call (fixes what is otherwise tuned)"),
    Variable("FACE_CLEAN_THREADS", "threads", "measured", "threads the models get (fixes what is tuned)"),
    Variable("FACE_CLEAN_WORKERS", "workers", "measured", "threads that read and detect (fixes what is tuned)"),
    Variable("FACE_CLEAN_PASSWORD_FILE", "password_file", "none", "a file whose first line is the review password"),
    Variable("FACE_CLEAN_PASSWORD", "password", "none", "the review page's password (the file is safer)"),
    Variable(
        "FACE_CLEAN_PUBLIC_URL", "public_url", "none", "the review page's address behind a reverse proxy (--public-url)"
    ),
    Variable("FACE_CLEAN_TRUSTED_PROXY", "trusted_proxy", "none", "the proxy whose forwarded headers are believed"),
    Variable("FACE_CLEAN_PEOPLE", "people", "review", "whose faces are grouped into people: review, all or off"),
)
PEOPLE = ("review", "all", "off")
BY_FIELD = {v.field: v for v in VARIABLES}
SECRET = frozenset({"password"})  # never printed


@dataclass(frozen=True)
class Environment:
    """The ``FACE_CLEAN_*`` variables as typed values; None where unset (the default applies)."""

    config: Path | None = None
    detector: str | None = None
    gender_model: str | None = None
    age_model: str | None = None
    device: str = "auto"
    batch: int | None = None
    threads: int | None = None
    workers: int | None = None
    password_file: Path | None = None
    password: str | None = field(default=None, repr=False)
    public_url: str | None = None
    trusted_proxy: str | None = None
    people: str = "review"
    given: frozenset[str] = frozenset()  # the fields whose variable is set

    def origin(self, name: str) -> str:
        """``env FACE_CLEAN_X`` where the variable is set, else ``default``."""
        return f"env {BY_FIELD[name].name}" if name in self.given else "default"

    def shown(self, name: str) -> str:
        """The value as ``face-clean config`` prints it: a secret as ``(set)``, an unset one as its default."""
        value = getattr(self, name)
        if name not in self.given:
            return f"- ({BY_FIELD[name].default})"
        return "(set, not shown)" if name in SECRET else str(value)


def _count(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ConfigError(f"${name} is {text!r}: expected a whole number of at least 1")
    return int(text)


def read(environ: Mapping[str, str] | None = None) -> Environment:
    """The variables of ``environ`` (default: this process's), checked; every bad one named at once."""
    env = os.environ if environ is None else environ
    raw = {v.field: env.get(v.name, "") for v in VARIABLES}
    given = {k: (t if k in SECRET else t.strip()) for k, t in raw.items() if t.strip()}
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, text in given.items():
        var = BY_FIELD[name]
        try:
            if name in ("batch", "threads", "workers"):
                values[name] = _count(var.name, text)
            elif name == "device":
                if text.lower() not in DEVICES:
                    raise ConfigError(f"${var.name} is {text!r}; choose one of {', '.join(DEVICES)}")
                values[name] = text.lower()
            elif name == "people":
                if text.lower() not in PEOPLE:
                    raise ConfigError(f"${var.name} is {text!r}; choose one of {', '.join(PEOPLE)}")
                values[name] = text.lower()
            elif name in ("config", "password_file"):
                values[name] = Path(text).expanduser()
            else:
                values[name] = text
        except ConfigError as err:
            problems.append(str(err))
    if problems:
        raise ConfigError("; ".join(problems))
    known = {f.name for f in fields(Environment)}
    return Environment(**{k: v for k, v in values.items() if k in known}, given=frozenset(given))  # type: ignore[arg-type]
