"""What a verdict means to a run: the decision it stands for, and how its records say a person decided."""

from __future__ import annotations

from dataclasses import replace

from cleaner.records import PERSON, Action, AuditAction, AuditRecord, Decision
from cleaner.store.verdicts import KEEP, REJECTED, Verdict

RULE = "verdict"  # the rule of a decision a verdict made in run or watch
WITHDRAW = AuditAction.WITHDRAW.value  # the action of the record of a withdrawn verdict


def decision_of(v: Verdict) -> Decision:
    """keep: stays (or comes back); reject: the quarantine, under the reason the verdict names."""
    if v.verdict == KEEP:
        return Decision(Action.KEEP, RULE)
    return Decision(Action.QUARANTINE, RULE, v.reason or REJECTED)


def by_person(record: AuditRecord, who: str) -> AuditRecord:
    return replace(record, decided_by=PERSON, who=who)
