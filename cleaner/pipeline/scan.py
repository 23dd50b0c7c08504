"""Find the files a run looks at, and never the tool's own folders and files."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from cleaner.fs.walking import walk
from cleaner.paths import STATE_DIR


def matcher(patterns: tuple[str, ...], ignore_case: bool = False) -> Callable[[str], bool]:
    """One compiled regex for all patterns: fnmatch per name and pattern is slow on big folders."""
    if not patterns:
        return lambda name: False
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE if ignore_case else 0)
    return lambda name: regex.match(name) is not None


class Patterns:
    """The rules' ``exclude`` and ``include`` globs. A pattern without "/" matches a name at any depth (a
    file, or a folder and all below it); one with "/" matches the path below the photo folder, ``*``
    crossing "/". ``include``, when given, keeps only the files that match one of its patterns
    (folders are always walked). Case does not matter: phones name their photos ``IMG_0001.JPG``."""

    def __init__(self, exclude: tuple[str, ...], include: tuple[str, ...] = ()) -> None:
        self._names = matcher(tuple(p for p in exclude if "/" not in p), ignore_case=True)
        self._paths = matcher(tuple(p.strip("/") for p in exclude if "/" in p), ignore_case=True)
        self._include_names = matcher(tuple(p for p in include if "/" not in p), ignore_case=True)
        self._include_paths = matcher(tuple(p.strip("/") for p in include if "/" in p), ignore_case=True)
        self._include = bool(include)

    def skips(self, relpath: str, is_dir: bool = False, parents_checked: bool = False) -> bool:
        """True for a file or folder (``relpath`` below the photo folder, "/"-separated) not to scan.
        ``parents_checked``: the folders above it were asked already (a walk that prunes what is
        skipped), so only the name and the whole path are, not every prefix again (a tree 1,400
        folders deep made that a billion string joins)."""
        if parents_checked:
            if self._names(relpath.rpartition("/")[2]) or self._paths(relpath):
                return True
        else:
            parts = relpath.split("/")
            if any(self._names(p) for p in parts):
                return True
            if any(self._paths("/".join(parts[: i + 1])) for i in range(len(parts))):
                return True
        name = relpath.rpartition("/")[2]
        return self._include and not is_dir and not (self._include_names(name) or self._include_paths(relpath))


def scan(root: Path, recursive: bool, patterns: Patterns | tuple[str, ...], own: Iterable[Path]) -> list[Path]:
    """Files under ``root`` in a stable order.

    ``own`` are the tool's paths (state folder, quarantine, review folder, audit log); they
    are skipped even when they sit inside ``root`` and even if ``patterns`` is empty.
    Symbolic links are never followed; links to files and to folders are listed, so that the run
    records that it saw them (``skipped``).  So is a folder that cannot be listed (no permission),
    so that the run records why its files were not looked at, instead of passing over them in silence.
    A ``root`` that is a link, or lies below one (a folder swapped for a link after the watch saw it
    appear), is listed itself and not walked.
    """
    start = os.path.realpath(root)
    if start != os.path.abspath(root):
        return [Path(root)]
    # The walk starts at the real path of root and never follows a link, so every path it
    # yields is already real: a plain comparison finds the tool's own paths.
    own_real = {os.path.realpath(p) for p in [*own, root / STATE_DIR]}
    chosen = patterns if isinstance(patterns, Patterns) else Patterns(patterns)
    found: list[Path] = []

    def unlistable(err: OSError) -> None:
        if err.filename and not isinstance(err, (FileNotFoundError, NotADirectoryError)):  # gone: nothing to lose
            found.append(Path(err.filename))

    for folder, dirs, files in walk(str(start), onerror=unlistable):  # no recursion: any depth
        below = os.path.relpath(folder, start).replace(os.sep, "/")
        prefix = "" if below == "." else below + "/"
        keep_dirs = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if chosen.skips(prefix + d, is_dir=True, parents_checked=True) or full in own_real:
                continue
            if os.path.islink(full):
                found.append(Path(full))  # recorded as a link, never walked
                continue
            keep_dirs.append(d)
        dirs[:] = keep_dirs if recursive else []
        for name in sorted(files):
            full = os.path.join(folder, name)
            if not chosen.skips(prefix + name, parents_checked=True) and full not in own_real:
                found.append(Path(full))
    return found
