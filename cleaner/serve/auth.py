"""Who may use the review page, and how each request is checked before it does anything.

- **A session** is Flask's signed cookie (HMAC, with a key made at start: a restart signs everyone
  out), ``HttpOnly`` (no script reads it) and ``SameSite=Strict`` (no other site's page sends it),
  lasting 12 hours. With a password it is given by ``POST /login``; without one (loopback only,
  cleaner.serve.config) by opening the page.
- **No session, no data**: every other request without one is answered 401, before anything is read.
- **CSRF**: every state-changing request carries the session's token (header ``X-CSRF-Token``, or the
  login form's field), compared in constant time; a missing or wrong one is 403, before anything is
  done. A request whose ``Origin`` is not the page's own is 403 too.
- **A wrong password is slowed down**: checks run one at a time, each wrong one costs a second, and an
  address that keeps guessing waits twice as long after each further miss (up to 5 minutes; 429).
- **Host**: on a loopback address, a request for another host name is refused (DNS rebinding).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import Request, abort, session

from cleaner.serve.config import digest

SLOW = 1.0  # seconds each wrong password costs
FREE_MISSES = 3  # misses from one address before it must wait between tries
LONGEST_WAIT = 300.0
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Throttle:
    """Wrong passwords: one check at a time, each miss slow, an address that keeps missing made to wait."""

    misses: dict[str, tuple[int, float]] = field(default_factory=dict)  # address -> (misses, not before)
    _one: threading.Lock = field(default_factory=threading.Lock)
    sleep: float = SLOW

    def wait_left(self, address: str) -> float:
        _, not_before = self.misses.get(address, (0, 0.0))
        return max(0.0, not_before - time.monotonic())

    def check(self, address: str, given: str, expected: bytes) -> bool:
        with self._one:
            if hmac.compare_digest(digest(given), expected):
                self.misses.pop(address, None)
                return True
            time.sleep(self.sleep)
            n = self.misses.get(address, (0, 0.0))[0] + 1
            wait = 0.0 if n < FREE_MISSES else min(2.0 ** (n - FREE_MISSES), LONGEST_WAIT)
            self.misses[address] = (n, time.monotonic() + wait)
            if len(self.misses) > 10_000:  # a flood of addresses: forget the oldest, keep memory bounded
                self.misses.pop(next(iter(self.misses)))
            return False


def sign_in() -> str:
    """A fresh session with its own CSRF token (a new one at every sign-in: no fixation)."""
    session.clear()
    session.permanent = True
    session["in"] = True
    session["csrf"] = token = secrets.token_urlsafe(32)
    return token


def signed_in() -> bool:
    return session.get("in") is True and isinstance(session.get("csrf"), str)


def form_token() -> str:
    """The login form's CSRF token, kept in the (not yet signed-in) session."""
    token = session.get("form")
    if not isinstance(token, str):
        session["form"] = token = secrets.token_urlsafe(32)
    return token


def require_session() -> None:
    if not signed_in():
        abort(401)


def require_csrf(request: Request, sent: str | None = None) -> None:
    """403 unless the request carries the session's token and comes from the page's own origin."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        abort(403)
    expected = session.get("csrf") if sent is None else session.get("form")
    given = request.headers.get(CSRF_HEADER) if sent is None else sent
    if not isinstance(expected, str) or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403)


def require_host(request: Request, allowed: frozenset[str] | None) -> None:
    if allowed is not None and request.host not in allowed:
        abort(403)
