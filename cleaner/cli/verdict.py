"""``face-clean verdict keep|reject|withdraw DIR FILE...`` and ``face-clean verdict list DIR``: a person's
verdicts from the command line (what they do: cleaner.pipeline.verdicts).

Exit codes as restore's: 0 every FILE done (or, with --dry-run, would be); 1 some FILE could not be
(unknown, unreadable, a move that failed); 2 bad usage, or the folder is in use (a run or watch holds
it: use the review page of ``watch --serve``, or stop it).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cleaner.cli import events, invocation, logs
from cleaner.cli.exits import EXIT_OK, EXIT_PARTIAL
from cleaner.cli.help import IN_USE, OK, USAGE, epilog
from cleaner.cli.options import location_options, remembered_layout
from cleaner.fs.names import shown
from cleaner.paths import Layout
from cleaner.pipeline.verdicts.apply import Applied

DONE = {"keep": "kept", "reject": "rejected", "withdraw": "left to the rules:"}


def os_user() -> str:
    """Who gives a verdict from the command line: the OS user (a container's uid may have no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def layout_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """DIR, where run put files and its log (remembered for DIR), and --json."""
    f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line.")(f)
    f = location_options(f)
    return click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))(f)


EXAMPLES = {
    "keep": "face-clean verdict keep ./photos holiday/IMG_0002.HEIC   # back from the quarantine, for good",
    "reject": "face-clean verdict reject ./photos IMG_0007.jpg --dry-run   # what would move",
    "withdraw": "face-clean verdict withdraw ./photos IMG_0007.jpg   # the rules decide it again",
    "list": "face-clean verdict list ./photos --json",
}
ACT_CODES = (OK, (1, "some FILEs are unknown, or their verdict could not be applied"), USAGE, IN_USE)
LIST_CODES = (OK, USAGE)


@click.group(epilog=epilog(tuple(EXAMPLES.values()), ACT_CODES))
def verdict() -> None:
    """A person's verdicts, which outrank every rule: keep or reject photos for good, list them, withdraw them.

    \b
    A verdict holds for the photo's content (sha256) wherever it is in DIR; run and watch apply it
    before any rule. keep brings a photo back from the quarantine or review folder; reject moves it
    to the quarantine (under 'rejected'); withdraw lets the rules decide again on the next run.
    """


def _act(action: str) -> click.Command:
    @click.command(
        action,
        help=f"{action.capitalize()}: FILEs in DIR, its quarantine or its review folder.\n\n"
        "A FILE is relative to DIR (not to the current directory), or absolute: the same rule as restore's.",
        epilog=epilog((EXAMPLES[action],), ACT_CODES),
    )
    @layout_options
    @click.argument("files", metavar="FILE...", nargs=-1, required=True)
    @click.option("--dry-run", is_flag=True, help="Print what would happen; store, move and write nothing.")
    def command(
        directory: Path,
        files: tuple[str, ...],
        quarantine: Path | None,
        review_dir: Path | None,
        audit_log: Path | None,
        as_json: bool,
        dry_run: bool,
    ) -> None:
        from cleaner.commands.verdict import give

        logs.setup(0, False)
        layout = remembered_layout(directory, quarantine, review_dir, audit_log, tell=not as_json)
        results = give(layout, list(files), action, os_user(), dry_run, invocation.text())
        for r in results:
            _say(r, layout, as_json, dry_run)
        sys.exit(EXIT_OK if all(not isinstance(r, str) and r.ok for r in results) else EXIT_PARTIAL)

    return command


def _say(r: Applied | str, layout: Layout, as_json: bool, dry_run: bool) -> None:
    if isinstance(r, str):
        if as_json:
            click.echo(events.VerdictUnknown("unknown", r).line())
        else:
            click.echo(f"unknown: {shown(r)}", err=True)
        return
    if as_json:
        where = str(r.destination) if r.destination else None
        result = "done" if r.ok else "failed"
        click.echo(events.VerdictGiven(r.action, r.target.relpath, result, r.moved, where, r.detail, dry_run).line())
        return
    verb = ("would be " if dry_run else "") + DONE[r.action]
    if not r.ok:
        click.echo(f"failed: {shown(r.target.relpath)}: {shown(r.detail)}", err=True)
        return
    where = f" -> {shown(str(r.destination))}" if r.moved or (dry_run and r.destination != r.target.path) else ""
    click.echo(f"{verb} {shown(r.target.relpath)}{where}")


@click.command("list", epilog=epilog((EXAMPLES["list"],), LIST_CODES))
@layout_options
def list_verdicts(
    directory: Path, quarantine: Path | None, review_dir: Path | None, audit_log: Path | None, as_json: bool
) -> None:
    """Every verdict, with who gave it, when, and where its photo is now."""
    from cleaner.commands.verdict import listing

    logs.setup(0, False)
    layout = remembered_layout(directory, quarantine, review_dir, audit_log, tell=not as_json)
    for v, places in listing(layout):
        if as_json:
            click.echo(events.VerdictListed(v.sha256, v.verdict, v.who, v.time, v.reason, list(places)).line())
        else:
            at = ", ".join(shown(p) for p in places) or "(not in the folder's audit log)"
            click.echo(f"{v.verdict:<7} {v.time[:19].replace('T', ' ')}  {shown(v.who)}  {at}")
    sys.exit(EXIT_OK)


for _name in ("keep", "reject", "withdraw"):
    verdict.add_command(_act(_name))
verdict.add_command(list_verdicts)
