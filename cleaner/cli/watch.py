"""``face-clean watch`` (the daemon) and ``face-clean health`` (its container health check)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from cleaner.cli import invocation, logs
from cleaner.cli.exits import EXIT_OK, EXIT_PARTIAL, fail
from cleaner.cli.help import IN_USE, MODELS, USAGE, epilog
from cleaner.cli.options import FolderArgs, folder_options, layout_for, remembered_now, rules_for, tell_settings
from cleaner.cli.output import LogLines
from cleaner.cli.serve import page_options
from cleaner.cli.serve import settings as serve_settings
from cleaner.rules.lint import never_matching

log = logging.getLogger("face-clean")


WATCH_EXAMPLES = (
    "face-clean watch ./uploads --keep Man                  # inotify: a local disk, the NAS's own volumes",
    "face-clean watch /mnt/share --keep Man --polling       # NFS, SMB/CIFS, FUSE mounts",
    "face-clean watch ./uploads                             # after a run: its policy and folders are remembered",
    "face-clean watch /photos --rules /config/rules.yaml --quarantine /quarantine --log-format json",
)
WATCH_CODES = (
    (0, "stopped on request (SIGTERM, SIGINT); files that failed are in the audit log"),
    (1, "the watched folder was deleted, renamed or unmounted (see --on-folder-gone)"),
    USAGE,
    MODELS,
    IN_USE,
)


@click.command(epilog=epilog(WATCH_EXAMPLES, WATCH_CODES))
@folder_options
@click.option("--polling", is_flag=True, help="Poll for changes (NFS, SMB and FUSE mounts give no inotify events).")
@click.option(
    "--settle",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds a file's size and mtime must stay unchanged before it is analysed "
    "(inotify's close-after-write event ends the wait early).",
)
@click.option(
    "--rescan",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Minutes between full rescans that catch anything events missed (0: never).",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File rewritten every 10 s while healthy (default: beside the audit log).",
)
@click.option(
    "--on-folder-gone",
    type=click.Choice(["exit", "wait"]),
    default="exit",
    show_default=True,
    help="When DIRECTORY is deleted, renamed or unmounted: stop with exit code 1, or wait for it to come back.",
)
@click.option(
    "--serve",
    "serve_at",
    metavar="[HOST:]PORT",
    help="Also serve the review page here (the daemon applies its verdicts); any host but 127.0.0.1 needs a password.",
)
@page_options
@click.option(
    "--summary-every",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Minutes between counter summaries in the log (0: never).",
)
def watch(
    polling: bool,
    settle: float,
    rescan: float,
    log_format: str,
    heartbeat: Path | None,
    on_folder_gone: str,
    summary_every: float,
    serve_at: str | None,
    password_file: Path | None,
    thumb_size: int,
    public_url: str | None,
    trusted_proxy: str | None,
    **options: Any,
) -> None:
    """Keep DIRECTORY clean: decide every file that arrives, once it is complete.

    A policy is required, as for run (--keep, --rules, or one remembered for DIRECTORY).
    On start it catches up with files that arrived while it was not running; SIGTERM or
    SIGINT stop it cleanly (exit 0) and a restart repeats nothing.  If DIRECTORY is deleted,
    renamed or unmounted, it stops with exit code 1 (or waits for it: --on-folder-gone wait).
    """
    from cleaner.commands.session import on_this_machine
    from cleaner.watch.loop import WatchOptions
    from cleaner.watch.service import watch as watch_folder

    args = FolderArgs(**options)
    logs.setup(args.verbose, args.quiet, daemon=True, log_format=log_format)
    page = (  # refused: before anything
        None
        if serve_at is None
        else serve_settings(serve_at, password_file, thumb_size, public_url, trusted_proxy, options["directory"])
    )
    settings = args.settings()
    rs = rules_for(settings, require_policy=True)
    layout = layout_for(args.directory, settings, writing=True)
    tell_settings(settings, remembering=not args.dry_run)
    for warning in never_matching(rs):
        log.warning("%s", warning)
    options_ = WatchOptions(
        settle=settle,
        rescan=rescan * 60,
        polling=polling,
        heartbeat=_beside_resolved(heartbeat or layout.heartbeat),
        summary_every=summary_every * 60,
        recursive=args.recursive,
    )
    models = on_this_machine(rs, args.verbose, layout.root)
    inbox = None
    running = None
    if page is not None:
        from cleaner.pipeline.verdicts.inbox import Inbox
        from cleaner.serve.actors import InboxActor
        from cleaner.serve.server import start

        inbox = Inbox()
        running = start(layout, page, InboxActor(inbox))
    try:
        watch_folder(
            rs,
            layout,
            models,
            options_,
            args.dry_run,
            LogLines(),
            on_folder_gone == "wait",
            lambda job: remembered_now(settings, layout, job.run_id, "watch", args.dry_run),
            invocation.text(),
            inbox,
        )
    finally:
        if running is not None:
            running.stop()
    sys.exit(EXIT_OK)  # stopped on request; failures of single files are in the audit log


def _beside_resolved(path: Path) -> Path:
    """Its folder resolved, not the file itself: a link planted as the heartbeat is refused, not followed."""
    return path.parent.resolve() / path.name


@click.command(
    epilog=epilog(
        (
            "face-clean health ./photos/.face-clean/heartbeat",
            "face-clean health /state/heartbeat --max-age 120   # the container's health check",
        ),
        ((0, "the daemon runs and is healthy"), (1, "unhealthy, stopped, or no heartbeat")),
    )
)
@click.argument("heartbeat", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-age", type=click.FloatRange(min=1), default=120.0, show_default=True, help="Seconds.")
def health(heartbeat: Path, max_age: float) -> None:
    """Exit 0 when the watch daemon is healthy, 1 when its HEARTBEAT file is stale or missing,
    says it stopped or has a problem (moves that keep failing, its folder gone), or names a
    process on this machine that is not running."""
    from cleaner.watch.heartbeat import health as check

    healthy, message = check(heartbeat, max_age)
    if not healthy:
        fail(message, EXIT_PARTIAL)
    click.echo(message)
