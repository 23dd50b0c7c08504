"""What a folder remembers: the options last given to ``run`` or ``watch`` on it, so that ``restore``,
``report``, ``runs``, ``watch`` and the next ``run`` need no repeats (``DIR/.face-clean/remembered.json``).

The photo folder may be shared, and a remembered quarantine or audit log says where face-clean moves
and writes, so nothing read here may lead it anywhere the user did not send it. The file is trusted
only when all of these hold, else it is ignored, with a warning, and the options must be given again:

- its folder is face-clean's own state folder, checked as OpenSSH checks ``~/.ssh`` (owned by the
  account face-clean runs as, or root, writable by no one else); the file is a regular file with one
  name, owned by that account, writable by no one else;
- it carries an HMAC made with the folder's ``journal.key`` (readable by that account alone): it was
  written by face-clean, as this account, and not edited since;
- it names this folder (its absolute path): a state folder moved or copied from another photo folder
  does not bring that folder's quarantine along.

So every remembered value is one this account gave face-clean for this very folder, on a command
line; it can never widen where face-clean writes. Values are remembered as given on the command line
only (a config file is read again every time), after a real run or watch: a dry run remembers nothing.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import PRIVATE, Folder, check_private, open_folder
from cleaner.fs.signing import genuine, load_key, sign
from cleaner.paths import REMEMBERED, STATE_DIR, state_for
from cleaner.settings.names import SETTINGS

log = logging.getLogger("face-clean")
MAX_BYTES = 256_000


@dataclass(frozen=True)
class Remembered:
    root: str
    settings: dict[str, Any] = field(default_factory=dict)
    since: dict[str, str] = field(default_factory=dict)  # setting -> "run ID, TIME": when it was given
    moved_to: tuple[str, ...] = ()  # every quarantine and review folder this folder's files were moved to

    def as_entry(self) -> dict[str, Any]:
        body = {"version": 1, "root": self.root, "settings": self.settings, "since": self.since}
        return body | {"moved_to": list(self.moved_to)}


def recall(root: Path, quiet: bool = False) -> Remembered | None:
    """What ``root`` remembers; None when nothing, or nothing that can be trusted (said, unless ``quiet``)."""
    root = root.resolve()
    state = state_for(root)
    try:
        with open_folder(state) as folder:
            if folder.lstat(REMEMBERED) is None:
                _left_inside(root, state, quiet)
                return None
            check_private(folder, "the state folder")
            entry = _read(folder)
            key = load_key(folder, create=False)
    except FileNotFoundError:
        _left_inside(root, state, quiet)
        return None
    except (OSError, ValueError) as err:  # UnsafePath, NotPrivate; JSON that is not ours
        if not quiet:
            log.warning("ignored the settings remembered in %s: %s; give the options again", state, err)
        return None
    problem = _problem(entry, key, root)
    if problem:
        if not quiet:
            log.warning("ignored the settings remembered in %s: %s; give the options again", state, problem)
        return None
    settings = {k: v for k, v in entry["settings"].items() if k in SETTINGS}
    return Remembered(str(root), settings, dict(entry["since"]), tuple(entry["moved_to"]))


def _left_inside(root: Path, state: Path, quiet: bool) -> None:
    """A shared folder's options are remembered outside it: say so when ``DIR/.face-clean`` has some (an
    earlier version's, or planted), which are never used."""
    inside = root / STATE_DIR / REMEMBERED
    if not quiet and state != inside.parent and os.path.lexists(inside):
        log.warning(
            "%s may be written by other accounts, so its state is kept in %s; the options remembered in %s "
            "(an earlier version's, or planted) are not used: give them again once (docs/safety/group-share.md)",
            root,
            state,
            inside,
        )


def _read(folder: Folder) -> Any:
    fd = folder.open_file(REMEMBERED, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022 or st.st_nlink != 1:
            why = f"owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}, {st.st_nlink} names"
            raise UnsafePath(f"{folder.path / REMEMBERED} is not face-clean's own file ({why})")
        data = os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ValueError(f"{folder.path / REMEMBERED} is larger than {MAX_BYTES} bytes")
    return json.loads(data)


def _problem(entry: Any, key: bytes | None, root: Path) -> str | None:
    if not isinstance(entry, dict) or not genuine(key, entry):
        return "not written by face-clean as this user (its signature does not match the folder's key)"
    if entry.get("root") != str(root):
        return f"it was written for another folder ({entry.get('root')!r})"
    kinds = {"settings": dict, "since": dict, "moved_to": list}
    if not all(isinstance(entry.get(k), t) for k, t in kinds.items()):
        return "it is not in the form face-clean writes"
    if not all(isinstance(p, str) and os.path.isabs(p) for p in entry["moved_to"]):
        return "it is not in the form face-clean writes"
    return None


def remember(
    root: Path, changes: dict[str, Any], when: str, moved_to: Iterable[Path] = (), forget: Iterable[str] = ()
) -> Remembered:
    """Remember ``changes`` (a setting set to None is forgotten), and the folders files went to, for
    ``root``; ``when`` says which run gave them. Called under the folder's lock."""
    root = root.resolve()
    before = recall(root, quiet=True) or Remembered(str(root))
    settings, since = dict(before.settings), dict(before.since)
    for name in forget:
        settings.pop(name, None)
        since.pop(name, None)
    for name, value in changes.items():
        if value is None:
            settings.pop(name, None)
            since.pop(name, None)
        elif settings.get(name) != value or name not in since:
            settings[name], since[name] = value, when
    places = tuple(dict.fromkeys([*before.moved_to, *map(str, moved_to)]))
    after = Remembered(str(root), settings, since, places)
    if after != before:
        with open_folder(state_for(root), create=True, mode=PRIVATE) as folder:
            check_private(folder, "the state folder")
            key = load_key(folder, create=True)
            if key is None:  # made when there was none: cannot happen, but never write unsigned
                raise UnsafePath(f"{folder.path}: no key to sign the remembered settings with")
            data = json.dumps(sign(key, after.as_entry()), indent=1, sort_keys=True) + "\n"
            folder.replace(REMEMBERED, data.encode(), 0o600)
    return after
