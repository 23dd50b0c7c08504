"""One rule of a rules file, and the rules behind ``--keep``, read into the typed model.

Every mistake is noted in the list of problems the file's reader keeps (cleaner.rules.loading), so
that one message lists them all; a rule too broken to read further (not a mapping, no name, no
action) is left out after its problem is noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cleaner.errors import RulesError
from cleaner.records import Action
from cleaner.rules.fields import RuleFields
from cleaner.rules.model import GENDERS, KEEP_CHOICES, POLICIES, Condition, Rule, keep_choice

RULE_KEYS = {"name", "when", "action", "reason", "multi_face", "min_gender_confidence", "uncertain"}
WHEN_KEYS = {"faces", "gender", "gender_confidence", "face_size", "detector_confidence", "age", "unreadable"}


@dataclass(frozen=True)
class RuleDefaults:
    multi_face: str
    min_gender_confidence: float
    on_uncertain: Action
    uncertain_reason: str | None


def condition(data: Any, where: str, problems: list[str]) -> Condition:
    if data is None:
        return Condition()
    f = RuleFields(data, where, WHEN_KEYS, problems=problems)
    unreadable = None
    if f.has("unreadable"):
        if isinstance(f.data["unreadable"], bool):
            unreadable = bool(f.data["unreadable"])
        else:
            f.report(f.fail("unreadable", "true or false"))
    cond = Condition(
        faces=f.range("faces", 0, 10_000),
        gender=gender(f),
        gender_confidence=f.range("gender_confidence", 0, 1),
        face_size=f.range("face_size", 0, 100_000),
        detector_confidence=f.range("detector_confidence", 0, 1),
        age=f.range("age", 0, 150),
        unreadable=unreadable,
    )
    if unreadable is not None and (cond.per_face or cond.faces is not None):
        problems.append(f"{where}: field 'unreadable' cannot be combined with face conditions")
    return cond


def gender(f: RuleFields) -> str | None:
    """``Man`` or ``Woman``; a near miss (``male``, ``women``) is refused with what was meant."""
    if not f.has("gender"):
        return None
    value = f.data["gender"]
    if value in GENDERS:
        return str(value)
    meant = keep_choice(str(value))
    hint = f" (did you mean {meant!r}?)" if meant in GENDERS else ""
    f.report(f.fail("gender", "one of " + ", ".join(GENDERS), hint))
    return None


def rule(data: Any, index: int, source: str, defaults: RuleDefaults, problems: list[str]) -> Rule:
    """One rule; a RulesError when it is too broken to be read further."""
    name = data.get("name") if isinstance(data, dict) else None
    where = f"{source}: rule {index}" + (f" ({name!r})" if name else "")
    f = RuleFields(data, where, RULE_KEYS, problems=problems)
    if not isinstance(name, str) or not name.strip():
        raise RulesError(f"{where}: field 'name': every rule needs a name (it is written to the audit log)")
    if not f.has("action"):
        raise RulesError(f"{where}: field 'action': missing (keep, quarantine or review)")
    action = f.action("action", Action.KEEP)
    on_uncertain, uncertain_reason = defaults.on_uncertain, defaults.uncertain_reason
    if f.has("uncertain"):
        u = RuleFields(f.data["uncertain"], f"{where}: uncertain", {"action", "reason"}, problems=problems)
        on_uncertain = u.action("action", on_uncertain)
        uncertain_reason = u.reason("reason", uncertain_reason if on_uncertain is not Action.KEEP else None)
    return Rule(
        name=name.strip(),
        when=condition(f.data.get("when"), f"{where}: when", problems),
        action=action,
        reason=f.reason("reason", None if action is Action.KEEP else slug(name)),
        multi_face=f.choice("multi_face", POLICIES, defaults.multi_face),
        min_gender_confidence=f.number("min_gender_confidence", defaults.min_gender_confidence, 0.5, 1.0),
        on_uncertain=on_uncertain,
        uncertain_reason=uncertain_reason,
    )


def slug(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")[:64]
    return text or "rejected"


def keep_rules(keep: str, no_face: Action) -> list[dict[str, Any]]:
    """The rules behind ``--keep``: what users ask for most, spelled out as ordinary rules."""
    chosen = keep_choice(keep)
    if chosen is None:
        raise RulesError(f"--keep: expected one of {', '.join(KEEP_CHOICES)}, got {keep!r}")
    if chosen == "all":
        return [{"name": "keep-all", "action": "keep"}]
    rules: list[dict[str, Any]] = [
        {"name": "no-face", "when": {"faces": 0}, "action": no_face.value, "reason": "no-face"}
    ]
    if chosen == "face":
        return [*rules, {"name": "keep-faces", "action": "keep"}]
    return [
        *rules,
        {"name": f"keep-{chosen.lower()}", "when": {"gender": chosen}, "action": "keep"},
        {"name": f"not-{chosen.lower()}", "action": "quarantine", "reason": f"not-{chosen.lower()}"},
    ]
