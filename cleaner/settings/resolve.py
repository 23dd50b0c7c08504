"""Each setting of a command and where it came from, in the one order of cleaner.settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.rules.model import keep_choice
from cleaner.settings import config_files
from cleaner.settings.names import POLICY, SETTINGS, absolute, is_path, option
from cleaner.settings.remembered import Remembered, recall

COMMAND_LINE = "the command line"


@dataclass(frozen=True)
class Setting:
    value: Any  # None: not set anywhere here (the rules file or the built-in default decides)
    origin: str = ""


@dataclass
class Settings:
    """The settings in force for one command, with their origins, and what was remembered for the folder."""

    root: Path | None
    values: dict[str, Setting]
    remembered: Remembered | None = None
    shadowed: list[str] = field(default_factory=list)  # a remembered value hiding another in a config file

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def path(self, name: str) -> Path | None:
        value = self[name]
        return None if value is None else Path(value)

    @property
    def has_policy(self) -> bool:
        return self["keep"] is not None or self["rules"] is not None

    def from_memory(self) -> dict[str, Any]:
        """The settings used because the folder remembered them."""
        return {k: s.value for k, s in self.values.items() if s.origin.startswith("remembered")}

    def changed(self) -> list[tuple[str, str, str]]:
        """(setting, given now, remembered), as options (``--keep Man``), for each remembered setting given
        otherwise on the command line; the policy as one (``--rules my.yaml`` instead of ``--keep Man``)."""
        if self.remembered is None:
            return []
        before = self.remembered.settings
        out = []
        for name in (n for n in SETTINGS if n not in POLICY and self.values[n].origin == COMMAND_LINE):
            if name in before and before[name] != self[name]:
                out.append((name, f"{option(name)} {self[name]}", f"{option(name)} {before[name]}"))
        if any(self.values[n].origin == COMMAND_LINE for n in POLICY) and any(n in before for n in POLICY):
            now, then = _policy({n: self[n] for n in POLICY}), _policy(before)
            if now != then:
                out.append(("keep", now, then))
        return out

    def to_remember(self) -> dict[str, Any]:
        """What the command line gave that the folder should remember (after a real run or watch: a dry
        run tries options out, and writes nothing but its audit log)."""
        changes = {n: self[n] for n in SETTINGS if self.values[n].origin == COMMAND_LINE}
        if any(self.values[n].origin == COMMAND_LINE for n in POLICY):
            changes |= {n: self[n] for n in POLICY}  # one setting: --rules alone forgets a remembered --keep
        return changes


def _policy(values: Mapping[str, Any]) -> str:
    """``--keep Man``, ``--rules my.yaml``, or both, as the options that give them."""
    return " ".join(f"{option(n)} {values[n]}" for n in POLICY if values.get(n) is not None)


def given_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The command line's settings, as they are compared and stored (paths absolute, --keep spelled out)."""
    out: dict[str, Any] = {}
    for name in SETTINGS:
        value = options.get("rules_file" if name == "rules" else name)
        if value is None:
            continue
        if is_path(name, value):
            value = absolute(name, value)
        elif name == "keep":
            value = keep_choice(str(value)) or value
        out[name] = value
    return out


def resolve(root: Path | None, options: Mapping[str, Any], use_memory: bool = True) -> Settings:
    """The settings in force: ``options`` (the command line's), then what ``root`` remembers, then the
    config files; a ConfigError for a config file that cannot be used."""
    remembered = recall(root) if root is not None and use_memory else None
    layers: list[tuple[str, dict[str, Any]]] = [(COMMAND_LINE, given_values(options))]
    if remembered is not None:
        layers.append(("remembered", remembered.settings))
    layers += [(str(c.path), c.settings) for c in config_files.found(root)]
    values: dict[str, Setting] = {}
    for name in SETTINGS:
        # the policy is one setting: the first source that gives --keep or --rules gives both
        names = POLICY if name in POLICY else (name,)
        source = next(((where, s) for where, s in layers if any(s.get(n) is not None for n in names)), None)
        if source is None:
            values[name] = Setting(None)
            continue
        where, chosen = source
        if where == "remembered" and remembered is not None:
            given_by = remembered.since.get(name) or remembered.since.get(next(iter(names)), "")
            where = f"remembered for this folder ({given_by})" if given_by else "remembered for this folder"
        values[name] = Setting(chosen.get(name), where if chosen.get(name) is not None or name in POLICY else "")
    return Settings(root, values, remembered, _shadowed(values, layers))


def _shadowed(values: dict[str, Setting], layers: list[tuple[str, dict[str, Any]]]) -> list[str]:
    notes = []
    for name, s in values.items():
        if not s.origin.startswith("remembered"):
            continue
        later = next(((w, c[name]) for w, c in layers[2:] if c.get(name) is not None), None)
        if later is not None and later[1] != s.value:
            notes.append(
                f"{option(name)} {s.value} is remembered for this folder and wins over {name}: {later[1]} in "
                f"{later[0]}; give {option(name)} to change it, or forget it: face-clean config DIR --forget"
            )
    return notes
