"""Find the files a run looks at, and never the tool's own folders and files."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

STATE_DIR_NAME = ".face-clean"


def _excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def scan(root: Path, recursive: bool, patterns: tuple[str, ...], own: Iterable[Path]) -> list[Path]:
    """Files under ``root`` in a stable order.

    ``own`` are the tool's paths (state folder, quarantine, review folder, audit log); they
    are skipped even when they sit inside ``root`` and even if ``patterns`` is empty.
    Symbolic links to folders are not followed; links to files are listed, so that the run
    records that it saw them.
    """
    # The walk starts at the real path of root and never follows a link, so every path it
    # yields is already real: a plain comparison finds the tool's own paths.
    start = os.path.realpath(root)
    own_real = {os.path.realpath(p) for p in [*own, root / STATE_DIR_NAME]}
    found: list[Path] = []
    for folder, dirs, files in os.walk(start, followlinks=False):
        keep_dirs = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if _excluded(d, patterns) or full in own_real or os.path.islink(full):
                continue
            keep_dirs.append(d)
        dirs[:] = keep_dirs if recursive else []
        found.extend(
            Path(os.path.join(folder, name))
            for name in sorted(files)
            if not _excluded(name, patterns) and os.path.join(folder, name) not in own_real
        )
    return found
