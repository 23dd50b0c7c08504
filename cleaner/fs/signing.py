"""The journals' key: every journal line carries an HMAC, so a line face-clean did not write is ignored.

Recovery acts on journal lines (it completes a move, removing a source), so a forged line must not
be able to name anything. The key is 32 random bytes in ``journal.key`` beside the journal, made
``0600`` by face-clean in its own state folder, which is owned by the account it runs as and
writable by nobody else (cleaner.store.folders): someone who can write to the photo folder can neither
read the key (another account's private file) nor replace it. The key file itself is checked the
same way before it is trusted: a regular file, not a link, one name, owned by us, readable by no one else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from typing import Any

from cleaner.errors import UnsafePath
from cleaner.fs.safefs import Folder, write_all
from cleaner.paths import JOURNAL_KEY

KEY_BYTES = 32


def load_key(folder: Folder, create: bool) -> bytes | None:
    """The folder's key, made now if ``create`` and there is none; None when there is none."""
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
        if st.st_uid != os.geteuid() or st.st_mode & 0o077 or st.st_nlink != 1 or len(key) != KEY_BYTES:
            raise UnsafePath(
                f"{folder.path / JOURNAL_KEY} is not a key face-clean made (owner uid {st.st_uid}, mode "
                f"{stat.S_IMODE(st.st_mode):o}, {len(key)} bytes); remove it and let face-clean make a new one"
            )
        return key
    raise UnsafePath(f"{folder.path / JOURNAL_KEY} keeps changing")


def _make(folder: Folder) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    fd = folder.open_file(JOURNAL_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        write_all(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
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
