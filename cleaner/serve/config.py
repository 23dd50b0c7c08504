"""Where the review page listens, and whether it may: the address, the password, the refusals.

- **127.0.0.1 by default.** Any other address (0.0.0.0, a LAN address, ::) needs a password, and
  without one the page refuses to start: it can move a user's photos.
- **The password never comes from the command line** (which ``ps`` shows to every user): from
  ``--password-file FILE`` or the file named by ``FACE_CLEAN_PASSWORD_FILE`` (a Docker secret, say),
  else from ``FACE_CLEAN_PASSWORD``. At least 8 characters. Set one on localhost too where other
  accounts share the machine: without one, the page is open to every local user.
- **On a loopback address only its own names are answered** (``Host: 127.0.0.1:PORT``,
  ``localhost:PORT``): a web site that points its own name at 127.0.0.1 (DNS rebinding) gets nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cleaner import environment
from cleaner.errors import ServeError
from cleaner.fs.safefs import read_regular

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
PASSWORD_ENV, PASSWORD_FILE_ENV = "FACE_CLEAN_PASSWORD", "FACE_CLEAN_PASSWORD_FILE"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a name: whatever it resolves to, treated as public

    def names(self, port: int) -> frozenset[str]:
        """The Host headers a loopback address answers."""
        hosts = {"127.0.0.1", "localhost", "[::1]", f"[{self.host}]" if ":" in self.host else self.host}
        return frozenset(f"{h}:{port}" for h in hosts)


def parse_bind(text: str) -> Bind:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; a bare port listens on 127.0.0.1."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    # ASCII digits only: str.isdigit() also takes "²", which int() then rejects
    if not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise ServeError(f"{text!r} is not an address to listen on: give PORT or HOST:PORT (e.g. 0.0.0.0:8080)")
    return Bind(host, int(port))


def load_password(password_file: Path | None) -> str | None:
    """The password, from the file given, the file FACE_CLEAN_PASSWORD_FILE names, or FACE_CLEAN_PASSWORD."""
    env = environment.read()
    named = password_file or env.password_file
    if named is not None:
        try:
            text = read_regular(named, 4096).decode("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ServeError(
                f"cannot read the password file {named}: {getattr(err, 'strerror', None) or err}"
            ) from None
        password = text[0] if text else ""
    else:
        password = env.password or ""
    if password and len(password) < MIN_PASSWORD:
        raise ServeError(f"the password is too short: at least {MIN_PASSWORD} characters")
    return password or None


def check_bind(bind: Bind, password: str | None) -> None:
    """Refuse a public address without a password."""
    if password is None and not bind.loopback:
        raise ServeError(
            f"refusing to listen on {bind.host} without a password: the review page moves photos. Put one in a "
            f"file named by {PASSWORD_FILE_ENV} (or --password-file), or in {PASSWORD_ENV}; or listen on 127.0.0.1"
        )


def digest(password: str) -> bytes:
    """What is kept of the password in memory, and compared (in constant time) with a digest of what is typed."""
    return hashlib.sha256(password.encode("utf-8")).digest()
