"""``face-clean watch`` (the daemon) and ``face-clean health`` (its container health check)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cleaner.cli import EXIT_OK, EXIT_PARTIAL, FolderArgs, build_analyzer, fail, main, model_errors, state_errors
from cleaner.cli_options import folder_options


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
    summary_every: float,
    **options: Any,
) -> None:
    """Keep DIRECTORY clean: decide every file that arrives, once it is complete.

    On start it catches up with files that arrived while it was not running; SIGTERM or
    SIGINT stop it cleanly (exit 0) and a restart repeats nothing.
    """
    from cleaner import logs

    args = FolderArgs(**options)
    logs.setup(log_format, args.verbose, args.quiet)
    rs = args.rules()
    from cleaner.audit import AuditLog
    from cleaner.daemon import Daemon, WatchOptions, check_heartbeat, log_decision
    from cleaner.job import Job
    from cleaner.lock import lock_layout
    from cleaner.state import StateDB
    from cleaner.statedir import prepare

    layout = args.layout()
    options = WatchOptions(
        settle=settle,
        rescan=rescan * 60,
        polling=polling,
        heartbeat=_beside_resolved(heartbeat or layout.audit_log.with_name("heartbeat")),
        summary_every=summary_every * 60,
        recursive=args.recursive,
    )
    prepare(layout)  # checked before anything is written there (cleaner.statedir)
    if options.heartbeat is not None:
        check_heartbeat(options.heartbeat)
    with lock_layout(layout, "watch", args.dry_run), StateDB(layout.state_db) as state:
        analyzer = build_analyzer(rs, state, args.verbose, layout.root)
        with AuditLog(layout.audit_log) as audit:
            job = Job(rs, layout, analyzer, state, audit, args.dry_run, on_record=log_decision)
            Daemon(job, options).run()
    sys.exit(EXIT_OK)  # stopped on request; failures of single files are in the audit log


def _beside_resolved(path: Path) -> Path:
    """Its folder resolved, not the file itself: a link planted as the heartbeat is refused, not followed."""
    return path.parent.resolve() / path.name


@main.command()
@click.argument("heartbeat", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--max-age", type=click.FloatRange(min=1), default=120.0, show_default=True, help="Seconds.")
def health(heartbeat: Path, max_age: float) -> None:
    """Exit 0 when the watch daemon's HEARTBEAT file is fresh, 1 when it is stale or missing."""
    from cleaner.daemon import heartbeat_age

    age = heartbeat_age(heartbeat)
    if age is None:
        fail(f"no heartbeat at {heartbeat}", EXIT_PARTIAL)
    if age > max_age:
        fail(f"heartbeat {heartbeat} is {age:.0f} s old (more than {max_age:.0f} s)", EXIT_PARTIAL)
    click.echo(f"healthy: heartbeat {age:.0f} s old")
