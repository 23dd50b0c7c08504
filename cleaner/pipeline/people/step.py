"""The people step of a job: group the faces of each photo that matters, then let the persons' verdicts
decide a photo of them (cleaner.pipeline.people.deciding) instead of the gender model's say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cleaner.pipeline.people.deciding import PersonCall, person_decision
from cleaner.pipeline.people.grouping import OFF, Grouper, mode_from_env
from cleaner.pipeline.verdicts.model import by_person
from cleaner.records import AuditRecord, Decision, ImageAnalysis
from cleaner.rules.model import RuleSet
from cleaner.store.db import StateDB


class PeopleStep:
    def __init__(self, grouper: Grouper) -> None:
        self.grouper = grouper

    @classmethod
    def of(cls, state: StateDB, root: Path | None) -> PeopleStep | None:
        """The step as ``FACE_CLEAN_PEOPLE`` asks (None: off)."""
        mode = mode_from_env()
        return None if mode == OFF else cls(Grouper(state, root, mode))

    def call(self, rules: RuleSet, analysis: ImageAnalysis, decision: Decision, verdict: bool) -> PersonCall | None:
        """Group the photo's faces if they matter; what the persons' verdicts decide (None: they say
        nothing, or a person's verdict on this very photo, ``verdict``, outranks them)."""
        faces = self.grouper.faces(analysis, self.grouper.matters(decision, verdict))
        if verdict or not faces:
            return None
        return person_decision(rules, analysis, faces, self.grouper.state.person_verdicts())


def recorded(record: AuditRecord, call: PersonCall) -> AuditRecord:
    """A record the persons' verdicts decided: a person's decision, saying whose and which person."""
    return replace(by_person(record, call.who), notes=[*record.notes, call.note])
