"""Say in plain words how the engine reads a rule set (what ``face-clean check`` prints)."""

from __future__ import annotations

from cleaner.records import Action
from cleaner.rules.model import Condition, Range, Rule, RuleSet


def _target(action: Action, reason: str | None) -> str:
    return action.value if action is Action.KEEP else f"{action.value} to {reason}/"


def _range(label: str, r: Range | None) -> list[str]:
    return [] if r is None else [f"{label} {r.describe()}"]


def _condition(rule: Rule) -> str:
    w: Condition = rule.when
    if w.unreadable is not None:
        return "if the file is unreadable" if w.unreadable else "if the file is readable"
    parts = _range("faces", w.faces)
    face: list[str] = []
    if w.gender:
        face.append(f"gender is {w.gender} (at confidence >= {rule.min_gender_confidence:.2f})")
    face += _range("gender confidence", w.gender_confidence)
    face += _range("face size (px)", w.face_size)
    face += _range("detector confidence", w.detector_confidence)
    face += _range("age", w.age)
    if face:
        policy = {
            "any": "any face",
            "all": "every face",
            "largest": "the largest face",
            "majority": "most faces",
        }[rule.multi_face]
        parts.append(f"{policy}: " + " and ".join(face))
    return "if " + " and ".join(parts) if parts else "always"


def describe(rs: RuleSet) -> str:
    lines = [
        f"Rules from {rs.source}",
        f"  engine {rs.engine}, detector {rs.detector}, analyse: {', '.join(sorted(rs.attributes)) or 'faces only'}",
        "  models: "
        + ", ".join(f"{a} {rs.gender_model if a == 'gender' else rs.age_model}" for a in sorted(rs.attributes))
        if rs.attributes
        else "  models: none (faces only)",
        f"  faces are ignored when smaller than {rs.min_face_size} px or detector confidence is below "
        f"{rs.min_detector_confidence:.2f}; images over {rs.max_pixels} pixels are unreadable",
        f"  images that would take more than {rs.memory_budget} MB to read and decode are skipped, unread",
        f"  faces are detected on a copy of at most {rs.detect_size} px"
        if rs.detect_size
        else "  faces are detected at full resolution",
        f"  never scanned: {', '.join(rs.exclude) or '(only the face-clean folders)'}",
        "First matching rule wins:",
    ]
    for i, rule in enumerate(rs.rules, start=1):
        line = f"  {i}. {rule.name}: {_condition(rule)} -> {_target(rule.action, rule.reason)}"
        if rule.when.gender:
            line += f"; if uncertain -> {_target(rule.on_uncertain, rule.uncertain_reason)}"
        lines.append(line)
    lines.append(f"  otherwise -> {_target(rs.default_action, rs.default_reason)}")
    lines += cannot_tell(rs)
    if not any(r.when.unreadable for r in rs.rules):
        lines.append("  unreadable files -> keep (left in place, recorded)")
    return "\n".join(lines)


def cannot_tell(rs: RuleSet) -> list[str]:
    """What sends a photo to review because the evidence is too weak (cleaner.rules.doubts)."""
    ct = rs.cannot_tell
    judged = any(r.when.gender is not None for r in rs.rules)
    lines = ["Cannot tell -> review, with these reasons:"]
    if ct.near_miss:
        lines.append(
            "  near-miss: a detection just under the detector's threshold, counted as a "
            "face of unknown gender, would change the decision"
        )
    if ct.small_faces and ct.small_faces < rs.min_face_size:
        lines.append(
            f"  small-face: a face of {ct.small_faces} to {rs.min_face_size - 1} px, too small to count, would "
            "change the decision (a group photo whose only man is small)"
        )
    if judged:
        if ct.child_age > 0 and "age" not in rs.attributes:
            lines.append(
                "  child: off here: no age is analysed (the built-in age model, or a rule on age, turns it on)"
            )
        elif ct.child_age > 0:
            lines.append(
                f"  child: the deciding face is under {ct.child_age:g} by the age model; no gender is judged "
                "for it (cannot_tell: child_age: 0 turns this off)"
            )
        if ct.min_sharpness > 0:
            lines.append(f"  blurred: the deciding face's sharpness is under {ct.min_sharpness:g}")
        if ct.max_yaw < 90:
            lines.append(f"  turned: the deciding face is turned more than {ct.max_yaw:g} degrees from the camera")
    return lines if len(lines) > 1 else []
