"""``face-clean run`` (every file of a folder, once) and ``face-clean check`` (the rules in words)."""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import click

from cleaner.cli import invocation, logs
from cleaner.cli.cluster_options import ClusterArgs, cluster_options
from cleaner.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail
from cleaner.cli.help import OK, RUN_CODES, USAGE, epilog
from cleaner.cli.options import FolderArgs, folder_options, layout_for, remembered_now, rule_options, rules_for
from cleaner.cli.options import tell_settings as tell
from cleaner.cli.output import JsonLines, Terminal
from cleaner.rules.describing import describe
from cleaner.rules.lint import never_matching
from cleaner.settings.resolve import resolve

log = logging.getLogger("face-clean")

RUN_EXAMPLES = (
    "face-clean run ./photos --keep Man --dry-run   # decide and record; move nothing",
    "face-clean run ./photos --keep Man             # keep photos of men; quarantine the rest",
    "face-clean run ./photos                        # again: the policy and folders are remembered",
    "face-clean run ./photos --rules my-rules.yaml -v   # your rules; one line per file",
    "face-clean run /mnt/photos --keep women --quarantine /mnt/rejects --json",
)


@click.command(epilog=epilog(RUN_EXAMPLES, RUN_CODES))
@folder_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines: a summary (and each decision with -v).")
@cluster_options
def run(as_json: bool, **options: Any) -> None:
    """Analyse every image in DIRECTORY once and apply the policy.

    A policy is required: --keep or --rules (or one remembered for DIRECTORY, or a config file's);
    without one nothing runs and nothing moves. Rejected photos are moved to the quarantine, never
    deleted; every decision is recorded in the audit log. A second run decides only new and
    changed files. The options given here are remembered for DIRECTORY, so that the next run,
    watch, restore, report and runs need no repeats (a dry run remembers nothing):
    `face-clean config DIRECTORY` shows them.
    """
    from cleaner.analysis.protocol import Analyzer
    from cleaner.commands.run import run_once
    from cleaner.commands.session import local_analyzer, open_job
    from cleaner.store.db import StateDB

    cluster = ClusterArgs.pop_from(options)
    args = FolderArgs(**options)
    logs.setup(args.verbose, args.quiet)
    problem = cluster.problem()
    if problem:
        fail(problem, EXIT_USAGE)
    settings = args.settings()
    rs = rules_for(settings, require_policy=True)
    layout = layout_for(args.directory, settings, writing=True)
    if not args.quiet:
        tell(settings, remembering=not args.dry_run)  # a dry run remembers nothing
    for warning in never_matching(rs):
        log.warning("%s", warning)
    log.debug(describe(rs))

    def analyzer(state: StateDB) -> AbstractContextManager[Analyzer]:
        local = local_analyzer(rs, state, args.verbose, layout.root)
        return nullcontext(local) if cluster.cluster is None else cluster.analyzer(local, args.verbose > 0, state)

    output = JsonLines(layout, args.verbose) if as_json else Terminal(layout, args.verbose, args.quiet, args.dry_run)
    try:
        with open_job(rs, layout, analyzer, "run", args.dry_run, output, invocation=invocation.text()) as job:
            remembered_now(settings, layout, job.run_id, "run", args.dry_run)
            summary = run_once(job, args.recursive)
    finally:
        output.close()
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_PARTIAL if summary.failed else EXIT_OK)


CHECK_EXAMPLES = (
    "face-clean check --keep Man              # the rules --keep Man stands for",
    "face-clean check --rules my-rules.yaml   # is my file right, and how does it read?",
    "face-clean check my-rules.yaml --min-confidence 0.9",
)


@click.command(epilog=epilog(CHECK_EXAMPLES, (OK, USAGE)))
@click.argument("rules_path", metavar="[RULES]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@rule_options
def check(rules_path: Path | None, **options: Any) -> None:
    """Validate a rules file (RULES or --rules) and print the rules as the engine understands them;
    warn about rules that can never match. Every mistake in the file is listed."""
    logs.setup(0, False)
    if rules_path is not None and options["rules_file"] is not None and rules_path != options["rules_file"]:
        fail(f"two rules files ({rules_path}, --rules {options['rules_file']}): give one", EXIT_USAGE)
    options["rules_file"] = options["rules_file"] or rules_path
    settings = resolve(None, options)
    rs = rules_for(settings)
    if not settings.has_policy:
        click.echo("No policy given (--keep or --rules): run and watch refuse to start without one.")
        click.echo("These are the documented default rules (rules.yaml), what --rules rules.yaml would do:\n")
    click.echo(describe(rs))
    for warning in never_matching(rs):
        click.echo(f"warning: {warning}", err=True)
