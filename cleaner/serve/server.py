"""The review page's server: waitress, in a thread of its own, until told to stop.

``face-clean serve DIR`` serves until SIGTERM or SIGINT and acts under the folder's locks
(cleaner.serve.actors.LockedActor); ``face-clean watch DIR --serve`` starts the same server beside the
daemon, whose thread applies the verdicts (InboxActor).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from waitress.server import create_server

from cleaner.errors import ServeError
from cleaner.paths import Layout
from cleaner.serve.actors import Actor
from cleaner.serve.app import create_app
from cleaner.serve.catalogue import Catalogue
from cleaner.serve.config import Bind, check_bind, digest
from cleaner.serve.pictures import Pictures

log = logging.getLogger("face-clean")
THREADS = 6  # a browser opens six connections to one host: its thumbnails come in parallel


@dataclass(frozen=True)
class ServeSettings:
    bind: Bind
    password: str | None
    thumb_size: int = 160
    max_pixels: int = 200_000_000


class Running:
    """A started server: its address, and how to stop it."""

    def __init__(self, server: object, thread: threading.Thread, pictures: Pictures, url: str) -> None:
        self._server, self._thread, self._pictures, self.url = server, thread, pictures, url

    def stop(self) -> None:
        server = self._server
        server.close()  # type: ignore[attr-defined]  # waitress has no types
        for channel in list(server._map.values()):  # type: ignore[attr-defined]  # open connections too
            channel.close()
        server.task_dispatcher.shutdown(timeout=5)  # type: ignore[attr-defined]
        self._thread.join(timeout=10)
        self._pictures.close()


def start(layout: Layout, settings: ServeSettings, actor: Actor) -> Running:
    """Listen (or raise ServeError: a public address without a password, an address in use) and serve in a thread."""
    check_bind(settings.bind, settings.password)
    catalogue = Catalogue(layout)
    pictures = Pictures(layout, settings.thumb_size, settings.max_pixels)
    secret = None if settings.password is None else digest(settings.password)
    app = create_app(catalogue, actor, pictures, secret, None)
    try:
        server = create_server(
            app, host=settings.bind.host, port=settings.bind.port, threads=THREADS, ident="face-clean"
        )
    except OSError as err:
        raise ServeError(f"cannot listen on {settings.bind.host}:{settings.bind.port}: {err.strerror or err}") from None
    port = int(server.effective_port)
    if settings.bind.loopback:  # answer only our own names (DNS rebinding), now that the port is known
        app.config["FACE_CLEAN_HOSTS"] = settings.bind.names(port)
    host = settings.bind.host if ":" not in settings.bind.host else f"[{settings.bind.host}]"
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '[::]') else host}:{port}/"
    thread = threading.Thread(target=server.run, name="face-clean-serve", daemon=True)
    thread.start()
    log.info("the review page of %s is at %s%s", layout.root, url, "" if settings.password else " (no password)")
    return Running(server, thread, pictures, url)
