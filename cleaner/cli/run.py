"""``face-clean run`` (every file of a folder, once) and ``face-clean check`` (the rules in words)."""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import click

from cleaner.cli import logs
from cleaner.cli.cluster_options import ClusterArgs, cluster_options
from cleaner.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail
from cleaner.cli.options import FolderArgs, folder_options, load_rules
from cleaner.cli.output import JsonLines, Terminal
from cleaner.rules.describing import describe
from cleaner.rules.model import KEEP_CHOICES

log = logging.getLogger("face-clean")


@click.command()
@folder_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines: a summary (and each decision with -v).")
@cluster_options
def run(as_json: bool, **options: Any) -> None:
    """Analyse every image in DIRECTORY once and apply the rules."""
    from cleaner.analysis.protocol import Analyzer
    from cleaner.pipeline.run import run_once
    from cleaner.pipeline.session import local_analyzer, open_job
    from cleaner.pipeline.state.db import StateDB

    cluster = ClusterArgs.pop_from(options)
    args = FolderArgs(**options)
    logs.setup(args.verbose, args.quiet)
    problem = cluster.problem()
    if problem:
        fail(problem, EXIT_USAGE)
    rs = args.rules()
    layout = args.layout()
    log.debug(describe(rs))

    def analyzer(state: StateDB) -> AbstractContextManager[Analyzer]:
        local = local_analyzer(rs, state, args.verbose, layout.root)
        return nullcontext(local) if cluster.cluster is None else cluster.analyzer(local, args.verbose > 0, state)

    output = JsonLines(layout, args.verbose) if as_json else Terminal(layout, args.verbose, args.quiet)
    try:
        with open_job(rs, layout, analyzer, "run", args.dry_run, output) as job:
            summary = run_once(job, args.recursive)
    finally:
        output.close()
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_PARTIAL if summary.failed else EXIT_OK)


@click.command()
@click.argument("rules_path", metavar="[RULES]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keep", type=click.Choice(KEEP_CHOICES), help="Show the rules --keep would use.")
def check(rules_path: Path | None, keep: str | None) -> None:
    """Validate a rules file and print the rules as the engine understands them."""
    click.echo(describe(load_rules(rules_path, keep)))
