"""``face-clean report``: write one self-contained HTML page of the folder or a run (its data: cleaner.report)."""

from __future__ import annotations

from pathlib import Path

import click

from cleaner.cli import logs
from cleaner.cli.exits import EXIT_USAGE, fail
from cleaner.cli.help import OK, USAGE, epilog
from cleaner.cli.options import layout_for, tell_settings
from cleaner.settings.resolve import resolve

EXAMPLES = (
    "face-clean report ./photos                  # every file's current state: ./photos/.face-clean/report.html",
    "face-clean report ./photos --run 3f2a9c8e1b7d -o run.html   # one run (face-clean runs ./photos lists them)",
)


@click.command(epilog=epilog(EXAMPLES, (OK, USAGE)))
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The audit log the run wrote (default: the one remembered for DIR, else DIR/.face-clean/audit.jsonl); "
    "its state database caches thumbnails.",
)
@click.option(
    "--run", "run_id", metavar="RUN_ID", help="Show one run (default: every file's current state, across runs)."
)
@click.option("--all-runs", is_flag=True, hidden=True, help="The default: every file's latest record.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (default: report.html beside the audit log).",
)
@click.option(
    "--thumb-size",
    type=click.IntRange(32, 1024),
    default=160,
    show_default=True,
    help="Longest side of the thumbnails, in pixels.",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(1),
    default=200_000_000,
    show_default=True,
    help="Bigger images get no thumbnail (checked from the header, as the rules' max_pixels).",
)
def report(
    directory: Path,
    audit_log: Path | None,
    run_id: str | None,
    all_runs: bool,
    output: Path | None,
    thumb_size: int,
    max_pixels: int,
) -> None:
    """Write one self-contained HTML page of the folder: every file's thumbnail with its face boxes, the
    rule (or the person) that decided and where it is now, grouped by outcome, with filters and counts.
    By default each file's current state, across runs; --run ID shows one run. No model is run."""
    from cleaner.report.collect import collect
    from cleaner.report.page import page_data, render, write

    logs.setup(0, False)  # warnings (lines of the log that are not records) reach stderr
    if run_id and all_runs:
        fail("--run and --all-runs exclude each other", EXIT_USAGE)
    settings = resolve(directory, {"audit_log": audit_log})
    tell_settings(settings, remembering=False, names=("audit_log",))
    layout = layout_for(directory, settings)
    chosen = output is not None
    output = (output or layout.report).absolute()
    try:
        result = collect(layout.audit_log, run_id, thumb_size, max_pixels)
    except OSError as err:  # (a ReportError, nothing to report, is the table's: cleaner.cli.exits)
        fail(f"cannot read the audit log {layout.audit_log}: {err.strerror or err}", EXIT_USAGE)
    html = render(page_data(result, layout.audit_log, thumb_size))
    try:
        write(html, output, chosen)
    except OSError as err:
        fail(f"cannot write the report {output}: {err.strerror or err}; choose another place with -o", EXIT_USAGE)
    counts = ", ".join(f"{name} {n}" for name, n in result.outcomes.items())
    click.echo(f"report of {'run ' if run_id else ''}{result.run}: {sum(result.outcomes.values())} files ({counts})")
    if result.verdicts:
        click.echo("  by a person: " + ", ".join(f"{n} {what}" for what, n in sorted(result.verdicts.items())))
    click.echo(
        f"  thumbnails: {result.made} made, {result.cached} from the cache; {result.placeholders} files without one"
    )
    click.echo(f"  {output} ({len(html.encode()) / 1e6:.1f} MB)")
