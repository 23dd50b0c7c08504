"""The end of every command's ``--help``: examples, and the exit codes it can end with (the table of
cleaner.cli.exits, in words). Every list ends with the catch-all's code (INTERNAL): any command can
meet a bug."""

from __future__ import annotations

from collections.abc import Sequence

from cleaner.cli.exits import (
    EXIT_CLUSTER,
    EXIT_IN_USE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MODELS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
)

OK = (EXIT_OK, "done")
PARTIAL = (EXIT_PARTIAL, "done, but some files could not be processed (unreadable, a failed move): see the summary")
USAGE = (EXIT_USAGE, "bad usage, no policy, bad rules, config or manifest (the message names the file and field)")
MODELS = (EXIT_MODELS, "a model file is missing or damaged, or a model cannot be loaded")
CLUSTER = (EXIT_CLUSTER, "--cluster: Ray is missing, or the cluster cannot be used or stopped answering")
IN_USE = (EXIT_IN_USE, "the folder (or its quarantine or audit log) is in use by another face-clean")
INTERRUPTED = (EXIT_INTERRUPTED, "interrupted (Ctrl-C, SIGTERM) after a whole file")
INTERNAL = (EXIT_INTERNAL, "internal error: a bug in face-clean (the message says how to report it; -v: traceback)")
RUN_CODES = (OK, PARTIAL, USAGE, MODELS, CLUSTER, IN_USE, INTERRUPTED)


def epilog(examples: Sequence[str], codes: Sequence[tuple[int, str]]) -> str:
    """Examples (``command  # what it does``) and exit codes, laid out as written (click's ``\\b``)."""
    lines = ["\b", "Examples:", *(f"  {e}" for e in examples), "", "\b", "Exit codes:"]
    lines += [f"  {code:<4}{text}" for code, text in (*codes, *([INTERNAL] if INTERNAL not in codes else []))]
    return "\n".join(lines)
