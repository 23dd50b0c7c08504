"""``face-clean restore``: which files to put back, and what the user is told (the moves: ``restore.py``).

- **A selection is required** (``--all``, a filter, or FILEs): a bare command line that moves
  everything back is a mistake waiting to happen. ``--all`` beside a filter is refused as well:
  one of the two is not meant.
- **FILE** is a photo's path as recorded (below DIR), its old path (absolute or from the current
  folder), or its path in the quarantine or review folder: whichever reading the log knows.
- **Filters combine with "and"**, repeated values of one filter with "or". ``--path`` globs match
  the recorded path, ``*`` crossing ``/``. ``--since``/``--until`` select by when the file was moved
  out: ISO 8601 (local time unless an offset is given) or a span back from now (``90m``, ``2h``,
  ``3d``); since inclusive, until exclusive, so consecutive ranges never overlap.
- **A dry run writes nothing**, not even dry-run records: its plan is its output, and the audit log
  stays a record of what was done to files. Like run's, it locks the folder and the log's folder only.
- **Exit codes as run's**: 0 everything selected is back, or nothing was left to do (a second
  restore); 1 something was skipped (conflict, missing, changed, refused, failed) or a FILE is
  unknown; 2 bad usage, no audit log, a folder in use; 130 interrupted (after a whole file).
- **A restored file is new to run and watch**: the next run, or watch when it starts, decides it
  again under the rules then in force. Restore undoes moves; to keep a photo for good, change the rules.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import click

from cleaner.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    _setup_logging,
    fail,
    main,
    open_layout,
    state_errors,
)
from cleaner.fs.names import shown

if TYPE_CHECKING:  # imported where used: every face-clean command loads this module, few need numpy
    from cleaner.paths import Layout
    from cleaner.pipeline.restore.restorer import Candidate, LogView, Result

SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time, a naive one read as local time; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))  # Python 3.10 reads no "Z"
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


class TimeParam(click.ParamType):
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


@dataclass(frozen=True)
class FileArg:
    """One FILE of the command line and the recorded paths, or the quarantined file, it may name."""

    text: str
    paths: frozenset[str]
    source: str | None  # the real path of a file in the quarantine or review folder

    @classmethod
    def parse(cls, text: str, layout: Layout) -> FileArg:
        from cleaner.pipeline.journal import within

        real = os.path.realpath(text)
        paths = set() if os.path.isabs(text) else {PurePosixPath(text).as_posix()}
        if any(within(real, f) for f in (layout.quarantine, layout.review)):
            return cls(text, frozenset(paths), real)
        if within(real, layout.root):
            paths.add(Path(real).relative_to(os.path.realpath(layout.root)).as_posix())
        return cls(text, frozenset(paths), None)

    def matches(self, c: Candidate) -> bool:
        return c.relpath in self.paths or (self.source is not None and os.path.realpath(c.source) == self.source)


@dataclass(frozen=True)
class Selection:
    """What to restore: the values of one filter are alternatives, different filters must all hold."""

    everything: bool = False
    reasons: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive, on the time of the move out
    until: datetime | None = None  # exclusive
    files: tuple[FileArg, ...] = ()

    @property
    def filtered(self) -> bool:
        return bool(self.reasons or self.rules or self.globs or self.files or self.since or self.until)

    def matches(self, c: Candidate) -> bool:
        moved_at = parse_time(c.time)
        return (
            (not self.reasons or c.reason in self.reasons)
            and (not self.rules or c.rule in self.rules)
            and (not self.globs or any(fnmatch.fnmatchcase(c.relpath, g) for g in self.globs))
            and (self.since is None or (moved_at is not None and moved_at >= self.since))
            and (self.until is None or (moved_at is not None and moved_at < self.until))
            and (not self.files or any(f.matches(c) for f in self.files))
        )


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("files", metavar="[FILE]...", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Restore every file moved out of DIRECTORY.")
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
@click.option(
    "--quarantine", type=click.Path(file_okay=False, path_type=Path), help="As given to run (files come from it)."
)
@click.option("--review-dir", type=click.Path(file_okay=False, path_type=Path), help="As given to run.")
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="As given to run (default DIR/.face-clean/audit.jsonl).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be restored; move and write nothing.")
@click.option("-v", "--verbose", count=True, help="Also print where each file is taken from.")
@click.option("-q", "--quiet", is_flag=True, help="Only problems; no summary.")
@state_errors
def restore(
    directory: Path,
    files: tuple[str, ...],
    quarantine: Path | None,
    review_dir: Path | None,
    audit_log: Path | None,
    rename: bool,
    dry_run: bool,
    verbose: int,
    quiet: bool,
    **filters: Any,
) -> None:
    """Put files moved out of DIRECTORY back where the audit log says they came from.

    \b
    FILE: a photo's recorded path below DIRECTORY, or its path in the quarantine or review folder.
    Nothing is overwritten: a taken name is reported and skipped (or, with --rename, used as
    'name (1).jpg'). Exit codes: 0 done or nothing to do; 1 some files skipped; 2 bad usage.
    """
    _setup_logging(verbose, quiet)
    layout = open_layout(directory, quarantine, review_dir, audit_log)
    selection = Selection(
        filters["everything"],
        frozenset(filters["reasons"]),
        frozenset(filters["rule_names"]),
        tuple(filters["globs"]),
        filters["since"],
        filters["until"],
        tuple(FileArg.parse(f, layout) for f in files),
    )
    if not (selection.everything or selection.filtered):
        fail("nothing selected: name FILEs, or use --reason, --rule, --path, --since, --until or --all", EXIT_USAGE)
    if selection.everything and selection.filtered:
        fail("--all restores every file: leave it out to restore only the files you chose", EXIT_USAGE)
    if selection.since and selection.until and selection.since >= selection.until:
        fail("--since must be earlier than --until", EXIT_USAGE)
    if not layout.audit_log.is_file():
        fail(f"no audit log at {layout.audit_log}: nothing was moved out of {layout.root}", EXIT_USAGE)
    view, results, interrupted = run_restore(
        layout, selection, rename, dry_run, Printer(layout, dry_run, verbose, quiet)
    )
    sys.exit(finish(layout, selection, view, results, interrupted, dry_run, quiet))


def run_restore(
    layout: Layout, selection: Selection, rename: bool, dry_run: bool, show: Any
) -> tuple[LogView, list[Result], bool]:
    """Under the folder lock: settle an interrupted restore, read the log, restore the selected files in order."""
    from cleaner.pipeline.audit import AuditLog, read
    from cleaner.pipeline.job import stop_on_signals
    from cleaner.pipeline.lock import lock_layout
    from cleaner.pipeline.restore.restorer import RESTORE, Restorer, read_log
    from cleaner.pipeline.state.folders import prepare

    results: list[Result] = []
    stop = threading.Event()
    prepare(layout)  # before anything is written there
    with lock_layout(layout, RESTORE, dry_run):
        restorer = Restorer(layout, None if dry_run else AuditLog(layout.audit_log), rename)
        try:
            for s in restorer.recover():
                click.echo(shown(f"settled an interrupted restore of {s.src}: {s.outcome}"))
            view = read_log(read(layout.audit_log), layout.root)
            with stop_on_signals(stop):
                for c in view.pending:
                    if selection.matches(c):
                        results.append(restorer.restore(c))
                        show(results[-1])
                    if stop.is_set():
                        break
        finally:
            restorer.close()
    return view, results, stop.is_set()


@dataclass(frozen=True)
class Printer:
    """One line per file: restored ones unless -q, problems always."""

    layout: Layout
    dry_run: bool
    verbose: int
    quiet: bool

    def __call__(self, r: Result) -> None:
        from cleaner.fs.move import free_name
        from cleaner.pipeline.restore.restorer import Kind

        c = r.candidate
        if r.kind is Kind.RESTORED:
            if not self.quiet:
                where = r.destination.relative_to(self.layout.root).as_posix() if r.destination else c.relpath
                as_ = "" if where == c.relpath else f" as {where!r}"
                why = f" ({c.reason})" if c.reason else ""
                line = f"{'would restore' if self.dry_run else 'restored'} {c.relpath}{as_}{why}"
                click.echo(shown(line + (f" from {c.source}" if self.verbose else "")))  # names are anyone's
            return
        hint = ""
        if r.kind is Kind.CONFLICT and r.destination is not None:
            hint = f" (--rename puts it back as {free_name(r.destination).name!r})"
        click.echo(shown(f"{r.kind.value}: {c.relpath or c.source}: {r.detail}{hint}"))


def finish(
    layout: Layout, sel: Selection, view: LogView, results: list[Result], interrupted: bool, dry_run: bool, quiet: bool
) -> int:
    """The FILEs the log does not know, the summary, and the exit code."""
    from cleaner.pipeline.restore.restorer import Kind

    unknown = False
    for f in sel.files:
        if not any(f.matches(c) for c in view.pending):
            done = next((view.restored[k] for k in [*f.paths, f.source] if k in view.restored), None)
            unknown = unknown or done is None
            if done is None:
                nowhere = f"the audit log has no file moved out of {layout.root} by that name"
                click.echo(shown(f"not found: {f.text}: {nowhere}"))
            elif not quiet:
                click.echo(shown(f"already restored: {f.text} (to {done})"))
    kinds = Counter(r.kind for r in results)
    if not quiet:
        by_reason = Counter(r.candidate.reason or "-" for r in results if r.kind is Kind.RESTORED)
        detail = ", ".join(f"{k} {n}" for k, n in sorted(by_reason.items()))
        click.echo(
            f"{'Would restore' if dry_run else 'Restored'}: {kinds[Kind.RESTORED]}" + (f" ({detail})" if detail else "")
        )
        skipped = [f"{k.value}{'s' * (k is Kind.CONFLICT)} {kinds[k]}" for k in Kind if k is not Kind.RESTORED]
        click.echo(f"  skipped: {', '.join(skipped)}")
        if view.other_roots:
            n, roots = view.other_roots.total(), ", ".join(sorted(view.other_roots))
            click.echo(f"  left alone: {n} file{'s' * (n != 1)} moved out of other folders ({roots})")
        if interrupted:
            click.echo("  interrupted: the files not listed above were not looked at")
        click.echo(f"  audit log: {layout.audit_log}")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PARTIAL if unknown or sum(kinds.values()) > kinds[Kind.RESTORED] else EXIT_OK
