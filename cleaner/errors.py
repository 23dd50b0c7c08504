"""Every failure that ends a command with a message instead of a traceback, in one place.

Each layer raises these; only the command line turns them into a message and an exit code, in one
table (cleaner.cli.exits). They import nothing, so any layer can raise one, and the command line can
name ``ClusterError`` without importing Ray.
"""

from __future__ import annotations

import errno
from pathlib import Path


class RulesError(ValueError):
    """A rules file that cannot be used; the message says where and why (exit code 2)."""


class ManifestError(RulesError):
    """A model manifest that cannot be used; the message names the file and the field (exit code 2)."""


class ConfigError(RulesError):
    """A config file that cannot be used, or a setting that cannot be: the message names the file and the
    setting (exit code 2)."""


class ModelError(RuntimeError):
    """A model could not be loaded; the message says which and why (exit code 3)."""


class UnknownDetector(ModelError):
    """The detector name is not one deepface offers (a usage error, exit code 2)."""


class DamagedModel(ModelError):
    """A model file is there but is not a usable model: the message names it and how to get it again."""

    def __init__(self, role: str, path: Path, problem: str, hint: str) -> None:
        super().__init__(f"the {role} model file {path} is damaged: it {problem}.\nTo fix it, {hint}.")
        self.path = path


class MissingWeights(RuntimeError):
    """A weight file the rules need is absent, found before any file is touched (exit code 3)."""


class MissingPackage(MissingWeights):
    """A detector needs a Python package that is not installed (exit code 3)."""


class EngineError(RuntimeError):
    """The requested engine cannot be used in this process (exit code 3)."""


class UnsafePath(OSError):
    """A link, or something other than the folder or regular file expected: refused, never followed."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ELOOP, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class LockError(Exception):
    """A lock could not be taken: the folder cannot be locked here (permissions, say; exit code 2)."""


class FolderInUse(LockError):
    """Another face-clean works on the folder, or on one inside or around it (exit code 5)."""


class StateError(RuntimeError):
    """face-clean's state (the database, a journal) cannot be opened or written; ``at_start``: before
    anything was done (a usage problem), else mid-run (a full disk, say: the run stops, losing nothing)."""

    def __init__(self, message: str, at_start: bool = True) -> None:
        super().__init__(message)
        self.at_start = at_start


class JournalError(StateError):
    """The journal cannot be written (a full disk, say): nothing may move without its intent on disk."""

    def __init__(self, message: str) -> None:
        super().__init__(message, at_start=False)


class AuditLogError(OSError):
    """The audit log cannot be written: the run must stop, since no decision may go unrecorded."""

    def __init__(self, message: str, at_start: bool) -> None:
        super().__init__(message)
        self.at_start = at_start


class ClusterError(RuntimeError):
    """Ray is missing, cannot be started or joined, or the job stopped making progress (exit code 4)."""


class FolderGone(Exception):
    """The watched folder is gone; str() says how, for the user."""


class LabelError(ValueError):
    """A labels file that cannot be used; the message says where and why (exit code 2)."""


class ReportError(Exception):
    """There is nothing to report (no log, no such run); the message says why (exit code 2)."""


class ServeError(Exception):
    """The review page cannot be served as asked (a public address without a password, a port in use); exit code 2."""
