"""Which file a name on the command line means, and the latest record about it.

A FILE is a path in the folder, in the quarantine or in the review folder: relative to the folder
(``holiday/IMG_0002.jpg``, ``.face-clean/review/uncertain/grey.jpg``), or absolute; never relative to
the current directory (the same rule as restore's and report's). A photo's recorded path that is no
longer in the folder names it where face-clean moved it (``verdict keep DIR holiday/IMG_0002.jpg``).
One in the quarantine or review folder must be one face-clean put there (the audit log says where it came from); one in
the folder may be new (never decided: the verdict is given all the same). Nothing else is a target:
not face-clean's own files, nothing outside those three folders.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from cleaner.audit.current import Place, current, where
from cleaner.audit.log import read
from cleaner.fs.safefs import within
from cleaner.paths import Layout, below
from cleaner.pipeline.verdicts.apply import FOLDER, QUARANTINE, REVIEW, Target
from cleaner.records import AuditRecord


def area_of(layout: Layout, path: str) -> str | None:
    """The folder ``path`` (resolved) lies in: the review folder, the quarantine (the deeper first, should
    one hold the other), the photo folder outside face-clean's own; None for anywhere else."""
    if within(path, layout.review) and not within(layout.review, Path(path)):
        return REVIEW
    if within(path, layout.quarantine) and not within(layout.quarantine, Path(path)):
        return QUARANTINE
    if within(path, layout.root) and not any(within(path, own) for own in layout.own_paths):
        return FOLDER
    return None


class Finder:
    """Files by where they are now, from the audit log's latest record of each."""

    def __init__(self, layout: Layout, records: Iterable[AuditRecord]) -> None:
        self.layout = layout
        root = str(layout.root)
        self.latest: dict[Place, AuditRecord] = {k: r for k, r in current(records).items() if r.root == root}
        self.at = {where(r): r for r in self.latest.values()}
        self.by_content: dict[str, list[str]] = {}  # asked once per verdict: an index, not a scan each time
        for at in sorted(self.at):
            if (content := self.at[at].sha256) is not None:
                self.by_content.setdefault(content, []).append(at)

    @classmethod
    def of(cls, layout: Layout) -> Finder:
        """From the folder's audit log (none yet: nothing found)."""
        return cls(layout, read(layout.audit_log) if layout.audit_log.is_file() else [])

    def find(self, name: str) -> Target | str:
        """The target ``name`` means, or why there is none."""
        real = os.path.realpath(os.path.join(self.layout.root, name))  # an absolute name stays itself
        moved = None if os.path.lexists(real) else self._moved_out(name)
        if moved is not None:
            return moved
        area = area_of(self.layout, real)
        if area is None:
            return f"{name}: not in {self.layout.root}, its quarantine or its review folder"
        try:
            if not stat.S_ISREG(os.lstat(real).st_mode):
                return f"{name}: not a regular file"
        except OSError as err:
            return f"{name}: {err.strerror}"
        record = self.at.get(real)
        if area == FOLDER:
            return Target(Path(real), FOLDER, below(Path(os.path.realpath(self.layout.root)), Path(real)), record)
        if record is None:
            return f"{name}: face-clean did not put it there (the audit log has no move to it)"
        return Target(Path(real), area, record.path, record)

    def _moved_out(self, name: str) -> Target | None:
        """A photo's recorded path (``holiday/IMG_0002.jpg``) that is no longer in the folder: where face-clean
        moved it, in the quarantine or the review folder, if it is there still."""
        if os.path.isabs(name):
            return None
        record = self.latest.get((str(self.layout.root), PurePosixPath(name).as_posix()))
        if record is None:
            return None
        at = where(record)
        area = area_of(self.layout, os.path.realpath(at))
        if area not in (QUARANTINE, REVIEW) or not os.path.isfile(at) or os.path.islink(at):
            return None
        return Target(Path(os.path.realpath(at)), area, record.path, record)

    def everywhere(self, sha256: str) -> list[str]:
        """Where the files with these bytes are now, by their latest records."""
        return list(self.by_content.get(sha256, []))
