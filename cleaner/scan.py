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
    own_real = {os.path.realpath(p) for p in [*own, root / STATE_DIR_NAME]}
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        keep_dirs = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if _excluded(d, patterns) or os.path.realpath(full) in own_real or os.path.islink(full):
                continue
            keep_dirs.append(d)
        dirs[:] = keep_dirs if recursive else []
        for name in sorted(files):
            full = os.path.join(folder, name)
            if _excluded(name, patterns):
                continue
            if not os.path.islink(full) and os.path.realpath(full) in own_real:
                continue
            found.append(Path(full))
    return found
