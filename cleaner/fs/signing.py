"""The journals' key: every journal line carries an HMAC, so a line face-clean did not write is ignored.

Recovery acts on journal lines (it completes a move, removing a source), so a forged line must not
be able to name anything. The key is 32 random bytes in ``journal.key`` beside the journal, made
``0600`` by face-clean in its own state folder, which is owned by the account it runs as and
writable by nobody else (cleaner.store.folders): someone who can write to the photo folder can neither
read the key (another account's private file) nor replace it. The key file itself is checked the
same way before it is trusted: a regular file, not a link, one name, owned by us, readable by no one else.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import Folder, rename_noreplace, set_aside, write_all
from cleaner.paths import JOURNAL_KEY

log = logging.getLogger("face-clean")
KEY_BYTES = 32
NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK)


def load_key(folder: Folder, create: bool) -> bytes | None:
    """The folder's key, made now if ``create`` and there is none; None when there is none. A key file
    of ours that is not a key (empty or cut short by a full disk, say) is set aside and, if ``create``,
    made afresh: lines signed with it cannot be told genuine any more, and are ignored."""
    for _ in range(3):
        try:
            fd = folder.open_file(JOURNAL_KEY, os.O_RDONLY)
        except FileNotFoundError:
            if not create:
                return None
            try:
                return _make(folder)
            except FileExistsError:
                continue  # made at this moment by another face-clean: read it
        try:
            st = os.fstat(fd)
            key = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o077 or st.st_nlink != 1:
            raise UnsafePath(
                f"{folder.path / JOURNAL_KEY} is not a key face-clean made (owner uid {st.st_uid}, mode "
                f"{stat.S_IMODE(st.st_mode):o}, {len(key)} bytes); remove it and let face-clean make a new one"
            )
        if len(key) != KEY_BYTES:
            _set_aside(folder, len(key))
            continue
        return key
    raise UnsafePath(f"{folder.path / JOURNAL_KEY} keeps changing")


def _set_aside(folder: Folder, size: int) -> None:
    aside = set_aside(folder, JOURNAL_KEY, "damaged")
    log.warning(
        "%s is damaged (%d bytes, not %d: a full disk?); set aside as %s, and a new key is made",
        folder.path / JOURNAL_KEY,
        size,
        KEY_BYTES,
        aside,
    )


def _make(folder: Folder) -> bytes:
    """Written whole and synced under a temporary name, then linked to ``journal.key`` (which fails if one
    is there): a full disk leaves no key, never an empty or partial one."""
    key = secrets.token_bytes(KEY_BYTES)
    tmp = f".{JOURNAL_KEY}.{secrets.token_hex(6)}.tmp"
    fd = folder.open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            write_all(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, JOURNAL_KEY, src_dir_fd=folder.fd, dst_dir_fd=folder.fd, follow_symlinks=False)
        except OSError as err:
            if isinstance(err, FileExistsError) or err.errno not in NO_LINKS:
                raise
            rename_noreplace(folder, tmp, JOURNAL_KEY)
    finally:
        folder.discard(tmp)
    folder.fsync()
    return key


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def sign(key: bytes, entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "mac": hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()}


def genuine(key: bytes | None, entry: dict[str, Any]) -> bool:
    mac = entry.get("mac")
    if key is None or not isinstance(mac, str):
        return False
    try:
        expected = hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()
    except (TypeError, ValueError, RecursionError):
        return False
    return hmac.compare_digest(mac, expected)
