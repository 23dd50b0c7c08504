"""Where the review page listens, and whether it may: the address, the password, the refusals.

- **127.0.0.1 by default.** Any other address (0.0.0.0, a LAN address, ::) needs a password, and
  without one the page refuses to start: it can move a user's photos.
- **The password never comes from the command line** (which ``ps`` shows to every user): from
  ``--password-file FILE`` or the file named by ``FACE_CLEAN_PASSWORD_FILE`` (a Docker secret, say),
  else from ``FACE_CLEAN_PASSWORD``. At least 8 characters. Set one on localhost too where other
  accounts share the machine: without one, the page is open to every local user.
- **On a loopback address only its own names are answered** (``Host: 127.0.0.1:PORT``,
  ``localhost:PORT``, and the public URL's): a web site that points its own name at 127.0.0.1 (DNS
  rebinding) gets nothing.
- **Behind a reverse proxy**: ``--public-url https://nas.example`` (``FACE_CLEAN_PUBLIC_URL``) is the
  address people open, the one origin besides the page's own that the CSRF check accepts;
  ``--trusted-proxy 127.0.0.1`` (``FACE_CLEAN_TRUSTED_PROXY``) the one peer whose ``X-Forwarded-For``,
  ``-Host``, ``-Proto`` and ``-Port`` are believed (from anyone else they are dropped).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cleaner import environment
from cleaner.errors import ServeError
from cleaner.fs.safefs import read_regular

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
PASSWORD_ENV, PASSWORD_FILE_ENV = "FACE_CLEAN_PASSWORD", "FACE_CLEAN_PASSWORD_FILE"
PUBLIC_URL_ENV, TRUSTED_PROXY_ENV = "FACE_CLEAN_PUBLIC_URL", "FACE_CLEAN_TRUSTED_PROXY"
MIN_PASSWORD = 8
PORT = re.compile(r"[0-9]{1,5}")  # ASCII digits only: "80²" is no port


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
    if not PORT.fullmatch(port) or not 0 <= int(port) <= 65535 or not host.isascii():
        raise ServeError(f"{text!r} is not an address to listen on: give PORT or HOST:PORT (e.g. 0.0.0.0:8080)")
    return Bind(host, int(port))


@dataclass(frozen=True)
class PublicUrl:
    """The address people open the page at (a reverse proxy's, usually): its origin and Host names."""

    origin: str  # scheme://host[:port], as a browser sends it in Origin
    hosts: frozenset[str]  # the Host headers it arrives with (host, and host:port)


def parse_public_url(text: str) -> PublicUrl:
    """``https://nas.example``, ``https://nas.example:8443``, ``http://192.168.1.5:8080``: no path, no query."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not text.isascii()
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ServeError(
            f"{text!r} is not a public URL for the review page: give scheme://host[:port], e.g. "
            "https://nas.example or https://nas.example:8443 (the page lives at the root of a host name)"
        )
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port in (None, default) else f"{shown}:{port}"
    hosts = {shown, netloc, f"{shown}:{port or default}"}  # a proxy may forward the name without its port
    return PublicUrl(f"{parts.scheme}://{netloc}", frozenset(hosts))


def parse_proxy(text: str) -> str:
    """The reverse proxy's address, exactly as the page sees its connections (waitress compares it as text)."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise ServeError(
            f"{text!r} is not an address for --trusted-proxy: give the IP address the proxy connects from, "
            "e.g. 127.0.0.1"
        ) from None


def password_file_named(password_file: Path | None) -> Path | None:
    """The password file: the one given, else the one FACE_CLEAN_PASSWORD_FILE names, else none."""
    return password_file or environment.read().password_file


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
