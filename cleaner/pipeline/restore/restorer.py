"""Put moved-out photos back where the audit log says they came from (``face-clean restore``).

- **The audit log is the truth**: the only record of where each file went. Its records are read in
  order, keyed by the *quarantined* path: a move there makes a candidate, a later restore record
  "restored from" there ends it, a later move to that name (a photo quarantined again) makes one
  again. So two photos that left one name at different times both come back (the second as a
  conflict). Moves out of other folders (``root`` is not DIR: a shared audit log, or one written in
  a container, where the folder has another name) are left alone, and counted.
- **A restore is an audit record**: ``action: "restore"``, ``moved: true``, ``path`` the photo's
  recorded path, ``destination`` where it is now, the moved-out record's analysis, rule and reason,
  and the note ``restored from <quarantined path>``, which makes a second restore a no-op. Skips
  change nothing, so they write nothing: reported, exit 1, still candidates until resolved.
- **Nothing read from the log leads elsewhere**: the file goes to DIR/<path> only, for a relative,
  normalised path without ``..``, outside the quarantine, review and state folders, with no link
  among the existing folders on the way; it is taken only as a regular file inside the quarantine
  or review folder, with the recorded sha256.
- **Moves are run's moves** (``move_file``: a hard link, or a verified copy across filesystems, never
  replacing a name); without ``--rename`` a name taken at the last moment is a conflict too.
- **Journalled** in ``DIR/.face-clean/restores.journal``, settled by the next restore first. Not
  ``moves.journal``: run and watch refuse entries that move files *into* the folder, and
  DIR/.face-clean is never scanned, whatever ``--audit-log`` says. The folder lock (taken by
  ``cli_restore``) keeps a restore from racing a run or watch.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from cleaner import __version__
from cleaner.errors import UnsafePath
from cleaner.fs.move import MoveError, free_name, hash_file, move_file
from cleaner.paths import Layout
from cleaner.pipeline.audit import AuditLog, AuditRecord, move_ids, new_run_id, now, record_of
from cleaner.pipeline.journal import MoveJournal, Settled, within

log = logging.getLogger("face-clean")
RESTORE = "restore"  # the action of a restore record
RESTORED_FROM = "restored from "  # the note that names the quarantined file a restore took
RECOVERED = "restore completed by recovery after an interruption"


@dataclass(frozen=True)
class Candidate:
    """A file the log says was moved out of the folder and not restored since."""

    record: dict[str, Any]  # the record of the move out
    source: str  # where it went: its recorded destination
    relpath: str  # where it came from, below the folder ("" if the record has no usable path)
    reason: str | None
    rule: str | None
    time: str | None  # of the move out
    sha256: str | None

    @classmethod
    def of(cls, r: dict[str, Any]) -> Candidate:
        s = {k: v for k, v in r.items() if isinstance(v, str)}
        return cls(
            r, s["destination"], s.get("path", ""), s.get("reason"), s.get("rule"), s.get("time"), s.get("sha256")
        )


@dataclass
class LogView:
    pending: list[Candidate]  # this folder's files, in the order they were moved out
    restored: dict[str, str]  # recorded or quarantined path of what was restored -> where it went
    other_roots: Counter[str]  # files still moved out of other folders, by folder


def restored_from(record: dict[str, Any]) -> str | None:
    notes = record.get("notes")
    for note in notes if isinstance(notes, list) else []:
        if isinstance(note, str) and note.startswith(RESTORED_FROM):
            return note[len(RESTORED_FROM) :]
    return None


def read_log(records: Iterable[Any], root: Path) -> LogView:
    """The latest record about each quarantined file decides whether it is still out."""
    out: dict[str, dict[str, Any]] = {}
    restored: dict[str, str] = {}
    for r in records:
        if not isinstance(r, dict) or r.get("dry_run") or r.get("moved") is not True:
            continue
        dest = r.get("destination")
        if not isinstance(dest, str):
            continue
        if r.get("action") == RESTORE:
            src = restored_from(r)
            if src is not None:
                out.pop(src, None)
                restored[src] = dest
                if isinstance(r.get("path"), str) and _same_root(r, root):
                    restored[r["path"]] = dest
            continue
        out.pop(dest, None)  # re-inserted: the order is that of the latest move
        out[dest] = r
    view = LogView([], restored, Counter())
    for r in out.values():
        if _same_root(r, root):
            view.pending.append(Candidate.of(r))
        else:
            view.other_roots[str(r.get("root"))] += 1
    return view


def _same_root(r: dict[str, Any], root: Path) -> bool:
    return isinstance(r.get("root"), str) and os.path.realpath(r["root"]) == os.path.realpath(root)


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


class _Taken(Exception):
    """The original name was taken just before the file could be put back (no --rename)."""


class Restorer:
    """Checks, moves back and records one candidate at a time; ``audit`` None is a dry run."""

    def __init__(self, layout: Layout, audit: AuditLog | None, rename: bool) -> None:
        self.layout, self.audit, self.rename = layout, audit, rename
        self.run_id = new_run_id()
        self.journal = MoveJournal(layout.restores_journal)
        self.sources = (layout.quarantine, layout.review)
        self.own = layout.own_paths
        self.recovered = False  # every unfinished restore of the journal was settled

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
        if any(within(dst, f) for f in self.own):
            return None, f"{dst} is in face-clean's own folders"
        folder = dst.parent
        while not os.path.lexists(folder):
            folder = folder.parent
        if os.path.realpath(folder) != str(folder) or not within(folder, self.layout.root):
            return None, f"{folder} is a symbolic link or outside {self.layout.root}; not following it"
        return dst, ""

    def restore(self, c: Candidate) -> Result:
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
        size = c.record.get("size")
        if (c.sha256 or digest) != digest or (c.sha256 is None and isinstance(size, int) and size != st.st_size):
            return Result(c, Kind.CHANGED, detail=f"{src} is not the file that was moved there; left there")
        if os.path.lexists(dst) and not self.rename:
            return Result(c, Kind.CONFLICT, dst, _conflict(dst, digest))
        if self.audit is None:
            return Result(c, Kind.RESTORED, free_name(dst) if self.rename else dst)
        return self._move(c, src, dst, digest)

    def _move(self, c: Candidate, src: Path, dst: Path, digest: str) -> Result:
        assert self.audit is not None
        move_id, began = self.journal.new_id(), []

        def before_place(candidate: Path) -> None:
            if candidate != dst and not self.rename:
                raise _Taken
            self.journal.begin(move_id, src, candidate, digest, vars(self._record(c, candidate, digest, move_id)))
            began.append(candidate)

        try:  # no link followed below the quarantine or below DIR: a folder swapped for one stops the move
            final = move_file(
                src, dst, digest, before_place, src_base=self._base(src), dst_base=self.layout.root, token=move_id
            )
        except (_Taken, MoveError) as err:
            if began:
                self.journal.end(move_id)  # nothing was placed: the source is where it was
            taken = isinstance(err, _Taken)
            return Result(
                c, Kind.CONFLICT if taken else Kind.FAILED, dst, _conflict(dst, digest) if taken else str(err)
            )
        self.audit.write(self._record(c, final, digest, move_id), durable=True)
        self.journal.end(move_id)
        self._prune(src.parent)
        return Result(c, Kind.RESTORED, final)

    def _record(self, c: Candidate, final: Path, digest: str, move_id: str) -> AuditRecord:
        """The moved-out record's analysis, rule and reason; this move's time, place and note."""
        notes = [f"{RESTORED_FROM}{c.source}"]
        if final.name != PurePosixPath(c.relpath).name:
            notes.append(f"restored as {final.name!r}: {PurePosixPath(c.relpath).name!r} was taken")
        now_ = dict(time=now(), run_id=self.run_id, root=str(self.layout.root), path=c.relpath, sha256=digest)
        this = dict(error=None, action=RESTORE, destination=str(final), moved=True, dry_run=False, notes=notes)
        return record_of({**c.record, **now_, **this, "tool_version": __version__, "move_id": move_id})

    def _base(self, src: Path) -> Path:
        """The quarantine or review folder ``src`` lies in (the deepest, should one hold the other)."""
        return max((f for f in self.sources if within(src.parent, f)), key=lambda f: len(f.parts))

    def _prune(self, folder: Path) -> None:
        """Remove the folders below the quarantine (or review folder) that the restore left empty."""
        base = max((f for f in self.sources if folder.is_relative_to(f)), key=lambda f: len(f.parts), default=None)
        while base is not None and folder != base and folder.is_relative_to(base):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def recover(self) -> list[Settled]:
        """Settle restores a crash left unfinished, as ``run`` settles its moves (a dry run only warns)."""
        if MoveJournal(self.layout.journal).unfinished():
            log.warning("a run or watch was interrupted mid-move; the next one settles it, then restore can take it")
        pending = self.journal.unfinished()
        if self.audit is None or not pending:
            if pending:
                log.warning("a restore was interrupted; the next restore (not a dry run) settles it")
            self.recovered = not pending
            return []
        settled, have = [], move_ids(self.layout.audit_log)
        self.recovered = True
        for m in pending:
            root = self.layout.root
            targets = [
                self.destination(d.relative_to(root).as_posix() if d.is_relative_to(root) else "")[0]
                for d in m.candidates
            ]
            if not any(within(m.src.parent, f) for f in self.sources) or targets != m.candidates:
                log.error("refused a restore journal entry outside the folder and quarantine: %s", m.src)
            else:
                s = self.journal.settle(m)  # run's own settling: complete, roll back or keep both
                settled.append(s)
                if s.outcome == "completed" and m.move_id not in have:
                    notes = [*m.record.get("notes", []), RECOVERED]
                    self.audit.write(record_of({**m.record, "destination": str(s.destination), "notes": notes}))
                if s.outcome == "completed":
                    self._prune(m.src.parent)
            self.journal.end(m.move_id)
        return settled

    def close(self) -> None:
        """Close the journal and the audit log; a journal with nothing unfinished is removed."""
        self.journal.remove_if_empty(settled=self.recovered)
        if self.audit is not None:
            self.audit.close()


def _conflict(dst: Path, digest: str) -> str:
    try:
        same = hash_file(dst)[1] == digest
    except OSError:
        same = False
    return f"{dst} exists" + (" (with the same content: already put back by hand?)" if same else "") + "; skipped"
