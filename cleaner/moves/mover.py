"""One owner for every move face-clean makes, from its intent in the journal to its end.

A move of a run, of watch or of restore is, in this order and nowhere else:

1. ``begin`` in the journal, durable, naming the source, the destination about to be used, the
   sha256 and the audit record the move will get;
2. the move itself (cleaner.fs.move: no overwrite, no link followed, the bytes verified);
3. its audit record, durable;
4. ``end`` in the journal.

A crash between any two of them is repaired by ``recover``, the one recovery loop of moves and
restores: it finishes or rolls back each unfinished move (cleaner.moves.journal) and writes the
audit record a crash kept from the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cleaner.audit.log import AuditLog, move_ids
from cleaner.fs.move import MoveError, move_file
from cleaner.fs.safefs import ROOT
from cleaner.moves.journal import COMPLETED, MoveJournal, Recovered, Unfinished
from cleaner.records import AuditRecord

log = logging.getLogger("face-clean")


class NameTaken(Exception):
    """The destination's name was taken just before the file could be placed, and no other may be used."""


class Mover:
    """Journalled, recorded moves through one journal into one audit log."""

    def __init__(self, journal: Path, audit: AuditLog) -> None:
        self.journal = MoveJournal(journal)
        self.audit = audit

    def move(
        self,
        src: Path,
        dst: Path,
        sha256: str,
        record: Callable[[Path], AuditRecord],
        *,
        src_base: Path = ROOT,
        dst_base: Path = ROOT,
        other_name: bool = True,
    ) -> AuditRecord:
        """Move ``src`` to ``dst`` (or, with ``other_name``, to ``dst (n)`` if that is taken) and record
        it: ``record`` is the audit record the move gets at a destination. Returns the record written.
        Raises MoveError or NameTaken with the source where it was and the journal entry ended."""
        move_id = self.journal.new_id()
        began = False

        def before_place(candidate: Path) -> None:
            nonlocal began
            if candidate != dst and not other_name:
                raise NameTaken(str(dst))
            self.journal.begin(move_id, src, candidate, sha256, replace(record(candidate), move_id=move_id))
            began = True

        try:  # no link followed below either base: a folder swapped for one stops the move
            final = move_file(src, dst, sha256, before_place, src_base=src_base, dst_base=dst_base, token=move_id)
        except (MoveError, NameTaken):
            if began:
                self.journal.end(move_id)  # nothing was placed: the source is where it was
            raise
        written = replace(record(final), move_id=move_id)
        self.audit.write(written, durable=True)  # before the end: a crash now leaves a move to recover
        self.journal.end(move_id)
        return written

    def recover(self, allowed: Callable[[Unfinished], bool], what: str, note: str) -> list[Recovered]:
        """Finish or roll back every move a crash left unfinished. A completed one gets its audit record,
        with ``note``, unless the crash came after it; an entry ``allowed`` refuses (it names something
        outside the folders this journal may touch) is ended and nothing is touched."""
        pending = self.journal.unfinished()
        have = move_ids(self.audit.path) if pending else set()
        done = []
        for m in pending:
            if not allowed(m):
                log.error("refused a %s journal entry outside the folder and quarantine: %s", what, m.src)
            else:
                if not m.record.path:
                    log.error("the journal's record of %s is unreadable; its move is recorded without details", m.src)
                r = self.journal.finish(m)
                done.append(r)
                if r.outcome == COMPLETED and m.move_id not in have:
                    notes = [*m.record.notes, note]
                    self.audit.write(replace(m.record, destination=str(r.destination), moved=True, notes=notes))
            self.journal.end(m.move_id)
        return done

    @staticmethod
    def pending(journal: Path) -> bool:
        """Whether the journal holds moves a crash left unfinished (a dry run only says so)."""
        return bool(MoveJournal(journal).unfinished())

    def close(self) -> None:
        self.journal.close()
