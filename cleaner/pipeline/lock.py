"""One face-clean at a time per folder: the photo folder, its quarantine, review folder and audit log's folder.

Two processes deciding the same photos, or moving into one quarantine, would race (the same
file decided twice, one's journal recovery "repairing" the other's move in flight).  So every
``run`` and ``watch`` locks each folder it writes to before it touches anything, and a second
one stops at once with a message that names the holder.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a small file: ``.face-clean/lock`` for the
photo folder (found there whatever ``--audit-log`` a process uses), ``.face-clean.lock`` in the
quarantine, the review folder and the audit log's folder (two folders sharing a quarantine, or
an audit log, state database and move journal, conflict too).

- **Why flock.** The kernel drops it when its holder dies, ``kill -9`` included, so a lock
  file left behind is never mistaken for a live holder: the file names the holder (pid, host,
  command, start time) only for the message, and one whose flock is free is simply taken over.
  flock belongs to an open file, not to a process: a second lock from the same process
  conflicts too (fcntl/lockf locks would silently merge, and any ``close`` of the file
  anywhere in the process would drop them).  Over NFS Linux turns flock into a whole-file
  lock through the server's lock manager, so holders on different machines see each other
  (a crashed client's lock lasts until the server drops it: NFSv4 when its lease ends, about
  90 s, NFSv3 when the client is back); a mount with ``nolock`` or ``local_lock=flock`` only
  sees holders on the same machine.  A filesystem without
  locking gets a warning and no lock, as before locks existed.
- **Why the file is removed on release, and why that is safe.** The quarantine and photo
  folder are the user's, so nothing is left in them.  Removal is safe because it is done
  while holding the lock, and because whoever gets a lock checks afterwards that the name
  still leads to the very file it locked: one that opened the file just before it was
  removed, and locked it just after, sees that and starts again on a fresh file.
- Folders made only to hold a lock file are removed with it when empty, so a run that
  quarantines nothing, or uses an --audit-log elsewhere, leaves no trace.  The lock file names
  them, so that whoever takes over the lock of a killed holder removes them too.
- A lock file of another user (root's, left by a killed ``docker exec`` before the container ran
  as PUID) is locked through a read-only open, and replaced by one of ours where we may.
- A photo folder above or below a locked one counts as locked (cleaner.pipeline.lock_holders).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path

from cleaner.errors import FolderInUse, LockError
from cleaner.fs.safefs import PRIVATE, Folder, check_private, open_folder, remove_empty, same_file
from cleaner.paths import FOLDER_LOCK, FOLDER_NAME, ROOT_LOCK, STATE_DIR, Layout, state_for
from cleaner.pipeline.lock_holders import Holder, held_nearby

log = logging.getLogger("face-clean")
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
NO_LOCKING = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)
WAIT = "wait for it to finish or stop it"
RETRIES = 50  # fresh starts after a holder's release raced our open; each takes another release


def lock_file_for(folder: Path, root: Path, state: Path | None = None) -> Path:
    """The photo folder's lock sits in its state folder, which every process on it knows, whatever its
    --audit-log; the state folder is locked by the same file, even as another folder's --audit-log place.
    For a shared folder that is in the account's own state home (cleaner.paths.state_for): an uploader
    can rename ``.face-clean``, never this lock."""
    state = state or state_for(root)
    if folder in (root, state):
        return state / ROOT_LOCK
    return folder / (ROOT_LOCK if folder.name == STATE_DIR else FOLDER_LOCK)


class FolderLock:
    """An exclusive, non-blocking lock on ``folder``, held from ``__enter__`` to ``__exit__``.

    ``lock_file`` defaults to ``.face-clean.lock`` in the folder, which is made if missing.
    ``optional``: a read-only place is a warning, not an error (a dry run writes nothing there).
    """

    def __init__(
        self,
        folder: Path,
        command: str = "face-clean",
        *,
        lock_file: Path | None = None,
        label: str | None = None,
        hint: str = "",
        optional: bool = False,
        private: bool = False,
    ) -> None:
        self.folder = folder
        self.path = lock_file or folder / FOLDER_LOCK
        self.label, self.hint = label or str(folder), hint
        self.command, self.optional, self.private = command, optional, private
        self.fd: int | None = None
        self.where: Folder | None = None  # the lock file's folder, held open with the lock
        self.created: list[Path] = []  # folders made for the lock, in the order they were made

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        for _ in range(RETRIES):
            try:
                if self._try():
                    return
            except LockError:
                self._remove_created()
                raise
            except OSError as err:
                if self.optional and err.errno in READ_ONLY:
                    log.warning("cannot lock %s (%s); going on without the lock", self.label, err.strerror)
                    return
                self._remove_created()
                raise LockError(f"cannot lock {self.label}: {self.path}: {err.strerror or err}{self.hint}") from err
        raise LockError(f"cannot lock {self.label}: {self.path} keeps being replaced; try again")

    def _try(self) -> bool:
        """One attempt: True when locked, or when locking is impossible here; False to start again."""
        mode = PRIVATE if self.private else 0o777
        try:  # the folder and the file reached without following a link (cleaner.fs.safefs)
            folder = open_folder(self.path.parent, create=True, mode=mode, made=self.created)
        except FileNotFoundError:
            return False  # a folder on the way was removed by a releasing holder: make it again
        try:
            if self.private:
                check_private(folder, "the state folder")
            try:
                fd, writable = folder.open_file(self.path.name, os.O_RDWR | os.O_CREAT, 0o666), True
            except PermissionError:  # another user's lock file (root's, from before a container dropped it)
                fd, writable = folder.open_file(self.path.name, os.O_RDONLY), False
            locked = self._locked(fd, folder, writable)
        except FileNotFoundError:
            folder.close()
            return False  # its folder was removed by a releasing holder: make it again
        except BaseException:
            folder.close()
            raise
        if not locked:
            folder.close()
            return False
        self.where = folder
        return True

    def _locked(self, fd: int, folder: Folder, writable: bool) -> bool:
        """flock ``fd`` and write our name into it: True when locked (or locking is impossible here)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.parse(os.pread(fd, 4096, 0))
            os.close(fd)
            raise FolderInUse(f"{self.label} is in use by another face-clean ({self._who(holder)}); {WAIT}") from None
        except OSError as err:
            os.close(fd)
            if err.errno == errno.ESTALE:
                return False  # NFS: the file was removed under us
            if err.errno in NO_LOCKING:
                log.warning("cannot lock %s: %s does not support locks; going on without", self.label, self.path)
                return True
            raise
        if not same_file(os.fstat(fd), folder.lstat(self.path.name)):
            os.close(fd)  # locked a file its holder removed just before: start again on the new one
            return False
        stale = Holder.parse(os.pread(fd, 4096, 0))
        if stale is not None:
            log.info("%s: took over the lock of a face-clean that is gone (%s)", self.path, stale.describe())
            self._inherit(stale)
        if not writable:
            return self._replace_foreign(fd, folder)
        data = json.dumps(asdict(Holder.me(self.command, tuple(map(str, self.created))))).encode() + b"\n"
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError:
            os.close(fd)
            raise
        self.fd = fd
        return True

    def _who(self, holder: Holder | None) -> str:
        if holder is None or holder.alive() is False:
            return f"lock file {self.path}"  # a dead holder's name, left in a file we could not rewrite
        return holder.describe()

    def _inherit(self, stale: Holder) -> None:
        """The folder a killed holder made for this lock is ours to remove now, if still empty."""
        mine = self.path.parent
        if str(mine) in stale.made and mine not in self.created:
            self.created.append(mine)  # the innermost: removed first

    def _replace_foreign(self, fd: int, folder: Folder) -> bool:
        """Holding another user's lock file (read-only): put one of our own in its place, where the
        folder lets us (False: start again on it); else keep holding this one, unwritten (True)."""
        try:
            folder.unlink(self.path.name)
        except OSError:
            self.fd = fd
            return True
        os.close(fd)
        return False

    def release(self) -> None:
        """Remove the file while still holding it (see the module docstring), then unlock."""
        fd, self.fd = self.fd, None
        folder, self.where = self.where, None
        if fd is not None and folder is not None:
            try:
                if same_file(os.fstat(fd), folder.lstat(self.path.name)):
                    folder.unlink(self.path.name)
            except OSError as err:
                log.debug("could not remove the lock file %s: %s", self.path, err)
            finally:
                os.close(fd)
        if folder is not None:
            folder.close()
        self._remove_created()

    def _remove_created(self) -> None:
        for folder in reversed(self.created):
            try:
                remove_empty(folder)  # only when empty (never one something else was put in), never through a link
            except OSError:
                break
        self.created = []


@contextmanager
def lock_layout(layout: Layout, command: str, dry_run: bool) -> Iterator[list[FolderLock]]:
    """Lock every folder a run or watch writes to, in a fixed order, or raise LockError holding none;
    a photo folder above or below ``layout.root`` that is locked counts as this one (cleaner.pipeline.lock_holders).

    A dry run locks the photo folder (its decisions would be wrong beside a real run) and the
    audit log's folder, not the quarantine and review folder, where it writes nothing: it
    neither makes them nor keeps a real run on another folder from using them.  On a
    read-only photo folder it goes on with a warning.
    """
    root = layout.root
    log_folder = layout.audit_log.parent
    wanted = [(root, str(root), "", dry_run)]
    wanted.append((log_folder, f"the audit log's folder {log_folder}", "--audit-log", False))
    if not dry_run:
        wanted.append((layout.quarantine, f"the quarantine {layout.quarantine}", "--quarantine", False))
        wanted.append((layout.review, f"the review folder {layout.review}", "--review-dir", False))
    seen: set[Path] = set()
    with ExitStack() as stack:
        locks = []
        for folder, label, option, optional in wanted:
            path = lock_file_for(folder, root, layout.state_dir)
            if path not in seen:
                seen.add(path)
                hint = f"; choose another place with {option}" if option else ""
                # in a state folder (cleaner.store.folders); a shared folder's quarantine and review
                # folder in its private state folder outside are made 0700 too
                private = folder in (root, log_folder) or (layout.outside and folder.parent == layout.state_dir)
                lock = FolderLock(
                    folder,
                    f"face-clean {command} {root}",
                    lock_file=path,
                    label=label,
                    hint=hint,
                    optional=optional,
                    private=private,
                )
                locks.append(stack.enter_context(lock))
        if layout.outside and locks and locks[0].where is not None:  # whoever looks from a folder around finds it
            locks[0].where.replace(FOLDER_NAME, os.fsencode(root) + b"\n", 0o600)
        nearby = held_nearby(root, [lk.fd for lk in locks if lk.fd is not None])
        if nearby:
            raise FolderInUse(f"{nearby}; {WAIT}")
        yield locks
