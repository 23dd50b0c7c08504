"""The ``face-clean`` command line: options and printing only. Each command reads its options, hands
the work to the pipeline, watch, eval or report, and says what happened; every expected failure
ends with a message and an exit code from one table (cleaner.cli.exits); anything else, a bug, with
"internal error", the version and platform, and its own exit code.

The commands are registered here, explicitly; none of them imports this module.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from cleaner import __version__
from cleaner.cli import config, eval, invocation, models, report, restore, run, runs, serve, verdict, watch
from cleaner.cli.exits import HANDLED, explain, fail, internal
from cleaner.cli.help import RUN_CODES, epilog


class Main(click.Group):
    """The command group: runs a command and turns the errors of the table into message and exit code,
    and any other exception (click's own excepted) into the catch-all's."""

    def main(self, args: Sequence[str] | None = None, *more: Any, **kwargs: Any) -> Any:
        invocation.keep(sys.argv[1:] if args is None else args)
        return super().main(args, *more, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HANDLED as err:
            fail(*explain(err))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            internal(err, invocation.verbose())


EXAMPLES = (
    "face-clean run ./photos --keep Man --dry-run   # what would happen; nothing moves",
    "face-clean run ./photos --keep Man             # keep photos of men, quarantine the rest",
    "face-clean runs ./photos                       # the runs so far",
    "face-clean restore ./photos --run RUN_ID       # undo one",
    "face-clean COMMAND --help                      # each command's options, examples and exit codes",
)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]}, epilog=epilog(EXAMPLES, RUN_CODES))
@click.version_option(__version__, prog_name="face-clean")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="On an internal error (a bug), print its traceback; every command's own -v does so too.",
)
def main(verbose: int) -> None:
    """Sweep a folder of photos: detect faces, decide by rules, quarantine (never delete) rejects."""


for command in (
    run.run,
    run.check,
    watch.watch,
    watch.health,
    restore.restore,
    runs.runs_command,
    config.config,
    eval.eval_command,
    report.report,
    serve.serve,
):
    main.add_command(command)
main.add_command(models.models)
main.add_command(verdict.verdict)
