"""What ``run``, ``watch`` and ``restore`` tell the user, as one object handed in.

The pipeline says what happened; the object given says it: text on a terminal, JSON lines with
``--json``, log lines for ``watch`` (cleaner.cli.output). Nothing in the pipeline prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # types only: restore's output must not import the job
    from cleaner.pipeline.handled import Done
    from cleaner.pipeline.restore.restorer import RestoreSummary, Result
    from cleaner.pipeline.summary import Summary


class RunOutput(Protocol):
    """What ``run`` and ``watch`` say."""

    def planned(self, total: int) -> None:
        """The number of files the run will decide (the length of a progress bar)."""

    def handled(self, done: Done) -> None:
        """One file done with, and its audit record if it got one."""

    def finished(self, summary: Summary, dry_run: bool) -> None:
        """The run is over (or interrupted): its summary."""


class WatchOutput(RunOutput, Protocol):
    def counts(self, counts: Mapping[str, int], stopped: bool) -> None:
        """The watcher's counters: now and then, and once more when it stops."""


class RestoreOutput(Protocol):
    """What ``restore`` says."""

    def recovered(self, src: Path, outcome: str) -> None:
        """A restore a crash left unfinished, recovered first."""

    def restored(self, result: Result) -> None:
        """One selected file: put back, or why not."""

    def summary(self, summary: RestoreSummary) -> None:
        """The FILEs the log does not know, and the counts."""


class Quiet:
    """Says nothing (for code that drives the pipeline itself: tests, benchmarks)."""

    def planned(self, total: int) -> None:
        pass

    def handled(self, done: Done) -> None:
        pass

    def finished(self, summary: Summary, dry_run: bool) -> None:
        pass

    def counts(self, counts: Mapping[str, int], stopped: bool) -> None:
        pass

    def recovered(self, src: Path, outcome: str) -> None:
        pass

    def restored(self, result: Result) -> None:
        pass

    def summary(self, summary: RestoreSummary) -> None:
        pass
