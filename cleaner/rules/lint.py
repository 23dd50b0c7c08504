"""Rules that can never match: legal, but almost always a mistake (a typo in a bound, a catch-all
rule placed too early). ``check``, ``run`` and ``watch`` warn about each; nothing is refused."""

from __future__ import annotations

from cleaner.rules.model import Range, Rule, RuleSet


def _label(index: int, rule: Rule) -> str:
    return f"rule {index} ({rule.name!r})"


def _below(r: Range | None, bound: float) -> bool:
    """The range allows nothing at or above ``bound``."""
    return r is not None and r.max is not None and r.max < bound


def matches_every_photo(rule: Rule) -> bool:
    """No condition (``faces: {min: 0}`` is none either): every readable photo matches."""
    w = rule.when
    no_faces_condition = w.faces is None or ((w.faces.min or 0) <= 0 and w.faces.max is None)
    return no_faces_condition and not w.per_face and w.unreadable is None


def never_matching(rs: RuleSet) -> list[str]:
    """One warning for each rule that no photo can match, saying why."""
    warnings: list[str] = []
    catch_all: tuple[int, Rule] | None = None
    seen: dict[tuple[object, ...], tuple[int, Rule]] = {}
    for i, rule in enumerate(rs.rules, start=1):
        w, label = rule.when, _label(i, rule)
        key = (w, rule.multi_face, rule.min_gender_confidence)
        why = None
        if catch_all is not None and not w.unreadable:
            why = f"{_label(*catch_all)} before it matches every photo"
        elif key in seen and not w.unreadable:
            why = f"{_label(*seen[key])} before it has the same conditions and decides first"
        elif w.per_face and w.faces is not None and _below(w.faces, 1):
            why = "it asks about faces of photos that have none (faces: 0)"
        elif _below(w.face_size, rs.min_face_size):
            why = f"its face_size is under min_face_size ({rs.min_face_size} px): such faces are ignored"
        elif rs.min_detector_confidence > 0 and _below(w.detector_confidence, rs.min_detector_confidence):
            why = f"its detector_confidence is under min_detector_confidence ({rs.min_detector_confidence:g})"
        elif w.gender is not None and _below(w.gender_confidence, rule.min_gender_confidence):
            why = (
                f"a gender counts only at confidence >= {rule.min_gender_confidence:g}, and its gender_confidence "
                "is lower (such photos get the 'uncertain' action instead)"
            )
        if why:
            warnings.append(f"{rs.source}: {label} can never match: {why}")
        seen.setdefault(key, (i, rule))
        if catch_all is None and matches_every_photo(rule):
            catch_all = (i, rule)
    return warnings
