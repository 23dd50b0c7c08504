"""The review page's sessions, held here as well as in the browser's cookie, so that they can end.

The cookie (Flask's, signed) names a session id and the generation it was opened in; a request is
signed in only while that id is still listed here and the generation is the current one:

- **Logout** drops the session's id: a copy of the cookie is worth nothing afterwards.
- **A changed password file** (another inode, size or mtime: edited, replaced, a new Docker secret)
  ends every session at once, checked at most once a second; the new password is read from it, and
  while it cannot be read (gone, too short, unreadable) no one can sign in. Never back to no password.
- **A restart** ends them too (the cookie's key is made at start, and this list is in memory).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from cleaner.errors import ServeError
from cleaner.serve.config import digest, load_password

log = logging.getLogger("face-clean")
LOOK_EVERY = 1.0  # seconds between two looks at the password file
MAX_SESSIONS = 10_000  # the oldest is forgotten (signed out) beyond this many
NOBODY = b""  # the digest while the password file cannot be read: no password matches it

Stamp = tuple[int, int, int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class Sessions:
    """The sessions open now, and the password they were opened with."""

    def __init__(self, password: str | None, password_file: Path | None = None) -> None:
        self._secret = None if password is None else digest(password)
        self._file = password_file if password is not None else None
        self._stamp = None if self._file is None else _stamp(self._file)
        self._next_look = time.monotonic() + LOOK_EVERY
        self._live: OrderedDict[str, int] = OrderedDict()  # id -> generation
        self.generation = 0
        self._lock = threading.Lock()

    @property
    def required(self) -> bool:
        """Whether signing in takes a password (fixed at start)."""
        return self._secret is not None

    def secret(self) -> bytes | None:
        """The digest a typed password must match (after a look at the password file)."""
        self.look()
        return self._secret

    def look(self) -> None:
        """If the password file changed since the last look: every session ends, its new password holds."""
        if self._file is None or time.monotonic() < self._next_look:
            return
        with self._lock:
            self._next_look = time.monotonic() + LOOK_EVERY
            stamp = _stamp(self._file)
            if stamp == self._stamp:
                return
            self._stamp = stamp
            self.generation += 1
            self._live.clear()
            try:
                password = load_password(self._file)
            except ServeError as err:
                password, why = None, str(err)
            else:
                why = "it holds no password"
            if password is None:
                self._secret = NOBODY
                log.error("the review page's password file changed and %s: no one can sign in until it is fixed", why)
            else:
                self._secret = digest(password)
                log.warning("the review page's password file changed: everyone was signed out")

    def open(self) -> tuple[str, int]:
        """A new session: its id and generation, for the cookie."""
        self.look()
        with self._lock:
            sid = secrets.token_urlsafe(24)
            self._live[sid] = self.generation
            while len(self._live) > MAX_SESSIONS:
                self._live.popitem(last=False)
            return sid, self.generation

    def valid(self, sid: object, generation: object) -> bool:
        self.look()
        with self._lock:
            return isinstance(sid, str) and generation == self.generation and self._live.get(sid) == generation

    def close(self, sid: object) -> None:
        with self._lock:
            if isinstance(sid, str):
                self._live.pop(sid, None)
