"""Who may use the review page, and how each request is checked before it does anything.

- **A session** is Flask's signed cookie (HMAC, with a key made at start: a restart signs everyone
  out), ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page sends it) and
  ``Secure`` when the page is reached over HTTPS, lasting 12 hours, and valid only while this process
  still lists it (cleaner.serve.sessions: logout and a changed password file end it). With a password
  it is given by ``POST /login``; without one (loopback only, cleaner.serve.config) by opening the page.
- **No session, no data**: every other request without one is answered 401, before anything is read.
- **CSRF**: every state-changing request carries the session's token (header ``X-CSRF-Token``, or the
  login form's field), compared in constant time; a missing or wrong one is 403, before anything is
  done. A request whose ``Origin`` is neither the page's own nor the public URL's is 403 too;
  ``Origin: null`` (what a browser sends where it hides the origin) is judged by the token alone.
- **A wrong password is slowed down**: checks run one at a time, each wrong one costs a second (for
  the account as a whole: one guess a second from everywhere together, a right password still
  passes), and an address that keeps guessing waits twice as long after each further miss (up to 5
  minutes; 429). The address is the client's: behind a trusted proxy, the one it forwards
  (X-Forwarded-For), so one guesser behind the proxy makes only itself wait, not the owner.
- **A refusal says why**: a page a person can read (HTML), or ``{"error": why}`` for the API.
- **Host**: on a loopback address, a request for another host name is refused (DNS rebinding).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import NoReturn

from flask import Request, abort, session

from cleaner.serve.config import digest
from cleaner.serve.sessions import Sessions

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


def refuse(code: int, why: str) -> NoReturn:
    """End the request with ``code``, saying ``why`` to the person (cleaner.serve.refusals)."""
    abort(code, description=why)


def sign_in(sessions: Sessions) -> str:
    """A fresh session with its own CSRF token (a new one at every sign-in: no fixation)."""
    sessions.close(session.get("sid"))
    session.clear()
    session.permanent = True
    session["in"] = True
    session["sid"], session["gen"] = sessions.open()
    session["csrf"] = token = secrets.token_urlsafe(32)
    return token


def signed_in(sessions: Sessions) -> bool:
    return (
        session.get("in") is True
        and isinstance(session.get("csrf"), str)
        and sessions.valid(session.get("sid"), session.get("gen"))
    )


def sign_out(sessions: Sessions) -> None:
    sessions.close(session.get("sid"))
    session.clear()


def form_token() -> str:
    """The login form's CSRF token, kept in the (not yet signed-in) session."""
    token = session.get("form")
    if not isinstance(token, str):
        session["form"] = token = secrets.token_urlsafe(32)
    return token


def require_session(sessions: Sessions) -> None:
    if not signed_in(sessions):
        refuse(401, "You are not signed in (or were signed out: logout, a new password, a restart). Sign in again.")


def require_csrf(request: Request, public: str | None, sent: str | None = None) -> None:
    """403 unless the request carries the session's token and comes from the page's own origin (or none)."""
    origin = request.headers.get("Origin")
    own = request.host_url.rstrip("/")
    if origin is not None and origin != "null" and origin not in (own, public):
        hint = (
            "" if public else " Behind a reverse proxy, start face-clean with --public-url set to the address you open."
        )
        refuse(
            403,
            f"Refused: this request came from a page at {origin}, not from the review page ({public or own}).{hint}",
        )
    expected = session.get("csrf") if sent is None else session.get("form")
    given = request.headers.get(CSRF_HEADER) if sent is None else sent
    if not isinstance(expected, str):
        refuse(
            403,
            "Refused: no session came with this request (the browser did not send the page's cookie). "
            "Reload the page; if this repeats, open the page at the address face-clean prints.",
        )
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        refuse(403, "Refused: the page's security token is missing or out of date. Reload the page and try again.")


def require_host(request: Request, allowed: frozenset[str] | None) -> None:
    if allowed is not None and request.host not in allowed:
        refuse(
            403,
            f"Refused: this page answers only as {', '.join(sorted(allowed))}, not as {request.host}. Behind a "
            "reverse proxy, start face-clean with --public-url set to the address you open.",
        )
