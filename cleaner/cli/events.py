"""The ``--json`` events: one typed, frozen record per kind of line, the one place their fields are
named (docs/reference/json-events.md shows them; a test checks both against what the commands print).

Every line is one JSON object, ASCII only, with ``event`` first: the kind of line (organize's JSON
lines are the model). Fields are only ever added, never renamed or given another meaning; a reader
should ignore the fields it does not know. ``summary`` is the last line of ``run`` and of
``restore``, each with its own fields.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """What every event is: ``EVENT`` names it on the line."""

    EVENT: ClassVar[str] = ""

    def fields(self) -> dict[str, Any]:
        return {"event": self.EVENT, **asdict(self)}

    def line(self) -> str:
        return json.dumps(self.fields(), ensure_ascii=True)


@dataclass(frozen=True)
class Planned(Event):
    """``run --json``: how many files will be looked at (the first line)."""

    EVENT: ClassVar[str] = "planned"
    files: int


@dataclass(frozen=True)
class Decided(Event):
    """``run --json -v``, ``watch --log-format json``: one file decided (its audit record, in short)."""

    EVENT: ClassVar[str] = "decision"
    path: str
    action: str  # an audit record's action (cleaner.records.AuditAction)
    reason: str | None
    moved: bool
    destination: str | None
    status: str
    error: str | None


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass(frozen=True)
class RunSummary(Event):
    """``run --json``: the counts the text summary gives (the last line)."""

    EVENT: ClassVar[str] = "summary"
    dry_run: bool
    interrupted: bool
    files: int
    kept: int
    quarantined: dict[str, int]  # by reason
    review: dict[str, int]  # by reason
    unreadable: int
    skipped: int
    errors: int
    failed_moves: int
    analysed_now: int
    from_cache: int
    already_decided: int
    run_id: str
    problems: list[Problem]
    seconds: float
    audit_log: str


@dataclass(frozen=True)
class Recovered(Event):
    """``restore --json``: a restore a crash interrupted, settled first."""

    EVENT: ClassVar[str] = "recovered"
    source: str
    outcome: str


@dataclass(frozen=True)
class Restored(Event):
    """``restore --json``: one file (restored, or why not)."""

    EVENT: ClassVar[str] = "restore"
    result: str  # restored, conflict, missing, changed, ... (cleaner.pipeline.restore.restorer.Kind)
    path: str
    reason: str | None
    source: str
    destination: str | None
    detail: str | None


@dataclass(frozen=True)
class AlreadyRestored:
    file: str
    to: str


@dataclass(frozen=True)
class RestoreSummary(Event):
    """``restore --json``: the counts (the last line)."""

    EVENT: ClassVar[str] = "summary"
    dry_run: bool
    interrupted: bool
    restored: int
    by_reason: dict[str, int]
    skipped: dict[str, int]  # by kind: conflict, missing, changed, ...
    not_found: list[str]
    already_restored: list[AlreadyRestored]
    left_alone: dict[str, int]  # files moved out of other folders, by folder
    audit_log: str


@dataclass(frozen=True)
class VerdictGiven(Event):
    """``verdict keep|reject|withdraw --json``: one FILE."""

    EVENT: ClassVar[str] = "verdict"
    action: str
    path: str
    result: str  # done, failed
    moved: bool
    destination: str | None
    detail: str | None
    dry_run: bool


@dataclass(frozen=True)
class VerdictUnknown(Event):
    """``verdict keep|reject|withdraw --json``: a FILE the folder's records do not know."""

    EVENT: ClassVar[str] = "verdict"
    result: str  # unknown
    detail: str


@dataclass(frozen=True)
class VerdictListed(Event):
    """``verdict list --json``: one verdict, and where its photo is now."""

    EVENT: ClassVar[str] = "verdict"
    sha256: str
    verdict: str  # keep, reject
    who: str
    time: str
    reason: str | None
    where: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunListed(Event):
    """``runs --json``: one run."""

    EVENT: ClassVar[str] = "run"
    run_id: str
    started: str
    ended: str | None
    command: str
    dry_run: bool
    counts: dict[str, int]


# By command: the events its --json prints
BY_COMMAND: dict[str, tuple[type[Event], ...]] = {
    "run": (Planned, Decided, RunSummary),
    "restore": (Recovered, Restored, RestoreSummary),
    "verdict keep|reject|withdraw": (VerdictGiven, VerdictUnknown),
    "verdict list": (VerdictListed,),
    "runs": (RunListed,),
}
