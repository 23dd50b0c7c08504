"""A small YAML file read safely, and typed reads of one of its mappings that name the place on every
error (rules files, model manifests)."""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

from cleaner.errors import RulesError
from cleaner.fs.safefs import read_regular


class Fields:
    """Reads typed values out of one YAML mapping, naming the place on every error (``error``: the
    error to raise, RulesError by default)."""

    def __init__(self, data: Any, where: str, allowed: set[str], error: type[RulesError] | None = None) -> None:
        self.error = error or RulesError
        if not isinstance(data, dict):
            raise self.error(f"{where}: expected a mapping, got {show(data)}")
        unknown = sorted(set(map(str, data)) - allowed)
        if unknown:
            raise self.error(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        self.data, self.where = data, where

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def fail(self, key: str, expected: str) -> RulesError:
        return self.error(f"{self.where}: field {key!r}: expected {expected}, got {show(self.data[key])}")

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        if not self.has(key):
            return default
        value = self.data[key]
        if value not in choices:
            raise self.fail(key, "one of " + ", ".join(choices))
        return str(value)

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise self.fail(key, f"a number from {lo:g} to {hi:g}")
        return float(value)


_SHORT = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 4, 4
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40


def show(value: Any) -> str:
    """A short picture of a value; bounded whatever its size (an alias bomb's repr would be gigabytes)."""
    text = _SHORT.repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def read_text(path: Path, limit: int, what: str, error: type[RulesError]) -> str:
    """A small YAML file's text; anything larger than ``limit`` or unreadable is ``error``."""
    try:
        data = read_regular(path, limit + 1)  # a regular file only: never a FIFO, a device or a link
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {err}") from None
    if len(data) > limit:
        raise error(f"{path}: larger than {limit} bytes; this is not a {what}")
    try:
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {err}") from None
