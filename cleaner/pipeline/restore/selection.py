"""Which moved-out files to put back: the filters of ``face-clean restore`` and the FILEs it names.

- **Filters combine with "and"**, repeated values of one filter with "or". Globs match the recorded
  path, ``*`` crossing ``/``. ``since``/``until`` select by when the file was moved out; since is
  inclusive, until exclusive, so consecutive ranges never overlap.
- **A FILE** is a photo's path as recorded (below DIR), or its path in the quarantine or review folder;
  relative to DIR, or absolute (never relative to the current directory: the same rule as verdict's
  and report's): whichever reading the log knows.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cleaner.fs.safefs import within
from cleaner.paths import Layout
from cleaner.pipeline.restore.log import Candidate


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time, a naive one read as local time; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))  # Python 3.10 reads no "Z"
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


@dataclass(frozen=True)
class FileArg:
    """One FILE of the command line and the recorded paths, or the quarantined file, it may name."""

    text: str
    paths: frozenset[str]
    source: str | None  # the real path of a file in the quarantine or review folder

    @classmethod
    def parse(cls, text: str, layout: Layout) -> FileArg:
        real = os.path.realpath(os.path.join(layout.root, text))  # an absolute text stays itself
        paths = set() if os.path.isabs(text) else {PurePosixPath(text).as_posix()}
        if any(within(real, f) for f in (layout.quarantine, layout.review)):
            return cls(text, frozenset(paths), real)
        if within(real, layout.root):
            paths.add(Path(real).relative_to(os.path.realpath(layout.root)).as_posix())
        return cls(text, frozenset(paths), None)

    def matches(self, c: Candidate) -> bool:
        """The file itself, or a sidecar that moved with the photo named (cleaner.pipeline.sidecars)."""
        if c.record.sidecar_of is not None and c.record.sidecar_of in self.paths:
            return True
        return c.relpath in self.paths or (self.source is not None and os.path.realpath(c.source) == self.source)


@dataclass(frozen=True)
class Selection:
    """What to restore: the values of one filter are alternatives, different filters must all hold."""

    everything: bool = False
    reasons: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive, on the time of the move out
    until: datetime | None = None  # exclusive
    files: tuple[FileArg, ...] = ()
    runs: frozenset[str] = frozenset()  # the runs that moved them out (``restore --run ID``: undo one run)

    @property
    def filtered(self) -> bool:
        return bool(self.reasons or self.rules or self.globs or self.files or self.since or self.until or self.runs)

    def problem(self) -> str | None:
        """Why this selection is refused: none at all, or ``--all`` beside a filter (one of the two is not meant)."""
        if not (self.everything or self.filtered):
            return "nothing selected: name FILEs, or use --run, --reason, --rule, --path, --since, --until or --all"
        if self.everything and self.filtered:
            return "--all restores every file: leave it out to restore only the files you chose"
        if self.since and self.until and self.since >= self.until:
            return "--since must be earlier than --until"
        return None

    def matches(self, c: Candidate) -> bool:
        moved_at = parse_time(c.time)
        return (
            (not self.reasons or c.reason in self.reasons)
            and (not self.rules or c.rule in self.rules)
            and (not self.runs or c.record.run_id in self.runs)
            and (not self.globs or any(fnmatch.fnmatchcase(p, g) for g in self.globs for p in _names(c)))
            and (self.since is None or (moved_at is not None and moved_at >= self.since))
            and (self.until is None or (moved_at is not None and moved_at < self.until))
            and (not self.files or any(f.matches(c) for f in self.files))
        )


def _names(c: Candidate) -> tuple[str, ...]:
    """The paths a filter matches: a sidecar's own, and its photo's (it comes back with the photo)."""
    return (c.relpath,) if c.record.sidecar_of is None else (c.relpath, c.record.sidecar_of)
