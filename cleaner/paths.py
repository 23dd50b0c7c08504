"""Where face-clean reads and writes: the folder layout of a run, and the name of every file in it.

By default everything lives in the photo folder's state folder, ``DIR/.face-clean``; ``--audit-log``
puts the audit log, and the state database, the move journal and its key, the heartbeat beside it,
elsewhere. The photo folder's lock and restore's journal stay in ``DIR/.face-clean`` whatever
``--audit-log`` says: every process on the folder must find them there.

    DIR/.face-clean/
    ├── audit.jsonl         one JSON line per file per decision (cleaner.audit.log)
    ├── quarantine/         rejected photos, under the rule's reason
    ├── review/             photos a person should look at
    ├── state.db            the analysis cache, the decided files, the report's thumbnails
    ├── moves.journal       intent and end of each move (cleaner.moves.journal)
    ├── restores.journal    the same for restore, always here
    ├── journal.key         the key the journals' lines are signed with
    ├── lock                one face-clean at a time on DIR (cleaner.pipeline.lock)
    ├── heartbeat           rewritten by ``face-clean watch`` while healthy
    ├── report.html         ``face-clean report``'s page
    ├── remembered.json     the options last given for DIR, signed (cleaner.settings.remembered)
    └── config.yaml         the folder's own config file, if you write one (cleaner.settings)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = ".face-clean"  # in the photo folder: never scanned, never watched
AUDIT_LOG = "audit.jsonl"
QUARANTINE = "quarantine"
REVIEW = "review"
STATE_DB = "state.db"
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")  # the database and SQLite's files beside it
MOVES_JOURNAL = "moves.journal"
RESTORES_JOURNAL = "restores.journal"
JOURNAL_KEY = "journal.key"
HEARTBEAT = "heartbeat"
REPORT = "report.html"
REMEMBERED = "remembered.json"  # the options last given for the folder (cleaner.settings.remembered)
ROOT_LOCK = "lock"  # the photo folder's lock, in its state folder
FOLDER_LOCK = ".face-clean.lock"  # the lock of a quarantine, review folder or audit log's folder elsewhere
DEFAULT_EXCLUDE = ("@eaDir", "#recycle", ".*")  # names never scanned (a NAS's own folders, hidden files)


@dataclass(frozen=True)
class Layout:
    """Where a run reads and writes; defaults all live in ``DIR/.face-clean``."""

    root: Path
    quarantine: Path
    review: Path
    audit_log: Path
    # folders inside root that files of root were moved to before (an old quarantine): never scanned
    earlier: tuple[Path, ...] = ()

    @classmethod
    def for_root(
        cls, root: Path, quarantine: Path | None = None, review: Path | None = None, audit_log: Path | None = None
    ) -> Layout:
        root = root.resolve()
        state = root / STATE_DIR  # not resolved: a link planted there is refused, never followed
        return cls(
            root=root,
            quarantine=quarantine.resolve() if quarantine else state / QUARANTINE,
            review=review.resolve() if review else state / REVIEW,
            audit_log=audit_log.parent.resolve() / audit_log.name if audit_log else state / AUDIT_LOG,
        )

    @property
    def state_dir(self) -> Path:
        """The photo folder's own state folder (its lock and restore's journal are always there)."""
        return self.root / STATE_DIR

    @property
    def log_dir(self) -> Path:
        """The audit log's folder, which holds the rest of the state."""
        return self.audit_log.parent

    @property
    def state_db(self) -> Path:
        """The cache lives beside the audit log."""
        return self.log_dir / STATE_DB

    @property
    def journal(self) -> Path:
        """The move journal, beside the audit log."""
        return self.log_dir / MOVES_JOURNAL

    @property
    def restores_journal(self) -> Path:
        """Not beside the audit log: run and watch refuse entries that move files into the folder."""
        return self.state_dir / RESTORES_JOURNAL

    @property
    def heartbeat(self) -> Path:
        """``face-clean watch``'s default heartbeat."""
        return self.log_dir / HEARTBEAT

    @property
    def report(self) -> Path:
        """``face-clean report``'s default page."""
        return self.log_dir / REPORT

    @property
    def own_files(self) -> tuple[str, ...]:
        """The names face-clean writes beside the audit log."""
        names = (self.audit_log.name, MOVES_JOURNAL, JOURNAL_KEY, HEARTBEAT, FOLDER_LOCK)
        return names + tuple(STATE_DB + s for s in SQLITE_SUFFIXES)

    @property
    def own_paths(self) -> tuple[Path, ...]:
        """Everything of face-clean's that may sit inside the photo folder: never scanned, never decided."""
        beside_log = tuple(self.log_dir / name for name in self.own_files)
        return (self.state_dir, self.quarantine, self.review, *beside_log, *self.earlier)


def below(root: Path, path: Path) -> str:
    """``path`` relative to ``root``, with "/" separators, as the audit log records it (string work:
    pathlib costs a measurable share of a cached run over 10,000 files)."""
    text, base = str(path), str(root)
    if text.startswith(base + os.sep):
        return text[len(base) + 1 :].replace(os.sep, "/")
    return path.relative_to(root).as_posix()
