"""Put one moved-out photo back where the audit log says it came from (``face-clean restore``).

- **A restore is an audit record**: ``action: "restore"``, ``moved: true``, ``path`` the photo's
  recorded path, ``destination`` where it is now, the moved-out record's analysis, rule and reason,
  and the note ``restored from <quarantined path>``, which makes a second restore a no-op. Skips
  change nothing, so they write nothing: reported, exit 1, still candidates until resolved.
- **Nothing read from the log leads elsewhere**: the file goes to DIR/<path> only, for a relative,
  normalised path without ``..``, outside the quarantine, review and state folders, with no link
  among the existing folders on the way; it is taken only as a regular file inside the quarantine
  or review folder, with the recorded sha256.
- **Moves are run's moves** (cleaner.moves.mover: journalled, a hard link or a verified copy, never
  replacing a name); without ``--rename`` a name taken at the last moment is a conflict too.
- **Journalled** in ``DIR/.face-clean/restores.journal``, recovered by the next restore first. Not
  ``moves.journal``: run and watch refuse entries that move files *into* the folder, and
  DIR/.face-clean is never scanned, whatever ``--audit-log`` says. The folder lock (taken by
  cleaner.commands.restore) keeps a restore from racing a run or watch.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path, PurePosixPath

from cleaner import __version__
from cleaner.audit.log import AuditLog
from cleaner.errors import UnsafePath
from cleaner.fs.hashing import hash_file
from cleaner.fs.move import MoveError, free_name
from cleaner.fs.safefs import remove_empty, within
from cleaner.moves.journal import COMPLETED, MoveJournal, Recovered, Unfinished
from cleaner.moves.mover import Mover, NameTaken
from cleaner.paths import Layout
from cleaner.pipeline.restore.log import RESTORE, RESTORED_FROM, Candidate
from cleaner.records import AuditRecord, new_run_id, now

log = logging.getLogger("face-clean")
RECOVERED = "restore completed by recovery after an interruption"


class Kind(str, Enum):
    RESTORED = "restored"
    CONFLICT = "conflict"  # the original name is taken
    MISSING = "missing"  # the quarantined file is gone
    CHANGED = "changed"  # the quarantined file is not the one moved there (sha256)
    REFUSED = "refused"  # the record points outside the folders restore may touch
    FAILED = "failed"  # the move itself failed (permissions, disk full); nothing changed


@dataclass(frozen=True)
class Result:
    candidate: Candidate
    kind: Kind
    destination: Path | None = None  # where it went, or would go, or the name in the way
    detail: str = ""


@dataclass
class RestoreSummary:
    """What a restore did, for its last lines and its exit code."""

    dry_run: bool
    results: list[Result] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # FILEs the log has no move of
    already: list[tuple[str, str]] = field(default_factory=list)  # FILEs restored before, and where to
    other_roots: Counter[str] = field(default_factory=Counter)  # files moved out of other folders, by folder
    interrupted: bool = False
    # for a filter that matched nothing: the values each filter could have taken (reason, rule, run)
    pending_by: dict[str, Counter[str]] = field(default_factory=dict)  # among the files still moved out
    ever: dict[str, set[str]] = field(default_factory=dict)  # among every move out of the folder

    @property
    def counts(self) -> Counter[Kind]:
        return Counter(r.kind for r in self.results)

    @property
    def by_reason(self) -> Counter[str]:
        """The files restored, by the reason they had left."""
        return Counter(r.candidate.reason or "-" for r in self.results if r.kind is Kind.RESTORED)

    @property
    def complete(self) -> bool:
        """Every selected file is back (or nothing was left to do), and every FILE was known."""
        return not self.unknown and all(r.kind is Kind.RESTORED for r in self.results)


class Restorer:
    """Checks, moves back and records one candidate at a time; ``audit`` None is a dry run."""

    def __init__(self, layout: Layout, audit: AuditLog | None, rename: bool) -> None:
        self.layout, self.audit, self.rename = layout, audit, rename
        self.run_id = new_run_id()
        self.mover = None if audit is None else Mover(layout.restores_journal, audit)
        self.sources = (layout.quarantine, layout.review)
        self.recovered = False  # every unfinished restore of the journal was recovered

    def destination(self, relpath: str) -> tuple[Path | None, str]:
        """DIR/relpath, or None and why not: nothing from the log may lead anywhere else."""
        pure = PurePosixPath(relpath)
        if (
            relpath in ("", ".")
            or "\0" in relpath
            or pure.is_absolute()
            or ".." in pure.parts
            or pure.as_posix() != relpath
        ):
            return None, f"the recorded path {relpath!r} is not a plain path below {self.layout.root}"
        dst = self.layout.root.joinpath(*pure.parts)
        if any(within(dst, f) for f in self.layout.own_paths):
            return None, f"{dst} is in face-clean's own folders"
        folder = dst.parent
        while not os.path.lexists(folder):
            folder = folder.parent
        if os.path.realpath(folder) != str(folder) or not within(folder, self.layout.root):
            return None, f"{folder} is a symbolic link or outside {self.layout.root}; not following it"
        return dst, ""

    def restore(
        self,
        c: Candidate,
        mark: Callable[[AuditRecord], AuditRecord] | None = None,
        before_move: Callable[[str], None] | None = None,
    ) -> Result:
        """Put ``c`` back. ``mark`` changes the record the move gets (a person's verdict says so);
        ``before_move`` is told the sha256 once every check has passed, just before the move."""
        src = Path(c.source)
        if not src.is_absolute() or not any(within(src.parent, f) for f in self.sources):
            where = f"{self.layout.quarantine}, {self.layout.review}; --quarantine and --review-dir as run had them"
            return Result(c, Kind.REFUSED, detail=f"{c.source} is not in the quarantine or review folder ({where})")
        dst, why = self.destination(c.relpath)
        if dst is None:
            return Result(c, Kind.REFUSED, detail=why)
        try:
            st, digest = hash_file(src, self._base(src))  # no link followed in the quarantine either
        except UnsafePath as err:
            return Result(c, Kind.REFUSED, detail=str(err))
        except FileNotFoundError:
            return Result(c, Kind.MISSING, detail=f"{src} is gone")
        except OSError as err:
            return Result(c, Kind.FAILED, detail=f"cannot read {src}: {err.strerror}")
        size = c.record.size
        if (c.sha256 or digest) != digest or (c.sha256 is None and size != st.st_size):
            return Result(c, Kind.CHANGED, detail=f"{src} is not the file that was moved there; left there")
        if os.path.lexists(dst) and not self.rename:
            return Result(c, Kind.CONFLICT, dst, _conflict(dst, digest))
        if self.mover is None:
            return Result(c, Kind.RESTORED, free_name(dst) if self.rename else dst)
        if before_move is not None:
            before_move(digest)
        marked = mark or (lambda r: r)
        try:  # no link followed below the quarantine or below DIR: a folder swapped for one stops the move
            written = self.mover.move(
                src,
                dst,
                digest,
                lambda final: marked(self._record(c, final, digest)),
                src_base=self._base(src),
                dst_base=self.layout.root,
                other_name=self.rename,
            )
        except NameTaken:
            return Result(c, Kind.CONFLICT, dst, _conflict(dst, digest))
        except MoveError as err:
            return Result(c, Kind.FAILED, dst, str(err))
        self.prune(src.parent)
        return Result(c, Kind.RESTORED, Path(str(written.destination)))

    def _record(self, c: Candidate, final: Path, digest: str) -> AuditRecord:
        """The moved-out record's analysis, rule and reason; this move's time, place and note."""
        notes = [f"{RESTORED_FROM}{c.source}"]
        if final.name != PurePosixPath(c.relpath).name:
            notes.append(f"restored as {final.name!r}: {PurePosixPath(c.relpath).name!r} was taken")
        return replace(
            c.record,
            time=now(),
            run_id=self.run_id,
            root=str(self.layout.root),
            path=c.relpath,
            sha256=digest,
            error=None,
            action=RESTORE,
            destination=str(final),
            moved=True,
            dry_run=False,
            notes=notes,
            tool_version=__version__,
        )

    def _base(self, src: Path) -> Path:
        """The quarantine or review folder ``src`` lies in (the deepest, should one hold the other)."""
        return max((f for f in self.sources if within(src.parent, f)), key=lambda f: len(f.parts))

    def prune(self, folder: Path) -> None:
        """Remove the folders below the quarantine (or review folder) that the restore left empty."""
        base = max((f for f in self.sources if folder.is_relative_to(f)), key=lambda f: len(f.parts), default=None)
        while base is not None and folder != base and folder.is_relative_to(base):
            try:
                remove_empty(folder)  # never through a link swapped in on the way
            except OSError:
                return
            folder = folder.parent

    def recover(self) -> list[Recovered]:
        """Recover restores a crash left unfinished, as ``run`` recovers its moves (a dry run only warns)."""
        if Mover.pending(self.layout.journal):
            log.warning("a run or watch was interrupted mid-move; the next one recovers it, then restore can take it")
        if self.mover is None:
            pending = Mover.pending(self.layout.restores_journal)
            if pending:
                log.warning("a restore was interrupted; the next restore (not a dry run) recovers it")
            self.recovered = not pending
            return []
        done = self.mover.recover(self._ours, "restore", RECOVERED)
        self.recovered = True
        for r in done:
            if r.outcome == COMPLETED:
                self.prune(r.src.parent)
        return done

    def _ours(self, m: Unfinished) -> bool:
        """A journal entry from the quarantine or review folder to its place in the folder, nothing else."""
        root = self.layout.root
        below = [d.relative_to(root).as_posix() if d.is_relative_to(root) else "" for d in m.candidates]
        targets = [self.destination(relpath)[0] for relpath in below]
        return any(within(m.src.parent, f) for f in self.sources) and targets == m.candidates

    def close(self) -> None:
        """Close the journal; one with nothing unfinished is removed."""
        journal = self.mover.journal if self.mover is not None else MoveJournal(self.layout.restores_journal)
        journal.remove_if_empty(recovered=self.recovered)


def _conflict(dst: Path, digest: str) -> str:
    try:
        same = hash_file(dst)[1] == digest
    except OSError:
        same = False
    return f"{dst} exists" + (" (with the same content: already put back by hand?)" if same else "") + "; skipped"
