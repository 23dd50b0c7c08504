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


def page_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), help=PASSWORD_HELP),
            click.option(
                "--thumb-size", type=click.IntRange(32, 1024), default=160, show_default=True, help="Thumbnails, px."
            ),
        ]
    ):
        f = option(f)
    return f


def settings(address: str, password_file: Path | None, thumb_size: int) -> ServeSettings:
    """Where to listen and the password, checked now: a public address without a password stops here."""
    from cleaner.serve.config import check_bind, load_password, parse_bind
    from cleaner.serve.server import ServeSettings

    bind, password = parse_bind(address), load_password(password_file)
    check_bind(bind, password)
    return ServeSettings(bind, password, thumb_size)


EXAMPLES = (
    "face-clean serve ./photos                          # http://127.0.0.1:8080, this machine only",
    "face-clean serve ./photos --bind 0.0.0.0:8080 --password-file ~/.face-clean-password",
    "face-clean watch ./photos --serve 8080             # the page beside the daemon, which applies its verdicts",
)
CODES = (
    (0, "stopped on request (Ctrl-C, SIGTERM)"),
    (2, "bad usage: a public address without a password, a port in use, a folder inside DIR"),
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
    running = start(layout, settings(address, password_file, thumb_size), LockedActor(layout, invocation.text()))
    click.echo(f"face-clean: the review page of {layout.root} is at {running.url} (Ctrl-C stops it)")
    stop = threading.Event()
    with stop_on_signals(stop):
        while not stop.wait(0.5):
            pass
    running.stop()
    sys.exit(EXIT_OK)
