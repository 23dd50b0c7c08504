"""Apply a rule set to one image's analysis: first matching rule wins.

Per-face conditions use three-valued logic: a face whose gender confidence is under the
rule's threshold is *uncertain* for a gender condition, neither a match nor a miss.  A rule
whose answer depends on uncertain faces stops the search and sends the image to the rule's
"uncertain" action, so an unsure model never silently keeps or rejects a photo.  A face that
cannot be judged (a child, blurred, turned) is uncertain too, and evidence the counted faces leave
out (near misses, small faces) sends a photo to review where it would change the decision
(cleaner.rules.doubts).
"""

from __future__ import annotations

from enum import Enum

from cleaner.records import Action, Decision, Face, ImageAnalysis, Status
from cleaner.rules.doubts import face_doubt, unknown_face
from cleaner.rules.model import NEAR_MISS, SMALL_FACE, CannotTell, Condition, Rule, RuleSet

NO_DOUBTS = CannotTell(near_miss=False, small_faces=0, child_age=0)  # what a caller that asks for none gets


class Truth(Enum):
    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


def _all(values: list[Truth]) -> Truth:
    return min(values, key=lambda t: t.value, default=Truth.TRUE)


def _any(values: list[Truth]) -> Truth:
    return max(values, key=lambda t: t.value, default=Truth.FALSE)


def considered_faces(rs: RuleSet, analysis: ImageAnalysis) -> list[Face]:
    """Faces too small or too doubtful to count are ignored everywhere, even in ``faces: 0``."""
    return [
        f
        for f in analysis.faces
        if f.box.size >= rs.min_face_size and f.detector_confidence >= rs.min_detector_confidence
    ]


def face_matches(rule: Rule, face: Face, ct: CannotTell = NO_DOUBTS) -> Truth:
    when = rule.when
    checks: list[Truth] = []
    if when.gender is not None:
        confidence = face.gender_confidence
        if confidence is None or confidence < rule.min_gender_confidence or face_doubt(ct, face):
            checks.append(Truth.UNKNOWN)
        else:
            checks.append(Truth.TRUE if face.dominant_gender == when.gender else Truth.FALSE)
    ranges = (
        (when.gender_confidence, face.gender_confidence),
        (when.face_size, face.box.size),
        (when.detector_confidence, face.detector_confidence),
        (when.age, face.age),
    )
    for wanted, value in ranges:
        if wanted is not None:
            checks.append(Truth.TRUE if value is not None and wanted.contains(value) else Truth.FALSE)
    return _all(checks)


def combine(policy: str, faces: list[Face], values: list[Truth]) -> Truth:
    """Turn per-face answers into one answer for the image, by the rule's multi-face policy."""
    if not values:
        return Truth.FALSE
    if policy == "any":
        return _any(values)
    if policy == "all":
        return _all(values)
    if policy == "largest":
        largest = max(range(len(faces)), key=lambda i: faces[i].box.area)
        return values[largest]
    # majority: more than half must match; undecided while the uncertain ones could tip it
    yes = sum(v is Truth.TRUE for v in values)
    maybe = sum(v is Truth.UNKNOWN for v in values)
    if 2 * yes > len(values):
        return Truth.TRUE
    if 2 * (yes + maybe) <= len(values):
        return Truth.FALSE
    return Truth.UNKNOWN


def rule_matches(rule: Rule, analysis: ImageAnalysis, faces: list[Face], ct: CannotTell = NO_DOUBTS) -> Truth:
    when: Condition = rule.when
    if not analysis.readable:
        return Truth.TRUE if when.unreadable else Truth.FALSE
    if when.unreadable:
        return Truth.FALSE
    count = Truth.TRUE
    if when.faces is not None:
        count = Truth.TRUE if when.faces.contains(len(faces)) else Truth.FALSE
    if not when.per_face:
        return count
    per_face = combine(rule.multi_face, faces, [face_matches(rule, f, ct) for f in faces])
    return _all([count, per_face])


def decide(rs: RuleSet, analysis: ImageAnalysis) -> Decision:
    if analysis.status in (Status.SKIPPED, Status.ERROR):
        # Never looked inside (a link) or the model failed: no rule has evidence to act on.
        return Decision(Action.KEEP, analysis.status.value)
    faces = considered_faces(rs, analysis)
    decision = _decide(rs, analysis, faces)
    if decision.uncertain or not analysis.readable:
        return decision
    return _overlooked(rs, analysis, faces, decision) or decision


def _overlooked(rs: RuleSet, analysis: ImageAnalysis, faces: list[Face], decision: Decision) -> Decision | None:
    """Review, when counting what the counted faces leave out would change what is done (cleaner.rules.doubts)."""
    ct, n = rs.cannot_tell, len(faces)
    near = [
        unknown_face(f)
        for f in analysis.near_misses
        if f.box.size >= rs.min_face_size and f.detector_confidence >= rs.min_detector_confidence
    ]
    if ct.near_miss and near and _decide(rs, analysis, faces + near).action is not decision.action:
        return Decision(Action.REVIEW, NEAR_MISS, NEAR_MISS, uncertain=True, faces_considered=n)
    small = [
        f
        for f in analysis.faces
        if ct.small_faces
        and ct.small_faces <= f.box.size < rs.min_face_size
        and f.detector_confidence >= rs.min_detector_confidence
    ]
    if small and _decide(rs, analysis, faces + small).action is not decision.action:
        return Decision(Action.REVIEW, SMALL_FACE, SMALL_FACE, uncertain=True, faces_considered=n)
    return None


def _decide(rs: RuleSet, analysis: ImageAnalysis, faces: list[Face]) -> Decision:
    n = len(faces)
    ct = rs.cannot_tell
    for rule in rs.rules:
        truth = rule_matches(rule, analysis, faces, ct)
        if truth is Truth.TRUE:
            return Decision(rule.action, rule.name, rule.reason, faces_considered=n)
        if truth is Truth.UNKNOWN:
            reason = rule.uncertain_reason
            doubts = [d for f in sorted(faces, key=lambda f: -f.box.area) if (d := face_doubt(ct, f))]
            if doubts and rule.on_uncertain is not Action.KEEP:
                reason = doubts[0]  # the largest doubtful face's: child, blurred or turned
            return Decision(rule.on_uncertain, rule.name, reason, uncertain=True, faces_considered=n)
    if not analysis.readable:
        # Unreadable files stay put unless a rule explicitly asks otherwise.
        return Decision(Action.KEEP, "unreadable", None, faces_considered=0)
    return Decision(rs.default_action, "default", rs.default_reason, faces_considered=n)
