"""Parse and validate a rules file into typed objects the decider can trust.

Everything a user can get wrong is caught here, with a message that names the rule and the
field, so that a bad rules file stops the run before a single photo moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cleaner.errors import RulesError
from cleaner.fs.yaml_fields import read_text
from cleaner.records import Action
from cleaner.rules import model_choice
from cleaner.rules.fields import RuleFields
from cleaner.rules.model import ENGINES, GENDERS, KEEP_CHOICES, POLICIES, Condition, Rule, RuleSet

MAX_RULES_BYTES = 1_000_000  # a rules file is a few hundred bytes; refuse anything absurd


_TOP_KEYS = set(
    "version engine detector min_face_size min_detector_confidence max_pixels detect_size memory_budget "
    "min_gender_confidence multi_face uncertain no_face default rules exclude analyze gender_model age_model".split()
)
_RULE_KEYS = {"name", "when", "action", "reason", "multi_face", "min_gender_confidence", "uncertain"}
_WHEN_KEYS = {"faces", "gender", "gender_confidence", "face_size", "detector_confidence", "age", "unreadable"}


def _condition(data: Any, where: str) -> Condition:
    if data is None:
        return Condition()
    f = RuleFields(data, where, _WHEN_KEYS)
    unreadable = None
    if f.has("unreadable"):
        if not isinstance(f.data["unreadable"], bool):
            raise f.fail("unreadable", "true or false")
        unreadable = bool(f.data["unreadable"])
    cond = Condition(
        faces=f.range("faces", 0, 10_000),
        gender=f.choice("gender", GENDERS, "") or None,
        gender_confidence=f.range("gender_confidence", 0, 1),
        face_size=f.range("face_size", 0, 100_000),
        detector_confidence=f.range("detector_confidence", 0, 1),
        age=f.range("age", 0, 150),
        unreadable=unreadable,
    )
    if unreadable is not None and (cond.per_face or cond.faces is not None):
        raise RulesError(f"{where}: field 'unreadable' cannot be combined with face conditions")
    return cond


@dataclass(frozen=True)
class _RuleDefaults:
    multi_face: str
    min_gender_confidence: float
    on_uncertain: Action
    uncertain_reason: str | None


def _rule(data: Any, index: int, source: str, defaults: _RuleDefaults) -> Rule:
    name = data.get("name") if isinstance(data, dict) else None
    where = f"{source}: rule {index}" + (f" ({name!r})" if name else "")
    f = RuleFields(data, where, _RULE_KEYS)
    if not isinstance(name, str) or not name.strip():
        raise RulesError(f"{where}: field 'name': every rule needs a name (it is written to the audit log)")
    action = f.action("action", Action.KEEP)
    if not f.has("action"):
        raise RulesError(f"{where}: field 'action': missing (keep, quarantine or review)")
    on_uncertain, uncertain_reason = defaults.on_uncertain, defaults.uncertain_reason
    if f.has("uncertain"):
        u = RuleFields(f.data["uncertain"], f"{where}: uncertain", {"action", "reason"})
        on_uncertain = u.action("action", on_uncertain)
        uncertain_reason = u.reason("reason", uncertain_reason if on_uncertain is not Action.KEEP else None)
    return Rule(
        name=name.strip(),
        when=_condition(f.data.get("when"), f"{where}: when"),
        action=action,
        reason=f.reason("reason", None if action is Action.KEEP else _slug(name)),
        multi_face=f.choice("multi_face", POLICIES, defaults.multi_face),
        min_gender_confidence=f.number("min_gender_confidence", defaults.min_gender_confidence, 0.5, 1.0),
        on_uncertain=on_uncertain,
        uncertain_reason=uncertain_reason,
    )


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")[:64]
    return slug or "rejected"


def parse(data: Any, source: str, keep: str | None = None) -> RuleSet:
    """Validate a loaded YAML document.  ``keep`` (the --keep shortcut) replaces its rules list."""
    if data is None:
        data = {}
    f = RuleFields(data, source, _TOP_KEYS)
    if f.has("version") and f.data["version"] != 1:
        raise f.fail("version", "1")
    uf = RuleFields(f.data.get("uncertain") or {}, f"{source}: uncertain", {"action", "reason"})
    uncertain_action = uf.action("action", Action.REVIEW)
    defaults = _RuleDefaults(
        multi_face=f.choice("multi_face", POLICIES, "any"),
        min_gender_confidence=f.number("min_gender_confidence", 0.8, 0.5, 1.0),
        on_uncertain=uncertain_action,
        uncertain_reason=uf.reason("reason", None if uncertain_action is Action.KEEP else "uncertain"),
    )
    df = RuleFields(f.data.get("default") or {}, f"{source}: default", {"action", "reason"})
    default_action = df.action("action", Action.KEEP)
    default_reason = df.reason("reason", None if default_action is Action.KEEP else "default")
    no_face = f.action("no_face", Action.QUARANTINE)

    raw_rules = f.data.get("rules") or []
    if keep is not None:
        raw_rules = keep_rules(keep, no_face)
    elif f.has("no_face"):
        raise RulesError(f"{source}: field 'no_face' applies only with --keep; write a rule with 'faces: 0' instead")
    if not isinstance(raw_rules, list):
        raise f.fail("rules", "a list of rules")
    rules = tuple(_rule(r, i, source, defaults) for i, r in enumerate(raw_rules, start=1))
    names = [r.name for r in rules]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise RulesError(f"{source}: rule name {duplicate!r} is used twice; names must be unique")

    exclude = f.data.get("exclude", list(RuleSet.exclude))
    if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
        raise f.fail("exclude", "a list of file or folder name patterns")
    analyze = f.data.get("analyze", ["gender"])
    if not isinstance(analyze, list) or not all(a in ("gender", "age") for a in analyze):
        raise f.fail("analyze", "a list of gender and/or age")
    attributes = set(analyze)
    if any(r.when.gender is not None or r.when.gender_confidence is not None for r in rules):
        attributes.add("gender")
    if any(r.when.age is not None for r in rules):
        attributes.add("age")
    detector = f.data.get("detector") or model_choice.default_detector()
    if not isinstance(detector, str):
        raise f.fail("detector", "a deepface detector name such as yunet")
    base = Path(source).parent if Path(source).is_file() else None
    chosen = {
        task: model_choice.model(f.data[f"{task}_model"], task, f"{source}: field '{task}_model'", base)
        if f.has(f"{task}_model")
        else model_choice.default_model(task)
        for task in ("gender", "age")
    }
    return RuleSet(
        rules=rules,
        default_action=default_action,
        default_reason=default_reason,
        engine=f.choice("engine", ENGINES, "onnx"),
        detector=detector,
        gender_model=chosen["gender"],
        age_model=chosen["age"],
        min_face_size=int(f.number("min_face_size", 0, 0, 100_000)),
        min_detector_confidence=f.number("min_detector_confidence", 0.0, 0.0, 1.0),
        max_pixels=int(f.number("max_pixels", RuleSet.max_pixels, 1, 10**12)),
        detect_size=int(f.number("detect_size", RuleSet.detect_size, 0, 100_000)),
        memory_budget=int(f.number("memory_budget", RuleSet.memory_budget, 32, 1 << 20)),
        exclude=tuple(exclude),
        attributes=frozenset(attributes),
        source=source,
    )


def keep_rules(keep: str, no_face: Action) -> list[dict[str, Any]]:
    """The rules behind ``--keep``: what users ask for most, spelled out as ordinary rules."""
    if keep not in KEEP_CHOICES:
        raise RulesError(f"--keep: expected one of {', '.join(KEEP_CHOICES)}, got {keep!r}")
    if keep == "all":
        return [{"name": "keep-all", "action": "keep"}]
    rules: list[dict[str, Any]] = [
        {"name": "no-face", "when": {"faces": 0}, "action": no_face.value, "reason": "no-face"}
    ]
    if keep == "face":
        return [*rules, {"name": "keep-faces", "action": "keep"}]
    return [
        *rules,
        {"name": f"keep-{keep.lower()}", "when": {"gender": keep}, "action": "keep"},
        {"name": f"not-{keep.lower()}", "action": "quarantine", "reason": f"not-{keep.lower()}"},
    ]


def load_text(text: str, source: str, keep: str | None = None) -> RuleSet:
    if len(text.encode()) > MAX_RULES_BYTES:
        raise RulesError(f"{source}: larger than {MAX_RULES_BYTES} bytes; this is not a rules file")
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise RulesError(f"{source}: nested too deeply; this is not a rules file") from None
    except (yaml.YAMLError, ValueError, OverflowError) as err:  # ValueError: an integer of 5000 digits, say
        raise RulesError(f"{source}: not valid YAML (only plain YAML is accepted): {err}") from None
    try:
        return parse(data, source, keep)
    except RecursionError:
        raise RulesError(f"{source}: nested too deeply; this is not a rules file") from None


def default_text() -> str:
    """The documented default rules (a copy of rules.yaml at the top of the repository)."""
    return resources.files("cleaner.rules").joinpath("default_rules.yaml").read_text(encoding="utf-8")


def load(path: Path | None, keep: str | None = None) -> RuleSet:
    """Read a rules file, or the built-in defaults when ``path`` is None."""
    if path is None:
        return load_text(default_text(), "default rules", keep)
    return load_text(read_text(path, MAX_RULES_BYTES, "rules file", RulesError), str(path), keep)


def with_overrides(
    rs: RuleSet,
    engine: str | None = None,
    detector: str | None = None,
    min_confidence: float | None = None,
    gender_model: str | None = None,
    age_model: str | None = None,
) -> RuleSet:
    """Apply command-line options, which win over the rules file."""
    if gender_model is not None:
        rs = replace(rs, gender_model=model_choice.model(gender_model, "gender", "--gender-model", None))
    if age_model is not None:
        rs = replace(rs, age_model=model_choice.model(age_model, "age", "--age-model", None))
    rules = rs.rules
    if min_confidence is not None:
        if not 0.5 <= min_confidence <= 1.0:
            raise RulesError(f"--min-confidence: expected a number from 0.5 to 1, got {min_confidence:g}")
        rules = tuple(replace(r, min_gender_confidence=min_confidence) for r in rules)
    return replace(rs, rules=rules, engine=engine or rs.engine, detector=detector or rs.detector)
