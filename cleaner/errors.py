"""The ways a model can fail to be ready, each with its exit code in the CLI (cleaner.cli)."""

from __future__ import annotations

from pathlib import Path


class ModelError(RuntimeError):
    """A model could not be loaded; the message says which and why (exit code 3)."""


class UnknownDetector(ModelError):
    """The detector name is not one deepface offers (a usage error, exit code 2)."""


class DamagedModel(ModelError):
    """A model file is there but is not a usable model: the message names it and how to get it again."""

    def __init__(self, role: str, path: Path, problem: str, hint: str) -> None:
        super().__init__(f"the {role} model file {path} is damaged: it {problem}.\nTo fix it, {hint}.")
        self.path = path
