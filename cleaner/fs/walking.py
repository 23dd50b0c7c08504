"""Walking a folder tree without recursion, whatever its depth.

``os.walk`` recurses once per level on Python 3.11 (and watchdog's directory snapshot on every
version): a tree 1,400 folders deep, a few kilobytes an uploader can make, ends a scan or a watch
with RecursionError.  ``walk`` here keeps its own stack, and yields what ``os.walk`` yields,
top-down, links never followed, so that a caller may prune ``dirs`` in place.
"""

from __future__ import annotations

import os
import stat as kinds
from collections.abc import Callable, Iterator
from typing import AnyStr


def walk(
    top: AnyStr, onerror: Callable[[OSError], object] | None = None
) -> Iterator[tuple[AnyStr, list[AnyStr], list[AnyStr]]]:
    """``os.walk(top, onerror=onerror, followlinks=False)``, top-down, iteratively."""
    stack = [top]
    while stack:
        folder = stack.pop()
        dirs: list[AnyStr] = []
        files: list[AnyStr] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()  # a link to a folder too, listed as os.walk lists it
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
        except OSError as err:
            if onerror is not None:
                onerror(err)
            continue
        yield folder, dirs, files
        below = (os.path.join(folder, d) for d in reversed(dirs))
        stack.extend(path for path in below if not os.path.islink(path))  # a link is never entered


def snapshot_walk(
    root: str, lstat: Callable[[str], os.stat_result], listdir: Callable[[str], Iterator[os.DirEntry[str]]]
) -> Iterator[tuple[str, os.stat_result]]:
    """watchdog's ``DirectorySnapshot.walk``: every path below ``root`` with its ``stat``, iteratively
    (watchdog's own recurses per level)."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            names = [os.path.join(folder, entry.name) for entry in listdir(folder)]
        except OSError:
            continue  # gone, replaced by a file, or not listable: as watchdog treats it, empty
        below = []
        for path in names:
            try:
                st = lstat(path)
            except OSError:
                continue
            yield path, st
            if kinds.S_ISDIR(st.st_mode):
                below.append(path)
        stack.extend(reversed(below))
