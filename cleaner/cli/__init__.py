"""The ``face-clean`` command line: options and printing only. Each command reads its options, hands
the work to the pipeline, watch, eval or report, and says what happened; every expected failure
ends with a message and an exit code from one table (cleaner.cli.exits).

The commands are registered here, explicitly; none of them imports this module.
"""

from __future__ import annotations

from typing import Any

import click

from cleaner import __version__
from cleaner.cli import eval, models, report, restore, run, serve, verdict, watch
from cleaner.cli.exits import HANDLED, explain, fail


class Main(click.Group):
    """The command group: runs a command and turns the errors of the table into message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HANDLED as err:
            fail(*explain(err))


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="face-clean")
def main() -> None:
    """Sweep a folder of photos: detect faces, decide by rules, quarantine (never delete) rejects.

    \b
    Exit codes: 0 done; 1 done, but some files could not be processed (unreadable, failed
    to move); 2 bad usage or bad rules; 3 model weights missing or unloadable; 4 the Ray
    cluster could not be used or stopped answering (run --cluster); 130 interrupted.
    """


for command in (
    run.run,
    run.check,
    watch.watch,
    watch.health,
    restore.restore,
    eval.eval_command,
    report.report,
    serve.serve,
):
    main.add_command(command)
main.add_command(models.models)
main.add_command(verdict.verdict)
