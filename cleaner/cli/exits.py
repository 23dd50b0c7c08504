"""Exit codes, the one table from an error to its message and exit code, and the catch-all.

Every command runs inside it (cleaner.cli.Main): a failure the user can do something about ends
with ``face-clean: <what and where>`` on stderr and its code, never a traceback. The errors come
from cleaner.errors, which imports nothing: naming ClusterError here imports no Ray. Anything else
is a bug: ``face-clean: internal error: <type>: <message>``, the version and platform, the
traceback only under ``-v``, and its own exit code (EXIT_INTERNAL), as borg does.
"""

from __future__ import annotations

import platform
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

import click

from cleaner import __version__, errors

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_MODELS, EXIT_CLUSTER, EXIT_IN_USE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130
EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug in face-clean, not something the user did


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"face-clean: {message}", err=True)
    sys.exit(code)


def _at_start(err: errors.StateError | errors.AuditLogError) -> int:
    """Before anything was done, a usage problem; mid-run (a full disk, say), some files were not processed."""
    return EXIT_USAGE if err.at_start else EXIT_PARTIAL


def _state(err: errors.StateError) -> str:
    return (
        f"{err} (it is kept beside the audit log); choose another place with --audit-log" if err.at_start else str(err)
    )


# (error type, its exit code, its message): the first type that matches wins, so a subclass comes first.
ERRORS: tuple[tuple[type[Exception], Callable[..., int], Callable[..., str]], ...] = (
    (errors.UnknownDetector, lambda e: EXIT_USAGE, str),
    (errors.RulesError, lambda e: EXIT_USAGE, str),  # ManifestError too
    (errors.MissingWeights, lambda e: EXIT_MODELS, str),  # MissingPackage too
    (errors.ModelError, lambda e: EXIT_MODELS, str),  # DamagedModel too
    (errors.EngineError, lambda e: EXIT_MODELS, str),
    (errors.FolderInUse, lambda e: EXIT_IN_USE, str),
    (errors.LockError, lambda e: EXIT_USAGE, str),
    (errors.AuditLogError, _at_start, lambda e: f"{e}; choose another place with --audit-log"),
    (errors.StateError, _at_start, _state),  # JournalError too
    (errors.UnsafePath, lambda e: EXIT_USAGE, lambda e: f"cannot use face-clean's state: {e}"),
    (errors.ClusterError, lambda e: EXIT_CLUSTER, str),
    (errors.FolderGone, lambda e: EXIT_PARTIAL, str),
    (errors.LabelError, lambda e: EXIT_USAGE, str),
    (errors.ReportError, lambda e: EXIT_USAGE, str),
    (errors.ServeError, lambda e: EXIT_USAGE, str),
)
HANDLED = tuple(kind for kind, _, _ in ERRORS)


def explain(err: Exception) -> tuple[str, int]:
    """The message and exit code of an error in the table."""
    for kind, code, message in ERRORS:
        if isinstance(err, kind):
            return message(err), code(err)
    raise err


def internal(err: Exception, with_traceback: bool) -> NoReturn:
    """An error outside the table: a bug. What it was, where it ran, the traceback under ``-v``."""
    click.echo(f"face-clean: internal error: {type(err).__name__}: {err}", err=True)
    click.echo(
        f"face-clean {__version__}, Python {platform.python_version()}, {platform.platform(terse=True)}", err=True
    )
    if with_traceback:
        click.echo("".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip(), err=True)
    else:
        click.echo("face-clean: run it again with -v for the traceback, and report it with these lines", err=True)
    sys.exit(EXIT_INTERNAL)
