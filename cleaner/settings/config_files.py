"""Config files: defaults for the command line's options, found in three places (cleaner.settings).

A config file is YAML with the options' names as keys (``keep``, ``rules``, ``quarantine``,
``review_dir``, ``audit_log``, ``engine``, ``detector``, ``gender_model``, ``age_model``,
``min_confidence``, and for the review page ``public_url`` and ``trusted_proxy``); paths in it are
relative to its own folder. Every mistake is listed, with a
did-you-mean for an unknown key, and stops the command (exit code 2).

The folder's own config file, ``DIR/.face-clean/config.yaml``, is read only from a state folder
face-clean can trust (owned by the account it runs as, or root, and writable by no one else: the
check of cleaner.store.folders) and only if the file is owned the same way and writable by
no one else: someone who can only upload to the photo folder cannot plant one.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner import environment
from cleaner.errors import ConfigError, UnsafePath
from cleaner.fs.safefs import check_private, open_folder
from cleaner.fs.yaml_fields import Fields, listed, load_yaml, read_text
from cleaner.paths import state_for
from cleaner.rules.model import ENGINES, KEEP_CHOICES, keep_choice
from cleaner.settings.names import PAGE, PATHS, SETTINGS, absolute, is_path

log = logging.getLogger("face-clean")
CONFIG_NAME = "config.yaml"
ENV = "FACE_CLEAN_CONFIG"
MAX_BYTES = 100_000


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    settings: dict[str, Any]


def user_config() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "face-clean" / CONFIG_NAME


def env_config() -> Path | None:
    """``$FACE_CLEAN_CONFIG``: a file, or a folder holding config.yaml (the container's /config)."""
    path = environment.read().config
    if path is None:
        return None
    return path / CONFIG_NAME if path.is_dir() else path


def env_is_folder() -> bool:
    path = environment.read().config
    return path is not None and path.is_dir()


def folder_config(root: Path) -> Path:
    return state_for(root.resolve()) / CONFIG_NAME


def searched(root: Path | None) -> list[tuple[str, Path]]:
    """Where config files are looked for, first the one that wins, with what each place is."""
    places = [] if root is None else [("the folder's own", folder_config(root))]
    env = env_config()
    if env is not None:
        places.append((f"${ENV}", env))
    return [*places, ("the user's", user_config())]


def found(root: Path | None) -> Iterator[ConfigFile]:
    """The config files that exist, in order of precedence; ConfigError for one that cannot be used."""
    for what, path in searched(root):
        if what == "the folder's own":
            text = _folder_text(path)
        elif what == f"${ENV}" and not exists(path):
            if env_is_folder():
                continue  # a folder without config.yaml (the container's /config: its rules only): none
            raise ConfigError(f"${ENV} names {path}, which does not exist")
        else:
            text = read_text(path, MAX_BYTES, "config file", ConfigError) if exists(path) else None
        if text is not None:
            yield ConfigFile(path, parse(load_yaml(text, str(path), "config file", ConfigError), path))


def page_settings(root: Path | None) -> dict[str, str]:
    """The review page's settings (``public_url``, ``trusted_proxy``) from the config files, the first that has each."""
    out: dict[str, str] = {}
    for config in found(root):
        for name in PAGE:
            if name in config.settings:
                out.setdefault(name, str(config.settings[name]))
    return out


def exists(path: Path) -> bool:
    """Whether there is a config file at ``path``; one that cannot even be looked for (a home folder of
    another account) is said once and taken as none."""
    try:
        path.stat()
    except FileNotFoundError:
        return False
    except OSError as err:
        log.warning("cannot look for a config file at %s: %s", path, err.strerror or err)
        return False
    return True


def _folder_text(path: Path) -> str | None:
    """The folder's own config file, or None when there is none or it cannot be trusted (said once)."""
    try:
        with open_folder(path.parent) as folder:
            if folder.lstat(path.name) is None:
                return None
            check_private(folder, "the state folder")
            fd = folder.open_file(path.name, os.O_RDONLY)
            try:
                st = os.fstat(fd)
                if st.st_uid not in (os.geteuid(), 0) or st.st_mode & 0o022 or st.st_nlink != 1:
                    why = f"owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}, {st.st_nlink} names"
                    raise UnsafePath(f"{path} is not a file only this account may write ({why})")
                data = os.read(fd, MAX_BYTES + 1)
            finally:
                os.close(fd)
    except FileNotFoundError:
        return None
    except OSError as err:  # UnsafePath too
        log.warning("ignored the config file %s: %s", path, err)
        return None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES} bytes; this is not a config file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot read the config file: {err}") from None


def parse(data: Any, path: Path) -> dict[str, Any]:
    """The settings of one config file, checked; paths made absolute from its folder."""
    if data is None:
        return {}
    problems: list[str] = []
    f = Fields(data, str(path), set(SETTINGS) | set(PAGE), ConfigError, problems)
    out: dict[str, Any] = {}
    for name in (*SETTINGS, *PAGE):
        if not f.has(name):
            continue
        value = f.data[name]
        if name == "keep":
            chosen = keep_choice(str(value))
            if chosen is None:
                f.report(f.fail(name, "one of " + ", ".join(KEEP_CHOICES)))
            out[name] = chosen
        elif name == "engine":
            out[name] = f.choice(name, ENGINES, "onnx")
        elif name == "min_confidence":
            out[name] = f.number(name, 0.8, 0.5, 1.0)
        elif not isinstance(value, str) or not value.strip():
            f.report(f.fail(name, "a path" if name in PATHS else "a name"))
        elif is_path(name, value):
            out[name] = absolute(name, value, path.parent)
        else:
            out[name] = value
    if problems:
        raise ConfigError(listed(str(path), problems))
    return {k: v for k, v in out.items() if v is not None}
