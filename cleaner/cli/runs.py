"""``face-clean runs``: the runs on a folder (id, start, end, command line, counts), from the state
database and the audit log (cleaner.settings.history); ``restore --run ID`` undoes one."""

from __future__ import annotations

from pathlib import Path

import click

from cleaner.cli import logs
from cleaner.cli.events import RunListed
from cleaner.cli.help import OK, USAGE, epilog
from cleaner.cli.options import layout_for
from cleaner.fs.names import shown
from cleaner.settings.history import RunInfo, runs
from cleaner.settings.resolve import resolve

EXAMPLES = (
    "face-clean runs ./photos                          # every run on ./photos, oldest first",
    "face-clean runs ./photos --last 5 --json",
    "face-clean restore ./photos --run 3f2a9c8e1b7d    # undo one of them",
    "face-clean report ./photos --run 3f2a9c8e1b7d     # see one of them",
)
ORDER = (
    "kept",
    "quarantined",
    "review",
    "unreadable",
    "skipped",
    "errors",
    "failed_moves",
    "unchanged",
    "restored",
    "withdrawn",
)
# The audit log's outcome words under the state database's names for the same counts
AS_TOTALS = {"error": "errors", "failed move": "failed_moves"}


@click.command("runs", epilog=epilog(EXAMPLES, (OK, USAGE)))
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The audit log (default: the one remembered for DIRECTORY, else DIRECTORY/.face-clean/audit.jsonl).",
)
@click.option("--last", type=click.IntRange(1), help="Only the last N runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def runs_command(directory: Path, audit_log: Path | None, last: int | None, as_json: bool) -> None:
    """List the runs on DIRECTORY: run id, start, end, command line and counts.

    Runs of `run` and `watch` are listed from the state database beside the audit log (with what
    they left unchanged); restores, and runs from before the list was kept, from the audit log.
    """
    logs.setup(0, False)
    layout = layout_for(directory, resolve(directory, {"audit_log": audit_log}))
    found = runs(layout.audit_log, layout.state_db, layout.root)
    if last:
        found = found[-last:]
    if as_json:
        for info in found:
            listed = RunListed(info.run_id, info.started, info.ended, info.command, info.dry_run, counts(info))
            click.echo(listed.line())
        return
    if not found:
        click.echo(f"no runs on {layout.root} in {layout.audit_log} or {layout.state_db}")
        return
    for info in found:
        ended = (info.ended or "")[:19].replace("T", " ") or "(running, or killed)"
        head = f"{info.run_id}  {info.started[:19].replace('T', ' ')} -> {ended} UTC"
        click.echo(shown(f"{head}  {info.command or '(command not recorded)'}"))
        shown_counts = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in counts(info).items() if n)
        click.echo(f"    {shown_counts or 'nothing decided'}{'  (dry run)' if info.dry_run else ''}")


def counts(info: RunInfo) -> dict[str, int]:
    """The state database's totals where it has the run (they count what was left unchanged too),
    else the audit log's records by outcome."""
    if info.totals:
        return {k: info.totals.get(k, 0) for k in ORDER if k in info.totals}
    by = {AS_TOTALS.get(k, k): n for k, n in info.counts.items()}
    return {k: by[k] for k in ORDER if k in by}
