"""The review page's server: waitress, in a thread of its own, until told to stop.

``face-clean serve DIR`` serves until SIGTERM or SIGINT and acts under the folder's locks
(cleaner.serve.actors.LockedActor); ``face-clean watch DIR --serve`` starts the same server beside the
daemon, whose thread applies the verdicts (InboxActor).

Slow clients cannot starve real ones: waitress reads requests in its one main loop and hands only
complete ones to its threads, so a client that sends a byte now and then holds a connection, never a
thread. What it could exhaust is the connection limit (waitress's default, 100, is what 120 slow
clients took): here it is 1000, watched with poll() (select() stops at 1024 descriptors), and a
request must arrive whole within ``request_deadline`` seconds of its first byte, a connection idle
for ``idle_timeout`` is closed. Behind a trusted proxy only its address's forwarded headers count.
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.proxy_headers import proxy_headers_middleware
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from cleaner.errors import ServeError
from cleaner.paths import Layout
from cleaner.serve.actors import Actor
from cleaner.serve.app import create_app
from cleaner.serve.catalogue import Catalogue
from cleaner.serve.config import Bind, PublicUrl, check_bind
from cleaner.serve.pictures import Pictures
from cleaner.serve.sessions import Sessions

log = logging.getLogger("face-clean")
THREADS = 6  # a browser opens six connections to one host: its thumbnails come in parallel
PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"}


@dataclass(frozen=True)
class ServeSettings:
    bind: Bind
    password: str | None
    thumb_size: int = 160
    max_pixels: int = 200_000_000
    password_file: Path | None = None  # watched: a change ends every session (cleaner.serve.sessions)
    public_url: PublicUrl | None = None
    trusted_proxy: str | None = None
    connections: int = 1000
    request_deadline: float = 30.0  # seconds from a request's first byte to its last
    idle_timeout: int = 60


class _Channel(HTTPChannel):  # type: ignore[misc]  # waitress has no types
    """A connection that remembers when the request it is receiving began."""

    started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.started = time.time()
        return bool(super().received(data))


class _Server(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _Channel
    deadline = 30.0

    def maintenance(self, now: float) -> None:
        """Waitress closes idle connections; a request still arriving after the deadline goes too."""
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if channel.request is not None and not channel.requests and now - channel.started > self.deadline:
                channel.will_close = True


class Running:
    """A started server: its address, and how to stop it."""

    def __init__(self, server: Any, thread: threading.Thread, pictures: Pictures, url: str, shown: str) -> None:
        self._server, self._thread, self._pictures, self.url, self.shown = server, thread, pictures, url, shown

    def stop(self) -> None:
        server = self._server
        server.close()
        for channel in list(server._map.values()):  # open connections too
            channel.close()
        server.task_dispatcher.shutdown(timeout=5)
        self._thread.join(timeout=10)
        self._pictures.close()


def _room_for(connections: int) -> None:
    """Enough file descriptors for the connections (the soft limit raised towards the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )


def _behind(app: Any, trusted: str | None) -> Any:
    """Waitress's proxy headers, believed from ``trusted`` only (dropped from anyone else), and a log line,
    once, naming a peer that sends them untrusted: that is the address --trusted-proxy wants."""
    proxied = proxy_headers_middleware(
        app,
        trusted_proxy=trusted,
        trusted_proxy_count=1,
        trusted_proxy_headers=PROXY_HEADERS if trusted else None,
        clear_untrusted=True,
    )
    told: set[str] = set()

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        peer = str(environ.get("REMOTE_ADDR", ""))
        if peer != trusted and "HTTP_X_FORWARDED_FOR" in environ and peer not in told and len(told) < 16:
            told.add(peer)
            log.warning(
                "the review page got X-Forwarded-For from %s, which is not its trusted proxy (%s): the header is "
                "ignored. If %s is your reverse proxy, start face-clean with --trusted-proxy %s",
                peer, trusted or "none given", peer, peer,
            )  # fmt: skip
        return proxied(environ, start_response)

    return wsgi


def _listen(app: Any, settings: ServeSettings) -> Any:
    adj = Adjustments(
        host=settings.bind.host,
        port=settings.bind.port,
        threads=THREADS,
        ident="face-clean",
        connection_limit=settings.connections,
        channel_timeout=settings.idle_timeout,
        cleanup_interval=max(1, min(5, int(settings.request_deadline))),
        asyncore_use_poll=True,
        clear_untrusted_proxy_headers=False,  # _behind does it, and says whom to trust
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(THREADS)
    wsgi = _behind(app, settings.trusted_proxy)
    server = _Server(wsgi, {}, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    server.deadline = settings.request_deadline
    return server


def start(layout: Layout, settings: ServeSettings, actor: Actor) -> Running:
    """Listen (or raise ServeError: a public address without a password, an address in use) and serve in a thread."""
    check_bind(settings.bind, settings.password)
    catalogue = Catalogue(layout)
    pictures = Pictures(layout, settings.thumb_size, settings.max_pixels)
    sessions = Sessions(settings.password, settings.password_file)
    public = settings.public_url
    app = create_app(catalogue, actor, pictures, sessions, None, public=None if public is None else public.origin)
    _room_for(settings.connections)
    try:
        server = _listen(app, settings)
    except (OSError, ValueError) as err:
        why = getattr(err, "strerror", None) or err
        raise ServeError(f"cannot listen on {settings.bind.host}:{settings.bind.port}: {why}") from None
    port = int(server.effective_port)
    if settings.bind.loopback:  # answer only our own names (DNS rebinding), now that the port is known
        app.config["FACE_CLEAN_HOSTS"] = settings.bind.names(port) | (public.hosts if public else frozenset())
    host = settings.bind.host if ":" not in settings.bind.host else f"[{settings.bind.host}]"
    everywhere = host in ("0.0.0.0", "[::]")
    url = f"http://{'127.0.0.1' if everywhere else host}:{port}/"
    shown = url if public is None else public.origin + "/"
    thread = threading.Thread(target=server.run, name="face-clean-serve", daemon=True)
    thread.start()
    where = shown
    if everywhere and public is None:
        where = f"http://<this machine's address>:{port}/ (it listens on all of them, {host}:{port}; {url} here)"
    log.info("the review page of %s is at %s%s", layout.root, where, "" if settings.password else " (no password)")
    if public is not None and settings.trusted_proxy is None:
        log.warning(
            "a public URL but no --trusted-proxy: every client of the proxy shares its address, so one guesser's "
            "wrong passwords make everyone wait; give the proxy's address with --trusted-proxy"
        )
    return Running(server, thread, pictures, url, where)
