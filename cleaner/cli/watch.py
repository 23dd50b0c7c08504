"""``face-clean watch`` (the daemon) and ``face-clean health`` (its container health check)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from cleaner.cli import EXIT_OK, EXIT_PARTIAL, FolderArgs, build_analyzer, fail, main, model_errors, state_errors
from cleaner.cli.options import folder_options

log = logging.getLogger("face-clean")


@main.command()
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
    "--summary-every",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Minutes between counter summaries in the log (0: never).",
)
@model_errors
@state_errors
def watch(
    polling: bool,
    settle: float,
    rescan: float,
    log_format: str,
    heartbeat: Path | None,
    on_folder_gone: str,
    summary_every: float,
    **options: Any,
) -> None:
    """Keep DIRECTORY clean: decide every file that arrives, once it is complete.

    On start it catches up with files that arrived while it was not running; SIGTERM or
    SIGINT stop it cleanly (exit 0) and a restart repeats nothing.  If DIRECTORY is deleted,
    renamed or unmounted, it stops with exit code 1 (or waits for it: --on-folder-gone wait).
    """
    from cleaner.cli import logs

    args = FolderArgs(**options)
    logs.setup(log_format, args.verbose, args.quiet)
    rs = args.rules()
    from cleaner.errors import FolderGone
    from cleaner.watch.loop import WatchOptions

    layout = args.layout()
    options = WatchOptions(
        settle=settle,
        rescan=rescan * 60,
        polling=polling,
        heartbeat=_beside_resolved(heartbeat or layout.heartbeat),
        summary_every=summary_every * 60,
        recursive=args.recursive,
    )
    while True:
        try:
            _watch(args, rs, layout, options)
        except FolderGone as gone:
            if on_folder_gone == "exit":
                log.error("%s: stopped", gone)
                sys.exit(EXIT_PARTIAL)
            if not _wait_for_folder(layout.root, options.heartbeat, str(gone)):
                break
            continue
        break
    sys.exit(EXIT_OK)  # stopped on request; failures of single files are in the audit log


def _watch(args: FolderArgs, rs: Any, layout: Any, options: Any) -> None:
    """One life of the daemon, locks, state and audit log held; raises FolderGone if the folder goes."""
    from cleaner.errors import FolderGone
    from cleaner.pipeline.audit import AuditLog
    from cleaner.pipeline.job import Job
    from cleaner.pipeline.lock import lock_layout
    from cleaner.pipeline.state.db import StateDB
    from cleaner.pipeline.state.folders import prepare
    from cleaner.watch.heartbeat import check_heartbeat
    from cleaner.watch.loop import Daemon, log_decision
    from cleaner.watch.root_guard import RootGuard

    try:
        guard = RootGuard(layout.root)
    except OSError as err:  # gone again as it came back
        raise FolderGone(f"the watched folder {layout.root} cannot be opened ({err.strerror})") from None
    try:
        prepare(layout)  # checked before anything is written there (cleaner.pipeline.state.folders)
        if options.heartbeat is not None:
            check_heartbeat(options.heartbeat)
        with lock_layout(layout, "watch", args.dry_run), StateDB(layout.state_db) as state:
            analyzer = build_analyzer(rs, state, args.verbose, layout.root)
            with AuditLog(layout.audit_log) as audit:
                job = Job(rs, layout, analyzer, state, audit, args.dry_run, on_record=log_decision)
                Daemon(job, options, guard).run()
    except Exception as err:
        gone = guard.gone()  # the state and audit log may have gone with the folder: say what happened
        if gone is not None and not isinstance(err, FolderGone):
            raise FolderGone(gone) from None
        raise
    finally:
        guard.close()


def _wait_for_folder(root: Path, heartbeat: Path | None, problem: str) -> bool:
    """Until ``root`` is a folder again (True), or SIGTERM/SIGINT (False); the heartbeat says why."""
    import threading

    from cleaner.pipeline.job import stop_on_signals
    from cleaner.watch.heartbeat import Heartbeat

    log.warning("%s; waiting for it to come back", problem)
    beat, stop = Heartbeat(heartbeat), threading.Event()
    with stop_on_signals(stop):
        while not stop.is_set():
            beat.beat({"stopped": False, "problem": f"{problem}; waiting for it to come back"})
            if root.is_dir() and not root.is_symlink():
                log.warning("%s is back: watching it again", root)
                beat.close()
                return True
            stop.wait(1.0)
    beat.beat({"stopped": True, "reason": f"stopped on request while waiting: {problem}"}, force=True)
    beat.close()
    return False


def _beside_resolved(path: Path) -> Path:
    """Its folder resolved, not the file itself: a link planted as the heartbeat is refused, not followed."""
    return path.parent.resolve() / path.name


@main.command()
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
