"""``face-clean restore``: the options that select what to put back, and what the user is told
(what is restored, and how: cleaner.pipeline.restore).

- **A selection is required** (``--all``, a filter, or FILEs): a bare command line that moves
  everything back is a mistake waiting to happen. ``--all`` beside a filter is refused as well:
  one of the two is not meant.
- ``--since``/``--until`` take ISO 8601 (local time unless an offset is given) or a span back from
  now (``90m``, ``2h``, ``3d``).
- **Where to look** is what ``run`` was given, remembered for the folder (cleaner.settings): the
  quarantine, review folder and audit log need no repeating.
- **A filter that matches nothing** (``--reason nofaces``) says which values exist.
- **A restored photo is kept for good**: it gets a person's keep verdict (``--no-verdict``: none).
- **Exit codes as run's**: 0 everything selected is back, or nothing was left to do (a second
  restore); 1 something was skipped (conflict, missing, changed, refused, failed), a FILE is
  unknown, or a --reason, --rule or --run names nothing ever moved out; 2 bad usage, no audit log;
  5 the folder is in use; 130 interrupted (after a whole file).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from cleaner.cli import invocation, logs
from cleaner.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail
from cleaner.cli.help import IN_USE, INTERRUPTED, OK, USAGE, epilog
from cleaner.cli.options import location_options, remembered_layout
from cleaner.cli.output import JsonLines, Terminal
from cleaner.fs.names import shown
from cleaner.fs.yaml_fields import did_you_mean
from cleaner.pipeline.restore.restorer import RestoreSummary
from cleaner.pipeline.restore.selection import FileArg, Selection, parse_time

SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeParam(click.ParamType[datetime]):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        span = SPAN.fullmatch(str(value).strip())
        if span:
            return datetime.now(timezone.utc) - timedelta(seconds=float(span[1]) * SECONDS[span[2]])
        t = parse_time(value)
        if t is None:
            self.fail(
                f"{value!r} is not a time: give ISO 8601 (2026-11-23, 2026-11-23T08:30) or a span (2h, 3d)", param, ctx
            )
        return t


EXAMPLES = (
    "face-clean restore ./photos --all --dry-run        # show what would come back",
    "face-clean restore ./photos --run 3f2a9c8e1b7d     # undo one run (face-clean runs ./photos lists them)",
    "face-clean restore ./photos --reason not-man       # everything a rule's reason sent away",
    "face-clean restore ./photos --since 2h             # undo the last two hours",
    "face-clean restore ./photos holiday/coffee.jpg     # one file: its old path, or its path in the quarantine",
)
CODES = (
    OK,
    (1, "some files were skipped (conflict, missing, changed), a FILE is unknown, or a filter names nothing"),
    USAGE,
    IN_USE,
    INTERRUPTED,
)


@click.command(epilog=epilog(EXAMPLES, CODES))
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("files", metavar="[FILE]...", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Restore every file moved out of DIRECTORY.")
@click.option("--run", "run_ids", multiple=True, metavar="RUN_ID", help="Files this run moved out; repeatable.")
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    metavar="REASON",
    help="Files moved for this reason (their subfolder); repeatable.",
)
@click.option("--rule", "rule_names", multiple=True, metavar="NAME", help="Files the rule NAME moved; repeatable.")
@click.option("--path", "globs", multiple=True, metavar="GLOB", help="Recorded paths matching GLOB ('*' crosses '/').")
@click.option("--since", type=TimeParam(), help="Files moved out at or after TIME (ISO 8601, or a span: 2h, 3d).")
@click.option("--until", type=TimeParam(), help="Files moved out before TIME.")
@click.option("--rename", is_flag=True, help="Put a file whose name is taken back as 'name (1).jpg' (default: skip).")
@location_options
@click.option("--dry-run", is_flag=True, help="Print what would be restored; move and write nothing.")
@click.option(
    "--no-verdict",
    is_flag=True,
    help="Give no keep verdict: run and watch decide the restored photos again under the rules.",
)
@click.option("-v", "--verbose", count=True, help="Also print where each file is taken from.")
@click.option("-q", "--quiet", is_flag=True, help="Only problems; no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines: each file, and a summary.")
def restore(
    directory: Path,
    files: tuple[str, ...],
    quarantine: Path | None,
    review_dir: Path | None,
    audit_log: Path | None,
    rename: bool,
    dry_run: bool,
    no_verdict: bool,
    verbose: int,
    quiet: bool,
    as_json: bool,
    **filters: Any,
) -> None:
    """Put files moved out of DIRECTORY back where the audit log says they came from.

    \b
    FILE: a photo's recorded path below DIRECTORY, or its path in the quarantine or review folder;
    relative to DIRECTORY (not to the current directory), or absolute. Paths are read the same way by
    verdict, and report shows them so.
    Nothing is overwritten: a taken name is reported and skipped (or, with --rename, used as
    'name (1).jpg'). Each restored photo gets a keep verdict, so that run and watch leave it
    where it is (--no-verdict: none). The quarantine, review folder and audit log are those run
    used, remembered for DIRECTORY; give them only to look elsewhere.
    """
    from cleaner.commands.restore import restore as restore_selected

    logs.setup(verbose, quiet)
    layout = remembered_layout(directory, quarantine, review_dir, audit_log, tell=not quiet and not as_json)
    selection = Selection(
        filters["everything"],
        frozenset(filters["reasons"]),
        frozenset(filters["rule_names"]),
        tuple(filters["globs"]),
        filters["since"],
        filters["until"],
        tuple(FileArg.parse(f, layout) for f in files),
        frozenset(filters["run_ids"]),
    )
    problem = selection.problem()
    if problem:
        fail(problem, EXIT_USAGE)
    if not layout.audit_log.is_file():
        fail(f"no audit log at {layout.audit_log}: nothing was moved out of {layout.root}", EXIT_USAGE)
    output = JsonLines(layout, verbose) if as_json else Terminal(layout, verbose, quiet, dry_run)
    from cleaner.cli.verdict import os_user

    who = None if no_verdict else os_user()
    summary = restore_selected(layout, selection, rename, dry_run, output, who, invocation.text())
    unknown = _matched_nothing(selection, summary)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if summary.complete and not unknown else EXIT_PARTIAL)


def _matched_nothing(selection: Selection, s: RestoreSummary) -> bool:
    """When nothing matched: say, for each filter, which values there are. True when a value given
    names nothing ever moved out of the folder (a typo: exit 1)."""
    if s.results or s.interrupted or not (selection.reasons or selection.rules or selection.runs):
        return False
    unknown = False
    for name, given in (("reason", selection.reasons), ("rule", selection.rules), ("run", selection.runs)):
        pending, ever = s.pending_by.get(name, Counter()), s.ever.get(name, set())
        for value in sorted(given):
            if value in ever:
                continue  # moved out once, restored since: nothing left to do
            unknown = True
            left = ", ".join(f"{k} ({n})" for k, n in sorted(pending.items())) or "none (nothing is moved out)"
            hint = did_you_mean(value, ever)
            text = f"no file was ever moved out for --{name} {value!r}{hint}; still moved out, by {name}: {left}"
            click.echo(shown(text), err=True)
    return unknown
