"""``face-clean serve DIR`` (the review page, until SIGTERM or SIGINT) and the options ``watch --serve``
shares with it (what the page is: cleaner.serve)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cleaner.cli import invocation, logs
from cleaner.cli.exits import EXIT_OK
from cleaner.cli.help import epilog
from cleaner.cli.options import location_options, remembered_layout

if TYPE_CHECKING:  # flask and waitress are imported by the commands that serve
    from cleaner.serve.server import ServeSettings

PASSWORD_HELP = (
    "A file whose first line is the password (or FACE_CLEAN_PASSWORD_FILE names one, or FACE_CLEAN_PASSWORD "
    "holds it; never on the command line). Required for any address but 127.0.0.1."
)
PUBLIC_URL_HELP = (
    "The address people open the page at, behind a reverse proxy (e.g. https://nas.example): the origin "
    "the page accepts requests from besides its own, and the address it logs. [env: FACE_CLEAN_PUBLIC_URL; "
    "config: public_url]"
)
PROXY_HELP = (
    "The reverse proxy's IP address (e.g. 127.0.0.1): only its X-Forwarded-For/-Host/-Proto/-Port headers "
    "are believed (the client's address for the password throttle, https). [env: FACE_CLEAN_TRUSTED_PROXY; "
    "config: trusted_proxy]"
)


def page_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), help=PASSWORD_HELP),
            click.option(
                "--thumb-size", type=click.IntRange(32, 1024), default=160, show_default=True, help="Thumbnails, px."
            ),
            click.option("--public-url", envvar="FACE_CLEAN_PUBLIC_URL", metavar="URL", help=PUBLIC_URL_HELP),
            click.option("--trusted-proxy", envvar="FACE_CLEAN_TRUSTED_PROXY", metavar="ADDRESS", help=PROXY_HELP),
        ]
    ):
        f = option(f)
    return f


def settings(
    address: str,
    password_file: Path | None,
    thumb_size: int,
    public_url: str | None = None,
    trusted_proxy: str | None = None,
    root: Path | None = None,
) -> ServeSettings:
    """Where to listen, the password and the proxy, checked now: a public address without a password stops here.
    ``public_url`` and ``trusted_proxy``: the option, else its FACE_CLEAN_ variable, else the config files'."""
    from cleaner.serve import config
    from cleaner.serve.server import ServeSettings
    from cleaner.settings.config_files import page_settings

    if public_url is None or trusted_proxy is None:
        configured = page_settings(root)
        public_url = public_url or configured.get("public_url")
        trusted_proxy = trusted_proxy or configured.get("trusted_proxy")
    bind, password = config.parse_bind(address), config.load_password(password_file)
    config.check_bind(bind, password)
    return ServeSettings(
        bind,
        password,
        thumb_size,
        password_file=config.password_file_named(password_file),
        public_url=config.parse_public_url(public_url) if public_url else None,
        trusted_proxy=config.parse_proxy(trusted_proxy) if trusted_proxy else None,
    )


EXAMPLES = (
    "face-clean serve ./photos                          # http://127.0.0.1:8080, this machine only",
    "face-clean serve ./photos --bind 0.0.0.0:8080 --password-file ~/.face-clean-password",
    "face-clean serve ./photos --password-file pw --public-url https://nas.example --trusted-proxy 127.0.0.1",
    "face-clean watch ./photos --serve 8080             # the page beside the daemon, which applies its verdicts",
)
CODES = (
    (0, "stopped on request (Ctrl-C, SIGTERM)"),
    (2, "bad usage: no password for a public address, a bad --bind or --public-url, a port in use, a folder in DIR"),
)
# A run or watch holding the folder does not stop the page: each action it is asked for is refused
# (409) while they hold it, saying who does (cleaner.serve.actors); `watch --serve` has no such wait.


@click.command(epilog=epilog(EXAMPLES, CODES))
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--bind",
    "address",
    default="127.0.0.1:8080",
    show_default=True,
    metavar="[HOST:]PORT",
    help="Where to listen; any address but 127.0.0.1 needs a password.",
)
@page_options
@location_options
def serve(
    directory: Path,
    address: str,
    password_file: Path | None,
    thumb_size: int,
    public_url: str | None,
    trusted_proxy: str | None,
    quarantine: Path | None,
    review_dir: Path | None,
    audit_log: Path | None,
) -> None:
    """The review page of DIRECTORY in a browser: the review queue, then the quarantine, then what was kept,
    with each photo's faces and rule; keep, reject or leave photos, one by one, in bulk or by keyboard.

    \b
    Each verdict is a person's, stored by content and recorded in the audit log; run and watch apply
    it before any rule. It acts while no run or watch holds the folder; to review while the daemon
    runs, start it with `face-clean watch DIR --serve PORT` instead. The quarantine, review folder and
    audit log are those run used, remembered for DIRECTORY.
    """
    from cleaner.pipeline.signals import stop_on_signals
    from cleaner.serve.actors import LockedActor
    from cleaner.serve.server import start

    logs.setup(0, False, daemon=True)
    layout = remembered_layout(directory, quarantine, review_dir, audit_log)
    page = settings(address, password_file, thumb_size, public_url, trusted_proxy, directory)
    running = start(layout, page, LockedActor(layout, invocation.text()))
    click.echo(f"face-clean: the review page of {layout.root} is at {running.shown} (Ctrl-C stops it)")
    stop = threading.Event()
    with stop_on_signals(stop):
        while not stop.wait(0.5):
            pass
    running.stop()
    sys.exit(EXIT_OK)
