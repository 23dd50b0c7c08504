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
``0644``), whatever the umask; folders ``0700``, whatever the umask and a setgid bit say.

A photo folder others may write to (a group share: cleaner.paths.shared) keeps its state outside, in
the account's ``$XDG_STATE_HOME/face-clean/``, which is checked the same way and made here, ``0700``;
a ``.face-clean`` inside such a folder is never read (an earlier version's is named once).

One of face-clean's files in a trusted state folder that is not what face-clean makes (a link, a
hard link, not a regular file, another account's, unreadable: mode 000) is set aside, renamed
``NAME.untrusted-<time>``, unread, with a warning, and a fresh one is made: it cannot stop every run.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from pathlib import Path

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import PRIVATE, Folder, check_private, open_folder, set_aside
from cleaner.paths import (
    FOLDER_NAME,
    JOURNAL_KEY,
    REMEMBERED,
    RESTORES_JOURNAL,
    ROOT_LOCK,
    STATE_DIR,
    Layout,
    state_home,
)

log = logging.getLogger("face-clean")
ROOT_FILES = (ROOT_LOCK, RESTORES_JOURNAL, JOURNAL_KEY, REMEMBERED)  # in DIR/.face-clean whatever --audit-log says


def prepare(layout: Layout) -> None:
    """Check (and where it is ours to, repair) every state folder of ``layout``; raise UnsafePath if one
    cannot be trusted. Makes nothing: the folders are made, private, by whoever first writes there."""
    root_state = layout.state_dir
    try:
        if layout.outside:
            _outside(layout)
        else:
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


def _outside(layout: Layout) -> None:
    """The state folder of a shared photo folder, in the account's own home: made private here."""
    home, made = state_home(), list[Path]()
    with open_folder(home, create=True, mode=PRIVATE) as top:
        check_private(top, "face-clean's state home")
        with top.sub(layout.state_dir.name, create=True, mode=PRIVATE, made=made) as state:
            check_private(state, "the state folder")
            state.replace(FOLDER_NAME, os.fsencode(layout.root) + b"\n", 0o600)
    if made:
        log.warning(
            "%s may be written by other accounts (group or world): its state (audit log, quarantine, review "
            "folder, lock) is kept outside it, private, in %s (see docs/safety/group-share.md)",
            layout.root,
            layout.state_dir,
        )
    inside = layout.root / STATE_DIR
    if os.path.lexists(inside):
        log.warning(
            "%s may be written by other accounts: face-clean keeps its state in %s, and does not read %s "
            "(see docs/safety/group-share.md)",
            layout.root,
            layout.state_dir,
            inside,
        )


def _check(folder: Path, names: tuple[str, ...], what: str) -> None:
    with open_folder(folder) as handle:
        check_private(handle, what)
        me = os.geteuid()
        for name in names:
            st = handle.lstat(name)
            if st is None:
                continue
            if stat.S_ISLNK(st.st_mode):
                _set_aside(handle, name, "a symbolic link")
            elif not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
                _set_aside(handle, name, "not a regular file with one name")
            elif st.st_uid not in (me, 0):
                _set_aside(handle, name, f"owned by uid {st.st_uid}, not {me}")
            elif me != 0 and st.st_mode & 0o600 != 0o600:
                _set_aside(handle, name, f"mode {stat.S_IMODE(st.st_mode):03o}: not readable and writable by us")


def _set_aside(folder: Folder, name: str, why: str) -> None:
    """Rename a file face-clean did not make out of the way, unread: a fresh one is made in its place."""
    aside = set_aside(folder, name, "untrusted")
    log.warning(
        "%s is %s: not a file face-clean made; set aside, unread, as %s, and a new one is made",
        folder.path / name,
        why,
        folder.path / aside,
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
