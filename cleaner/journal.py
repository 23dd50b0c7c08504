"""The move journal: a durable intent before every move, so a crash mid-move is repaired on start.

A move is: ``begin`` (source, destination, sha256 and the audit record it will get; fsynced
before the move starts), the move itself, its audit record, then ``end``.  A process killed
anywhere in between (``kill -9``, a power cut) leaves a ``begin`` without an ``end``, and the
next ``run`` or ``watch`` settles it before touching anything else:

- the destination holds the photo (sha256 verified) and the source is gone: the move is done;
  its audit record is written now if the crash came before it;
- both hold it (killed between placing the copy and removing the source): the source is
  removed only when its bytes are the photo's, else both stay and the record says why;
- the destination does not hold it: the move never happened; the source stays and is decided
  again like any other file.  A partial temporary copy of ours is removed.

The journal lives beside the audit log and is emptied once nothing in it is unfinished.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.audit import json_line
from cleaner.hashing import sha256_file
from cleaner.move import TEMP_SUFFIX

log = logging.getLogger("face-clean")
KEEP_BYTES = 1 << 20  # one move is in flight at a time; older lines are of no use


@dataclass
class Unfinished:
    move_id: str
    src: Path
    sha256: str | None
    record: dict[str, Any]
    candidates: list[Path] = field(default_factory=list)  # destinations tried, in order


@dataclass(frozen=True)
class Settled:
    """What recovery did with one unfinished move (for the log and the tests)."""

    src: Path
    outcome: str  # completed | rolled-back | kept-both | missing
    destination: Path | None = None


def within(path: str | Path, folder: Path) -> bool:
    """``path`` is ``folder`` or below it, both with links resolved."""
    real, base = os.path.realpath(path), os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _inside(path: Path, folders: tuple[Path, ...]) -> bool:
    return any(within(path.parent, f) for f in folders)


def _matches(path: Path, sha256: str | None) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and (sha256 is None or sha256_file(path) == sha256)
    except OSError:
        return False


class MoveJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None

    def _write(self, entry: dict[str, Any], durable: bool) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json_line(entry))
        self._fh.flush()
        if durable:
            os.fsync(self._fh.fileno())

    def new_id(self) -> str:
        return uuid.uuid4().hex[:16]

    def begin(self, move_id: str, src: Path, dst: Path, sha256: str | None, record: dict[str, Any]) -> None:
        """Durable before the move starts: after a crash, recovery knows what was under way."""
        entry = {"op": "begin", "id": move_id, "src": str(src), "dst": str(dst), "sha256": sha256, "record": record}
        self._write(entry, durable=True)

    def end(self, move_id: str) -> None:
        """After the move's audit record is written (or the move failed with the source intact).
        Nothing is unfinished then, so a journal grown past ``KEEP_BYTES`` starts afresh."""
        self._write({"op": "end", "id": move_id}, durable=False)
        if self._fh.tell() > KEEP_BYTES:
            self._fh.truncate(0)

    def intent(self, move_id: str, src: Path, sha256: str | None, record: dict[str, Any]) -> Callable[[Path], None]:
        """The hook ``move_file`` calls with each destination name just before it places the file there."""
        return lambda dst: self.begin(move_id, src, dst, sha256, record)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    # -- recovery ------------------------------------------------------------------------
    def unfinished(self) -> list[Unfinished]:
        if not self.path.exists():
            return []
        moves: dict[str, Unfinished] = {}
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line: its move had not started
                if e.get("op") == "begin":
                    m = moves.setdefault(e["id"], Unfinished(e["id"], Path(e["src"]), e["sha256"], e["record"]))
                    m.candidates.append(Path(e["dst"]))
                elif e.get("op") == "end":
                    moves.pop(e.get("id"), None)
        return list(moves.values())

    def recover(
        self,
        write_record: Callable[[dict[str, Any]], None],
        recorded: Callable[[], set[str]],
        sources: Path,
        destinations: tuple[Path, ...],
    ) -> list[Settled]:
        """Settle every unfinished move; ``write_record`` appends an audit record, ``recorded``
        gives the move ids the audit log already has.  Then empty the journal.  An entry whose
        source is not under ``sources`` or whose destinations are not under ``destinations``
        (a tampered journal) is refused: recovery never touches anything else."""
        pending = self.unfinished()
        settled: list[Settled] = []
        if pending:
            have = recorded()
            for m in pending:
                if not _inside(m.src, (sources,)) or not all(_inside(d, destinations) for d in m.candidates):
                    log.error("refused a move journal entry outside the folder and quarantine: %s", m.src)
                    self.end(m.move_id)
                    continue
                s = self.settle(m)
                settled.append(s)
                if s.outcome == "completed" and m.move_id not in have:
                    notes = [*m.record.get("notes", []), "move completed by recovery after an interruption"]
                    write_record({**m.record, "destination": str(s.destination), "moved": True, "notes": notes})
                log.warning("recovered an interrupted move of %s: %s", m.src, s.outcome)
                self.end(m.move_id)
        self.close()
        if self.path.exists() and not self.unfinished():
            self.path.write_text("", encoding="utf-8")
        return settled

    def settle(self, m: Unfinished) -> Settled:
        """Complete or roll back one unfinished move (also used by cleaner.restore)."""
        for dst in m.candidates:
            tmp = dst.with_name(f".{dst.name}.")
            for partial in dst.parent.glob(f"{tmp.name}*{TEMP_SUFFIX}") if dst.parent.is_dir() else []:
                partial.unlink(missing_ok=True)  # our own unfinished copy, never a user's file
        placed = next((d for d in reversed(m.candidates) if _matches(d, m.sha256)), None)
        src_here = m.src.exists() or m.src.is_symlink()
        if placed is None:
            return Settled(m.src, "rolled-back" if src_here else "missing")
        if not src_here:
            return Settled(m.src, "completed", placed)
        same_file = os.path.samefile(m.src, placed)
        if same_file or _matches(m.src, m.sha256):
            os.unlink(m.src)
            return Settled(m.src, "completed", placed)
        return Settled(m.src, "kept-both", placed)  # the source was rewritten since: keep both
