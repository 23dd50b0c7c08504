"""What happens to a file once the rules have decided: keep it, or move it to a folder.

Each action is a small class with one ``pipeline()`` method and a ``simulate`` flag, so a
dry run walks exactly the same code as a real one and only skips the final step.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cleaner.fs.move import MoveError, free_name, move_file
from cleaner.records import Action, Decision, ImageAnalysis, Outcome


@dataclass(frozen=True)
class Item:
    root: Path
    analysis: ImageAnalysis
    decision: Decision

    @cached_property
    def relpath(self) -> str:
        """The path below the watched folder, with "/" separators (string work: pathlib costs
        a measurable share of a cached run over 10,000 files)."""
        path, root = str(self.analysis.path), str(self.root)
        if path.startswith(root + os.sep):
            return path[len(root) + 1 :].replace(os.sep, "/")
        return self.analysis.path.relative_to(self.root).as_posix()


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
    before_place: Callable[[Path], None] | None = None  # the move journal's intent record
    token: str | None = None  # names a partial copy for recovery: the journal's move id

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
        try:
            # below the photo folder and the quarantine no link is followed; the bytes moved are the ones analysed
            final = move_file(
                item.analysis.path,
                target,
                item.analysis.sha256,
                self.before_place,
                src_base=item.root,
                dst_base=self.folder,
                token=self.token,
            )
        except MoveError as err:
            return Outcome(self.kind, None, moved=False, error=str(err))
        return Outcome(self.kind, final, moved=True)


def _changed_since_analysis(a: ImageAnalysis) -> str | None:
    """A file rewritten after it was analysed must be analysed again, not moved on old evidence."""
    try:
        st = os.lstat(a.path)
    except OSError as err:
        return f"cannot move: {err.strerror}"
    if a.mtime_ns is not None and (st.st_size != a.size or st.st_mtime_ns != a.mtime_ns):
        return "file changed since it was analysed; left in place"
    return None


def for_decision(decision: Decision, quarantine: Path, review: Path) -> FileAction:
    if decision.action is Action.QUARANTINE:
        return MoveTo(Action.QUARANTINE, quarantine)
    if decision.action is Action.REVIEW:
        return MoveTo(Action.REVIEW, review)
    return Keep()
