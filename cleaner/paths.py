"""Where face-clean reads and writes: the folder layout of a run, and the name of every file in it.

By default everything lives in the photo folder's state folder, ``DIR/.face-clean``; ``--audit-log``
puts the audit log, and the state database, the move journal and its key, the heartbeat beside it,
elsewhere. The photo folder's lock and restore's journal stay in its state folder whatever
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

A photo folder others may write to (group- or world-writable, or another account's: a NAS share)
keeps none of this inside: its state folder is ``$XDG_STATE_HOME/face-clean/<name>-<hash of its
path>/`` (``~/.local/state`` by default), in the account's own home, where an uploader can neither
plant, rename, swap nor read anything (see ``state_for`` and docs/safety/group-share.md).
"""

from __future__ import annotations

import hashlib
import os
import re
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
STATE_HOME = "face-clean"  # below $XDG_STATE_HOME: the state folders of shared photo folders
FOLDER_NAME = "folder"  # in such a state folder: the photo folder's path, for the lock's neighbours


def shared(root: Path) -> bool:
    """Others may write to ``root``: group- or world-writable, or owned by another account (root aside).
    Anything inside such a folder, ``.face-clean`` included, may be planted, renamed or swapped."""
    try:
        st = os.stat(root)
    except OSError:
        return False  # nothing there to protect yet; the run says why it cannot read it
    return bool(st.st_mode & 0o022) or st.st_uid not in (os.geteuid(), 0)


def state_home() -> Path:
    """``$XDG_STATE_HOME/face-clean`` (``~/.local/state/face-clean``), links resolved: the account's own."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(os.path.realpath(base)) / STATE_HOME


def outside_state(root: Path) -> Path:
    """The state folder of a shared ``root``: keyed by its path (a hash of it, and its name for people),
    not by device and inode numbers, which a network share or USB disk changes when mounted again."""
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:20]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40].lstrip(".") or "root"
    return state_home() / f"{name}-{digest}"


def state_for(root: Path) -> Path:
    """Where ``root`` (resolved) keeps its state: ``DIR/.face-clean`` when only this account may write to
    ``root``, else outside it (``outside_state``)."""
    return outside_state(root) if shared(root) else root / STATE_DIR


@dataclass(frozen=True)
class Layout:
    """Where a run reads and writes; defaults all live in ``DIR/.face-clean``."""

    root: Path
    quarantine: Path
    review: Path
    audit_log: Path
    # folders inside root that files of root were moved to before (an old quarantine): never scanned
    earlier: tuple[Path, ...] = ()
    state: Path | None = None  # the photo folder's state folder (None: DIR/.face-clean)

    @classmethod
    def for_root(
        cls, root: Path, quarantine: Path | None = None, review: Path | None = None, audit_log: Path | None = None
    ) -> Layout:
        root = root.resolve()
        state = state_for(root)  # not resolved: a link planted there is refused, never followed
        return cls(
            root=root,
            quarantine=quarantine.resolve() if quarantine else state / QUARANTINE,
            review=review.resolve() if review else state / REVIEW,
            audit_log=audit_log.parent.resolve() / audit_log.name if audit_log else state / AUDIT_LOG,
            state=state,
        )

    @property
    def state_dir(self) -> Path:
        """The photo folder's own state folder (its lock and restore's journal are always there)."""
        return self.state or self.root / STATE_DIR

    @property
    def outside(self) -> bool:
        """The state folder is not inside the photo folder (a shared one: see ``state_for``)."""
        return self.state_dir != self.root / STATE_DIR

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
