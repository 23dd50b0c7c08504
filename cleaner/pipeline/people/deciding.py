"""What a person's verdict decides for a photo with that person's faces, before the gender model's say.

- ``man`` / ``woman``: those faces are that gender, certainly; the rules decide the photo with them.
- ``child``: the photo goes to review, always (``review/child``).
- ``keep`` / ``reject``: the photo stays / goes to the quarantine (``rejected``).

Several persons in one photo: ``child`` first, then ``keep`` (keeping is the side that loses nothing),
then ``reject``, then the genders. The decision's rule is ``person:<id>`` (the persons, by id), and the
record says it was a person's decision, whose, and what the rules said of the faces given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cleaner.records import Action, Decision, Face, ImageAnalysis
from cleaner.rules.deciding import decide
from cleaner.rules.model import RuleSet
from cleaner.store.people import CHILD, KEEP_ALL, MAN, REJECT_ALL, WOMAN, PersonVerdict, StoredFace
from cleaner.store.verdicts import REJECTED

PREFIX = "person:"
GENDER = {MAN: "Man", WOMAN: "Woman"}


@dataclass(frozen=True)
class PersonCall:
    decision: Decision
    who: str
    note: str  # for the record: which person, what they were said to be, by whom


def rule_name(persons: list[int]) -> str:
    return PREFIX + ",".join(str(p) for p in sorted(set(persons)))


def person_decision(
    rules: RuleSet, analysis: ImageAnalysis, faces: list[StoredFace], verdicts: dict[int, PersonVerdict]
) -> PersonCall | None:
    """The decision the persons' verdicts make for ``analysis``; None when no face has a person with one."""
    given = [(f, verdicts[f.person]) for f in faces if f.person in verdicts]
    if not given:
        return None
    said = {v.verdict for _, v in given}
    who = ", ".join(sorted({v.who for _, v in given}))
    for verdict, action, reason in ((CHILD, Action.REVIEW, CHILD), (KEEP_ALL, Action.KEEP, None)):
        if verdict in said:
            return _call(given, verdict, Decision(action, "", reason), who)
    if REJECT_ALL in said:
        return _call(given, REJECT_ALL, Decision(Action.QUARANTINE, "", REJECTED), who)
    genders = {f.idx: GENDER[v.verdict] for f, v in given}
    faces_now = tuple(_as(face, genders.get(i)) for i, face in enumerate(analysis.faces))
    by_rules = decide(rules, replace(analysis, faces=faces_now))
    call = _call(given, "", by_rules, who)
    return replace(call, note=f"{call.note}; the rules ({by_rules.rule}) decided with that")


def _call(given: list[tuple[StoredFace, PersonVerdict]], only: str, d: Decision, who: str) -> PersonCall:
    chosen = [(f, v) for f, v in given if not only or v.verdict == only]
    persons = [f.person for f, _ in chosen]
    what = "; ".join(f"{PREFIX}{v.person} is {_said(v.verdict)}" for v in {v.person: v for _, v in chosen}.values())
    return PersonCall(replace(d, rule=rule_name(persons)), who, f"{what} (by {who})")


def _said(verdict: str) -> str:
    return {MAN: "a man", WOMAN: "a woman", CHILD: "a child", KEEP_ALL: "kept", REJECT_ALL: "rejected"}[verdict]


def _as(face: Face, gender: str | None) -> Face:
    if gender is None:
        return face
    other = "Woman" if gender == "Man" else "Man"
    return replace(face, gender={gender: 1.0, other: 0.0}, dominant_gender=gender)
