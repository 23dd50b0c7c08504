"""How the rules decide: first match, multi-face policies, uncertain genders, ignored faces."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner.records import Action, Box, Face, ImageAnalysis, Status
from cleaner.rules import loading as rules
from cleaner.rules.deciding import decide


def face(gender: str, p: float, size: int = 100, conf: float = 0.9, age: float | None = None) -> Face:
    other = "Woman" if gender == "Man" else "Man"
    return Face(Box(0, 0, size, size), conf, {gender: p, other: 1 - p}, gender, age)


def image(*faces: Face, status: Status = Status.ANALYSED) -> ImageAnalysis:
    return ImageAnalysis(Path("/x/a.jpg"), 10, "0" * 64, status=status, faces=faces)


def ruleset(text: str) -> rules.RuleSet:
    return rules.load_text(text, "test")


KEEP_MEN = """
rules:
  - {name: no-face, when: {faces: 0}, action: quarantine, reason: no-face}
  - {name: men, when: {gender: Man}, action: keep, multi_face: POLICY}
  - {name: rest, action: quarantine, reason: not-man}
"""


@pytest.mark.parametrize(
    ("policy", "faces", "expected"),
    [
        ("any", [face("Man", 0.9), face("Woman", 0.9)], "men"),
        ("all", [face("Man", 0.9), face("Woman", 0.9)], "rest"),
        ("all", [face("Man", 0.9), face("Man", 0.95)], "men"),
        ("largest", [face("Man", 0.9, size=50), face("Woman", 0.9, size=120)], "rest"),
        ("largest", [face("Man", 0.9, size=150), face("Woman", 0.9, size=120)], "men"),
        ("majority", [face("Man", 0.9), face("Man", 0.9), face("Woman", 0.9)], "men"),
        ("majority", [face("Man", 0.9), face("Woman", 0.9)], "rest"),
    ],
)
def test_multi_face_policies(policy, faces, expected):
    d = decide(ruleset(KEEP_MEN.replace("POLICY", policy)), image(*faces))
    assert d.rule == expected
    assert not d.uncertain


@pytest.mark.parametrize(
    ("policy", "faces", "expected_rule", "uncertain"),
    [
        ("any", [face("Man", 0.6)], "men", True),  # the only face is unsure: never silently a match
        ("any", [face("Woman", 0.6), face("Man", 0.95)], "men", False),  # one sure man is enough
        ("all", [face("Man", 0.95), face("Man", 0.6)], "men", True),
        ("all", [face("Woman", 0.95), face("Man", 0.6)], "rest", False),  # already fails for sure
        ("majority", [face("Man", 0.95), face("Man", 0.6), face("Woman", 0.9)], "men", True),
    ],
)
def test_uncertain_gender_goes_to_the_uncertain_action(policy, faces, expected_rule, uncertain):
    rs = ruleset(KEEP_MEN.replace("POLICY", policy))
    d = decide(rs, image(*faces))
    assert (d.rule, d.uncertain) == (expected_rule, uncertain)
    if uncertain:
        assert (d.action, d.reason) == (Action.REVIEW, "uncertain")


def test_uncertain_action_is_configurable_globally_and_per_rule():
    rs = ruleset(KEEP_MEN.replace("POLICY", "any") + "uncertain: {action: quarantine, reason: unsure}\n")
    assert (decide(rs, image(face("Man", 0.6))).action, decide(rs, image(face("Man", 0.6))).reason) == (
        Action.QUARANTINE,
        "unsure",
    )
    per_rule = ruleset("rules:\n  - {name: men, when: {gender: Man}, action: keep, uncertain: {action: keep}}\n")
    d = decide(per_rule, image(face("Man", 0.6)))
    assert (d.action, d.uncertain) == (Action.KEEP, True)


def test_small_and_doubtful_faces_are_ignored_everywhere():
    # with the small-face check off (cannot_tell: small_faces: 0), as with a face under its floor
    rs = ruleset(
        KEEP_MEN.replace("POLICY", "any")
        + "min_face_size: 40\nmin_detector_confidence: 0.5\ncannot_tell: {small_faces: 0}\n"
    )
    assert decide(rs, image(face("Man", 0.99, size=30))).rule == "no-face"
    assert decide(rs, image(face("Man", 0.99, conf=0.3))).rule == "no-face"
    d = decide(rs, image(face("Man", 0.99, size=30), face("Woman", 0.99, size=80)))
    assert (d.rule, d.faces_considered) == ("rest", 1)
    on = ruleset(KEEP_MEN.replace("POLICY", "any") + "min_face_size: 40\nmin_detector_confidence: 0.5\n")
    assert decide(on, image(face("Man", 0.99, size=20))).rule == "no-face"  # under small_faces (24): nothing
    assert decide(on, image(face("Man", 0.99, conf=0.3))).rule == "no-face"


def test_a_small_face_that_would_change_the_decision_sends_the_photo_to_review():
    rs = ruleset(KEEP_MEN.replace("POLICY", "any") + "min_face_size: 40\n")
    d = decide(rs, image(face("Man", 0.99, size=30), face("Woman", 0.99, size=80)))
    assert (d.action, d.reason, d.faces_considered) == (Action.REVIEW, "small-face", 1)
    d = decide(rs, image(face("Man", 0.99, size=30)))
    assert (d.action, d.reason) == (Action.REVIEW, "small-face")
    # a small woman beside a man changes nothing: kept
    assert decide(rs, image(face("Man", 0.99, size=80), face("Woman", 0.99, size=30))).action is Action.KEEP


def test_near_misses_children_blurred_and_turned_faces_go_to_review_with_their_reason():
    rs = ruleset(KEEP_MEN.replace("POLICY", "any") + "cannot_tell: {min_sharpness: 30, max_yaw: 50}\n")
    near = ImageAnalysis(Path("/x/a.jpg"), 10, "0" * 64, near_misses=(Face(Box(0, 0, 90, 90), 0.65),))
    d = decide(rs, near)
    assert (d.action, d.rule, d.reason) == (Action.REVIEW, "near-miss", "near-miss")
    assert decide(rs, image(face("Man", 0.99, age=6))).reason == "child"
    assert decide(rs, image(face("Man", 0.99, age=30))).action is Action.KEEP
    blurred = Face(Box(0, 0, 90, 90), 0.9, {"Man": 0.99, "Woman": 0.01}, "Man", 30, yaw=5, sharpness=10)
    turned = Face(Box(0, 0, 90, 90), 0.9, {"Man": 0.99, "Woman": 0.01}, "Man", 30, yaw=70, sharpness=300)
    assert decide(rs, image(blurred)).reason == "blurred"
    assert decide(rs, image(turned)).reason == "turned"
    off = ruleset(KEEP_MEN.replace("POLICY", "any") + "cannot_tell: {child_age: 0, near_miss: false}\n")
    assert decide(off, image(face("Man", 0.99, age=6))).action is Action.KEEP
    assert decide(off, near).rule == "no-face"


def test_face_size_confidence_and_age_conditions():
    rs = ruleset("""
rules:
  - {name: minor, when: {age: {max: 17}}, action: review, reason: minor}
  - {name: tiny, when: {face_size: {max: 60}}, action: quarantine, reason: tiny}
  - {name: sure-woman, when: {gender: Woman, gender_confidence: {min: 0.99}}, action: quarantine}
  - {name: two-or-more, when: {faces: {min: 2}}, action: quarantine, reason: group}
""")
    assert decide(rs, image(face("Man", 0.9, age=12))).rule == "minor"
    assert decide(rs, image(face("Man", 0.9, size=50, age=30))).rule == "tiny"
    assert decide(rs, image(face("Woman", 0.995, age=30))).reason == "sure-woman"
    assert decide(rs, image(face("Woman", 0.9, age=30))).rule == "default"
    assert decide(rs, image(face("Man", 0.9, age=30), face("Man", 0.9, age=30))).reason == "group"


def test_unreadable_files_stay_unless_a_rule_asks():
    broken = image(status=Status.UNREADABLE)
    d = decide(ruleset(KEEP_MEN.replace("POLICY", "any")), broken)
    assert (d.action, d.rule) == (Action.KEEP, "unreadable")  # "faces: 0" never matches a broken file
    asked = ruleset("rules:\n  - {name: broken, when: {unreadable: true}, action: quarantine, reason: corrupt}\n")
    assert decide(asked, broken).reason == "corrupt"
    assert decide(asked, image(status=Status.SKIPPED)).action is Action.KEEP
    assert decide(asked, image(status=Status.ERROR)).action is Action.KEEP


def test_default_action_when_nothing_matches():
    rs = ruleset(
        "default: {action: quarantine, reason: unmatched}\nrules:\n  - {name: men, when: {gender: Man}, action: keep}\n"
    )
    d = decide(rs, image(face("Woman", 0.99)))
    assert (d.action, d.rule, d.reason) == (Action.QUARANTINE, "default", "unmatched")
