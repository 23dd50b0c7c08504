"""The move journal: a durable intent before every move, so a crash mid-move is repaired on start.

A move is: ``begin`` (source, destination, sha256 and the audit record it will get; fsynced
before the move starts), the move itself, its audit record, then ``end`` (cleaner.moves.mover
keeps that order). A process killed anywhere in between (``kill -9``, a power cut) leaves a
``begin`` without an ``end``, and the next ``run`` or ``watch`` recovers it before touching
anything else (``finish``):

- the destination holds the photo (sha256 verified) and the source is gone: the move is done;
  its audit record is written now if the crash came before it;
- both hold it (killed between placing the copy and removing the source): the source is
  removed only when its bytes are the photo's, else both stay and the record says why;
- the destination does not hold it: the move never happened; the source stays and is decided
  again like any other file.  Our partial temporary copy, by its exact name, is removed.

Recovery acts on what the journal says, so only lines face-clean wrote count: each carries an HMAC
with the key beside the journal (cleaner.fs.signing), and a ``begin`` must name its sha256. A line
that is forged, damaged or torn is ignored, and recovery says once how many. It never removes a
file it cannot prove to be a copy of the photo: a source whose bytes differ, a "partial copy" that
is not ours. The journal lives beside the audit log and is emptied once nothing in it is unfinished.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.errors import JournalError, UnsafePath
from cleaner.fs.hashing import hash_file
from cleaner.fs.jsonl import Appender, iter_objects, json_line
from cleaner.fs.move import temp_name
from cleaner.fs.safefs import PRIVATE, check_private, open_folder, same_file
from cleaner.fs.signing import genuine, load_key, sign
from cleaner.records import AuditRecord

log = logging.getLogger("face-clean")
KEEP_BYTES = 1 << 20  # one move is in flight at a time; older lines are of no use
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMPLETED, ROLLED_BACK, KEPT_BOTH, MISSING = "completed", "rolled-back", "kept-both", "missing"


@dataclass
class Unfinished:
    move_id: str
    src: Path
    sha256: str
    record: AuditRecord  # the record the move was to get
    candidates: list[Path] = field(default_factory=list)  # destinations tried, in order


@dataclass(frozen=True)
class Recovered:
    """What recovery did with one unfinished move (for the log and the tests)."""

    src: Path
    outcome: str  # COMPLETED | ROLLED_BACK | KEPT_BOTH | MISSING
    destination: Path | None = None


def _file_hash(path: Path) -> tuple[os.stat_result, str] | None:
    """The regular file at ``path`` (no link followed on the way) and its sha256; None if there is none."""
    try:
        return hash_file(path)
    except OSError:
        return None


def _begin(e: dict[str, Any]) -> bool:
    strings = all(isinstance(e.get(k), str) for k in ("id", "src", "dst"))
    return strings and SHA256.match(str(e.get("sha256"))) is not None and isinstance(e.get("record"), dict)


class MoveJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._log: Appender | None = None
        self._key: bytes | None = None
        self.in_flight: set[str] = set()  # begun here and not ended

    def _open(self) -> tuple[Appender, bytes]:
        if self._log is None or self._key is None:
            with open_folder(self.path.parent, create=True, mode=PRIVATE) as folder:
                check_private(folder, "the journal's folder")
                key = load_key(folder, create=True)
                if key is None:  # (create=True makes one)
                    raise UnsafePath(f"{self.path.parent}: no journal key")
                self._key, self._log = key, Appender(folder, self.path.name)
        return self._log, self._key

    def _write(self, entry: dict[str, Any], durable: bool) -> None:
        try:
            journal, key = self._open()
            journal.write(json_line(sign(key, entry)), durable)
        except OSError as err:
            why = str(err) if isinstance(err, UnsafePath) else err.strerror
            raise JournalError(f"stopped: cannot write the move journal {self.path}: {why}; nothing was lost") from None

    def new_id(self) -> str:
        return uuid.uuid4().hex[:16]

    def begin(self, move_id: str, src: Path, dst: Path, sha256: str, record: AuditRecord) -> None:
        """Durable before the move starts: after a crash, recovery knows what was under way."""
        entry = {"op": "begin", "id": move_id, "src": str(src), "dst": str(dst), "sha256": sha256}
        self._write({**entry, "record": vars(record)}, durable=True)
        self.in_flight.add(move_id)

    def end(self, move_id: str) -> None:
        """After the move's audit record is written (or the move failed with the source intact).
        Nothing is unfinished then, so a journal grown past ``KEEP_BYTES`` starts afresh."""
        self._write({"op": "end", "id": move_id}, durable=False)
        self.in_flight.discard(move_id)
        journal, _ = self._open()
        if journal.size > KEEP_BYTES:
            journal.truncate()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- recovery ------------------------------------------------------------------------
    def unfinished(self) -> list[Unfinished]:
        """The moves begun and not ended, from the lines face-clean wrote; the rest is ignored, and said once."""
        moves: dict[str, Unfinished] = {}
        counted = [0]
        try:
            with open_folder(self.path.parent) as folder:
                key = load_key(folder, create=False)
            for e in iter_objects(self.path, 0, counted):  # one line at a time: memory bounded by a line
                self._take(key, e, moves, counted)
        except FileNotFoundError:
            return []
        except OSError as err:
            raise JournalError(f"cannot read the journal {self.path}: {err}") from None
        bad = counted[0]
        if bad:
            why = "that face-clean did not write (forged or damaged)"
            log.warning("%s: ignored %d line%s %s", self.path, bad, "s" * (bad != 1), why)
        return list(moves.values())

    @staticmethod
    def _take(key: bytes | None, e: dict[str, Any], moves: dict[str, Unfinished], bad: list[int]) -> None:
        """One journal line into ``moves``: a begin adds a candidate, an end removes the move."""
        if not genuine(key, e):
            bad[0] += 1
        elif e.get("op") == "begin" and _begin(e):
            record = AuditRecord.of(e["record"])
            m = moves.setdefault(e["id"], Unfinished(e["id"], Path(e["src"]), e["sha256"], record))
            m.candidates.append(Path(e["dst"]))
        elif e.get("op") == "end":
            moves.pop(str(e.get("id")), None)

    def empty(self) -> None:
        """Start afresh: everything in the journal is recovered now (or was never ours)."""
        if os.path.lexists(self.path):
            try:
                self._open()[0].truncate()
            except OSError as err:
                raise JournalError(f"cannot empty the move journal {self.path}: {err}") from None
        self.close()

    def remove_if_empty(self, recovered: bool) -> None:
        """Remove the journal when nothing in it is unfinished (restore's, which is rarely needed):
        ``recovered`` says recovery ended whatever it held, else it is read again to know."""
        self.close()
        try:
            with open_folder(self.path.parent) as folder:
                if not self.in_flight and (recovered or not self.unfinished()):
                    folder.unlink(self.path.name)
        except FileNotFoundError:
            pass

    def finish(self, m: Unfinished) -> Recovered:
        """Complete or roll back one unfinished move, whatever the crash left of it."""
        for dst in m.candidates:
            _remove_partial(dst.parent, temp_name(dst.name, m.move_id))
        placed = next((d for d in reversed(m.candidates) if (_file_hash(d) or (None, ""))[1] == m.sha256), None)
        if placed is None:  # nothing is removed: the source is only looked for (hashed just where lstat fails)
            src_here = os.path.lexists(m.src) or _file_hash(m.src) is not None
            return Recovered(m.src, ROLLED_BACK if src_here else MISSING)
        src = _file_hash(m.src)
        src_here = src is not None or os.path.lexists(m.src)
        if not src_here:
            return Recovered(m.src, COMPLETED, placed)
        here = _file_hash(placed)  # again, after the source: the copy is still there just before the source goes
        if src is not None and here is not None and (same_file(src[0], here[0]) or src[1] == m.sha256):
            with open_folder(m.src.parent) as folder:
                if same_file(src[0], folder.lstat(m.src.name)):
                    folder.unlink(m.src.name)  # a name of the photo, which is in place at its destination
                    return Recovered(m.src, COMPLETED, placed)
        return Recovered(m.src, KEPT_BOTH, placed)  # the source was rewritten since: keep both


def _remove_partial(folder_path: Path, name: str) -> None:
    """Our own unfinished copy, by its exact name, if it is a regular file of ours; never anything else."""
    try:
        with open_folder(folder_path) as folder:
            st = folder.lstat(name)
            if st is not None and stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                folder.unlink(name)
    except OSError:
        pass  # its folder is gone, or not ours to walk: nothing of ours is there
