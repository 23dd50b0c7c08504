"""Parse and validate a rules file into typed objects the decider can trust.

Everything a user can get wrong is caught here, with a message that names the file, the rule and
the field, so that a bad rules file stops the run before a single photo moves; every mistake of a
file is listed at once, not only the first. A setting a rules file leaves out takes the value the
documented default rules give it (``rules.yaml``, shipped as cleaner/rules/default_rules.yaml): one
set of defaults, whether the rules are the built-in ones, ``--keep``, or a file of two lines.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from cleaner.analysis.builtin_models import BUILTIN
from cleaner.errors import RulesError
from cleaner.fs.yaml_fields import listed, load_yaml, read_text, show
from cleaner.records import Action
from cleaner.rules import model_choice
from cleaner.rules.fields import RuleFields
from cleaner.rules.model import ENGINES, POLICIES, CannotTell, RuleSet
from cleaner.rules.parsing import RuleDefaults, keep_rules, rule

MAX_RULES_BYTES = 1_000_000  # a rules file is a few hundred bytes; refuse anything absurd

TOP_KEYS = set(
    "version engine detector min_face_size min_detector_confidence max_pixels detect_size memory_budget "
    "min_gender_confidence multi_face uncertain no_face default rules exclude include analyze gender_model "
    "age_model cannot_tell".split()
)
CANNOT_TELL_KEYS = {"near_miss", "small_faces", "min_sharpness", "max_yaw", "child_age"}
NOT_DEFAULTED = ("version", "rules")  # the documented file's rules are a policy, not a default


def default_text() -> str:
    """The documented default rules (a copy of rules.yaml at the top of the repository)."""
    return resources.files("cleaner.rules").joinpath("default_rules.yaml").read_text(encoding="utf-8")


@functools.cache
def documented_defaults() -> dict[str, Any]:
    """Every setting of the documented default rules but its rules: what a rules file leaves out."""
    data = load_yaml(default_text(), "default rules", "rules file", RulesError)
    return {k: v for k, v in data.items() if k not in NOT_DEFAULTED}


def _patterns(f: RuleFields, key: str) -> tuple[str, ...]:
    value = f.data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        f.report(f.fail(key, "a list of file or folder name patterns (globs such as '*.jpg' or 'raw/*')"))
        return tuple(documented_defaults().get(key) or ())
    return tuple(value)


def parse(data: Any, source: str, keep: str | None = None) -> RuleSet:
    """Validate a loaded YAML document.  ``keep`` (the --keep shortcut) replaces its rules list."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a mapping of settings and rules, got {show(data)}")
    problems: list[str] = []
    given = {k: v for k, v in data.items() if v is not None}
    f = RuleFields({**documented_defaults(), **given}, source, TOP_KEYS, problems=problems)
    if f.has("version") and f.data["version"] != 1:
        f.report(f.fail("version", "1"))
    uf = RuleFields(f.data.get("uncertain") or {}, f"{source}: uncertain", {"action", "reason"}, problems=problems)
    uncertain_action = uf.action("action", Action.REVIEW)
    defaults = RuleDefaults(
        multi_face=f.choice("multi_face", POLICIES, "any"),
        min_gender_confidence=f.number("min_gender_confidence", 0.8, 0.5, 1.0),
        on_uncertain=uncertain_action,
        uncertain_reason=uf.reason("reason", None if uncertain_action is Action.KEEP else "uncertain"),
    )
    df = RuleFields(f.data.get("default") or {}, f"{source}: default", {"action", "reason"}, problems=problems)
    default_action = df.action("action", Action.KEEP)
    default_reason = df.reason("reason", None if default_action is Action.KEEP else "default")
    no_face = f.action("no_face", Action.QUARANTINE)

    raw_rules = f.data.get("rules") or []
    if keep is not None:
        raw_rules = keep_rules(keep, no_face)
    elif f.has("no_face"):
        problems.append(f"{source}: field 'no_face' applies only with --keep; write a rule with 'faces: 0' instead")
    if not isinstance(raw_rules, list):
        f.report(f.fail("rules", "a list of rules"))
        raw_rules = []
    rules = []
    for i, raw in enumerate(raw_rules, start=1):
        try:
            rules.append(rule(raw, i, source, defaults, problems))
        except RulesError as err:
            problems.append(str(err))
    names = [r.name for r in rules]
    twice = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    problems += [f"{source}: rule name {n!r} is used twice; names must be unique" for n in twice]

    analyze = f.data.get("analyze", ["gender"])
    if not isinstance(analyze, list) or not all(a in ("gender", "age") for a in analyze):
        f.report(f.fail("analyze", "a list of gender and/or age"))
        analyze = ["gender"]
    attributes = set(analyze)
    if any(r.when.gender is not None or r.when.gender_confidence is not None for r in rules):
        attributes.add("gender")
    if any(r.when.age is not None for r in rules):
        attributes.add("age")
    cannot_tell = _cannot_tell(f, source, problems)
    chosen = {task: _model(f, task, source, problems) for task in ("gender", "age")}
    if cannot_tell.child_age > 0 and chosen["age"] == BUILTIN:
        # a child's gender is not judged: the built-in age model says who is one (whatever the
        # rules, so that one analysis serves every rule set from the cache).  Another age model
        # (DeepFace's, a manifest's) runs only where the rules ask for age: its weights may be absent.
        attributes.add("age")
    detector = f.data.get("detector") or model_choice.default_detector()
    if not isinstance(detector, str):
        f.report(f.fail("detector", "a deepface detector name such as yunet"))
        detector = model_choice.default_detector()
    result = RuleSet(
        rules=tuple(rules),
        default_action=default_action,
        default_reason=default_reason,
        engine=f.choice("engine", ENGINES, "onnx"),
        detector=detector,
        gender_model=chosen["gender"],
        age_model=chosen["age"],
        min_face_size=int(f.number("min_face_size", RuleSet.min_face_size, 0, 100_000)),
        min_detector_confidence=f.number("min_detector_confidence", 0.0, 0.0, 1.0),
        max_pixels=int(f.number("max_pixels", RuleSet.max_pixels, 1, 10**12)),
        detect_size=int(f.number("detect_size", RuleSet.detect_size, 0, 100_000)),
        memory_budget=int(f.number("memory_budget", RuleSet.memory_budget, 32, 1 << 20)),
        exclude=_patterns(f, "exclude"),
        include=_patterns(f, "include"),
        attributes=frozenset(attributes),
        cannot_tell=cannot_tell,
        source=source,
    )
    if problems:
        raise RulesError(listed(source, problems))
    return result


def _cannot_tell(f: RuleFields, source: str, problems: list[str]) -> CannotTell:
    """The ``cannot_tell`` block: when evidence too weak to judge sends a photo to review."""
    cf = RuleFields(f.data.get("cannot_tell") or {}, f"{source}: cannot_tell", CANNOT_TELL_KEYS, problems=problems)
    near_miss = cf.data.get("near_miss", True)
    if not isinstance(near_miss, bool):
        cf.report(cf.fail("near_miss", "true or false"))
        near_miss = True
    d = CannotTell()
    return CannotTell(
        near_miss=near_miss,
        small_faces=int(cf.number("small_faces", d.small_faces, 0, 100_000)),
        min_sharpness=cf.number("min_sharpness", d.min_sharpness, 0, 1e9),
        max_yaw=cf.number("max_yaw", d.max_yaw, 0, 90),
        child_age=cf.number("child_age", d.child_age, 0, 150),
    )


def _model(f: RuleFields, task: str, source: str, problems: list[str]) -> str:
    key = f"{task}_model"
    try:
        if f.has(key):
            base = Path(source).parent if Path(source).is_file() else None
            return model_choice.model(f.data[key], task, f"{source}: field '{key}'", base)
        return model_choice.default_model(task)
    except RulesError as err:  # a ManifestError too: it names the manifest and the field
        problems.append(str(err))
        return model_choice.DEFAULT_MODEL


def load_text(text: str, source: str, keep: str | None = None) -> RuleSet:
    if len(text.encode()) > MAX_RULES_BYTES:
        raise RulesError(f"{source}: larger than {MAX_RULES_BYTES} bytes; this is not a rules file")
    data = load_yaml(text, source, "rules file", RulesError)
    try:
        return parse(data, source, keep)
    except RecursionError:
        raise RulesError(f"{source}: nested too deeply; this is not a rules file") from None


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
