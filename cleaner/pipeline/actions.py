"""What happens to a file once the rules have decided: keep it, or move it to a folder.

Each action is a small class with one ``pipeline()`` method and a ``simulate`` flag, so a
dry run walks exactly the same code as a real one and only skips the final step. A move goes
through the run's Mover (cleaner.moves.mover), which journals it and writes its audit record.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from cleaner.fs.move import MoveError, free_name
from cleaner.moves.mover import Mover
from cleaner.paths import Layout, below
from cleaner.pipeline.sidecars import move_sidecars, sidecars_of
from cleaner.records import Action, AuditRecord, Decision, ImageAnalysis, Outcome, now


@dataclass(frozen=True)
class Item:
    root: Path
    analysis: ImageAnalysis
    decision: Decision
    record: AuditRecord  # its audit record as decided, before the action (cleaner.pipeline.recording)

    @cached_property
    def relpath(self) -> str:
        """The path below the watched folder, with "/" separators."""
        return below(self.root, self.analysis.path)


class FileAction(ABC):
    @abstractmethod
    def pipeline(self, item: Item, simulate: bool) -> Outcome: ...


class Keep(FileAction):
    def pipeline(self, item: Item, simulate: bool) -> Outcome:
        return Outcome(Action.KEEP)


@dataclass(frozen=True)
class MoveTo(FileAction):
    """Move into ``folder/<reason>/<path relative to the watched folder>``."""

    kind: Action
    folder: Path
    mover: Mover | None = None  # None: a dry run, which only simulates

    def destination(self, item: Item) -> Path:
        return Path(os.path.join(self.folder, item.decision.reason or self.kind.value, item.relpath))

    def pipeline(self, item: Item, simulate: bool) -> Outcome:
        target = self.destination(item)
        if simulate:
            return Outcome(self.kind, free_name(target), moved=False)
        changed = _changed_since_analysis(item.analysis)
        if changed:
            return Outcome(self.kind, None, moved=False, error=changed)
        if item.analysis.sha256 is None:
            unverifiable = "not moved: its bytes could not be read, so a move could not be verified"
            return Outcome(self.kind, None, moved=False, error=unverifiable)
        if self.mover is None:
            raise RuntimeError("a real move needs the run's mover")

        sidecars = sidecars_of(item.analysis.path)
        named = [item.relpath.rpartition("/")[0] + "/" + s if "/" in item.relpath else s for s in sidecars]

        def moved_to(destination: Path) -> AuditRecord:
            return replace(item.record, time=now(), destination=str(destination), moved=True, sidecars=named)

        try:
            # below the photo folder and the quarantine no link is followed; the bytes moved are the ones analysed
            written = self.mover.move(
                item.analysis.path, target, item.analysis.sha256, moved_to, src_base=item.root, dst_base=self.folder
            )
        except MoveError as err:
            return Outcome(self.kind, None, moved=False, error=str(err))
        move_sidecars(self.mover, item, sidecars, Path(str(written.destination)), self.folder)
        return Outcome(self.kind, Path(str(written.destination)), moved=True, record=written)


def _changed_since_analysis(a: ImageAnalysis) -> str | None:
    """A file rewritten after it was analysed must be analysed again, not moved on old evidence."""
    try:
        st = os.lstat(a.path)
    except OSError as err:
        return f"cannot move: {err.strerror}"
    if a.mtime_ns is not None and (st.st_size != a.size or st.st_mtime_ns != a.mtime_ns):
        return "file changed since it was analysed; left in place"
    return None


def for_decision(decision: Decision, layout: Layout, mover: Mover | None) -> FileAction:
    if decision.action is Action.QUARANTINE:
        return MoveTo(Action.QUARANTINE, layout.quarantine, mover)
    if decision.action is Action.REVIEW:
        return MoveTo(Action.REVIEW, layout.review, mover)
    return Keep()
