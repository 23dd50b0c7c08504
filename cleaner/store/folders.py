"""face-clean's state folders, checked before they are trusted, the way OpenSSH checks ``~/.ssh``.

The state (audit log, state database, journals and their key, lock, heartbeat; by default also the
quarantine and review folder) lives in ``DIR/.face-clean``, or beside ``--audit-log``. The photo
folder is shared: anyone who can upload could make ``.face-clean`` first, link it elsewhere, or
plant files in it. So before anything else, every run, watch and restore checks:

- the folder is a folder, not a link, owned by the account face-clean runs as (or root), and
  writable by no one else: then nobody else can add, replace, rename or remove anything in it;
- each of face-clean's files in it that exists is a regular file with one name (no link, no hard link).

``DIR/.face-clean`` that fails the first check was not made by face-clean (or by another account):
it is set aside, renamed ``.face-clean.untrusted-<time>``, unread, and a private one is made, so
that one planted folder cannot stop face-clean; one of ours that others may write to is made
private. A folder named with ``--audit-log`` is the administrator's choice: if it fails, face-clean
refuses to start and says why. Files face-clean makes there are created ``0600`` (the audit log
``0644``), whatever the umask; folders ``0700``.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from pathlib import Path

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import check_private, open_folder
from cleaner.paths import JOURNAL_KEY, REMEMBERED, RESTORES_JOURNAL, ROOT_LOCK, STATE_DIR, Layout

log = logging.getLogger("face-clean")
ROOT_FILES = (ROOT_LOCK, RESTORES_JOURNAL, JOURNAL_KEY, REMEMBERED)  # in DIR/.face-clean whatever --audit-log says


def prepare(layout: Layout) -> None:
    """Check (and where it is ours to, repair) every state folder of ``layout``; raise UnsafePath if one
    cannot be trusted. Makes nothing: the folders are made, private, by whoever first writes there."""
    root_state = layout.state_dir
    try:
        _trust_or_set_aside(layout.root)
    except UnsafePath:
        raise
    except OSError as err:  # a read-only photo folder, say: the check cannot be completed, so nothing is trusted
        raise UnsafePath(f"cannot check or set aside {root_state}: {err.strerror or err}") from None
    folders: dict[Path, tuple[str, ...]] = {root_state: ROOT_FILES}
    folders[layout.audit_log.parent] = folders.get(layout.audit_log.parent, ()) + layout.own_files
    for folder, names in folders.items():
        what = "the state folder" if folder == root_state else "the audit log's folder"
        try:
            _check(folder, names, what)
        except FileNotFoundError:
            continue  # made, private, by whoever first writes there
        except OSError as err:
            hint = "" if folder == root_state else "; choose another place with --audit-log"
            why = str(err) if isinstance(err, UnsafePath) else f"cannot check {folder}: {err.strerror or err}"
            raise UnsafePath(f"{why}{hint}") from None


def _check(folder: Path, names: tuple[str, ...], what: str) -> None:
    with open_folder(folder) as handle:
        check_private(handle, what)
        for name in names:
            st = handle.lstat(name)
            if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink != 1):
                kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file with one name"
                raise UnsafePath(
                    f"{folder / name} is {kind}: face-clean never follows or writes through links in its "
                    "state folder; remove it (someone may have planted it)"
                )


def _trust_or_set_aside(root: Path) -> None:
    with open_folder(root) as photos:
        st = photos.lstat(STATE_DIR)
        me = os.geteuid()
        if st is None:
            return
        if stat.S_ISLNK(st.st_mode):
            why = "a symbolic link"
        elif not stat.S_ISDIR(st.st_mode):
            why = "not a folder"
        elif st.st_uid not in (me, 0):
            why = f"not owned by uid {me}, which face-clean runs as (owner: uid {st.st_uid})"
        else:
            if st.st_mode & 0o022:
                with photos.sub(STATE_DIR) as state:  # ours: made private, through what was opened
                    os.fchmod(state.fd, stat.S_IMODE(os.fstat(state.fd).st_mode) & ~0o022)
                log.warning("%s was writable by others; made private (chmod go-w)", root / STATE_DIR)
            return
        aside = f"{STATE_DIR}.untrusted-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        os.rename(STATE_DIR, aside, src_dir_fd=photos.fd, dst_dir_fd=photos.fd)
        log.warning(
            "%s is %s: not face-clean's own state folder; set aside, unread, as %s, and a new one is made",
            root / STATE_DIR,
            why,
            root / aside,
        )
