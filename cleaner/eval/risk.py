"""The risk-coverage table: at each confidence threshold, what share of photos a policy silently
misplaces and what share it sends to a person, decided by the very rules ``run --keep`` uses.

For each policy (``--keep Man``, ``--keep Woman``) each labelled photo is decided by the rules
(cleaner.rules.deciding, with the user's settings: sizes, the ``cannot_tell`` checks) at each
threshold of ``min_gender_confidence``, and is **right** (kept when a person of the policy's gender
is in it, ``mixed`` included; quarantined otherwise), **misplaced** (the other move, without a
word) or sent to **review**.  Broken down by the largest face's size, and by the CSV's ``age`` and
``dataset`` columns where the labels have them (cleaner.eval.labels.GROUP_COLUMNS).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cleaner.eval.evaluation import Evaluation
from cleaner.records import Action, ImageAnalysis
from cleaner.rules.deciding import considered_faces, decide
from cleaner.rules.model import RuleSet
from cleaner.rules.parsing import keep_rules, rule

POLICIES = ("Man", "Woman")
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
SIZE_BANDS = ((0, "no face"), (1, "< 48 px"), (48, "48-95 px"), (96, ">= 96 px"))
OUTCOMES = ("right", "misplaced", "review")


@dataclass(frozen=True)
class Point:
    """One policy at one threshold over one group of photos."""

    policy: str
    threshold: float
    group: str
    photos: int
    right: int
    misplaced: int
    review: int

    @property
    def misplaced_share(self) -> float:
        return self.misplaced / self.photos if self.photos else 0.0

    @property
    def review_share(self) -> float:
        return self.review / self.photos if self.photos else 0.0


def policy_rules(rs: RuleSet, policy: str, threshold: float) -> RuleSet:
    """``--keep policy`` with the user's settings, every gender judged at ``threshold``."""
    from cleaner.rules.parsing import RuleDefaults

    defaults = RuleDefaults("any", threshold, Action.REVIEW, "uncertain")
    rules = tuple(
        rule(raw, i, "--keep", defaults, []) for i, raw in enumerate(keep_rules(policy, Action.QUARANTINE), 1)
    )
    return replace(rs, rules=rules, attributes=rs.attributes | {"gender"})


def outcome(rs: RuleSet, policy: str, label: str, analysis: ImageAnalysis) -> str:
    """right, misplaced or review: what the rules did with one labelled photo."""
    action = decide(rs, analysis).action
    if action is Action.REVIEW:
        return "review"
    wanted = Action.KEEP if label in (policy, "mixed") else Action.QUARANTINE
    return "right" if action is wanted else "misplaced"


def size_band(rs: RuleSet, analysis: ImageAnalysis) -> str:
    faces = considered_faces(rs, analysis)
    size = max((f.box.size for f in faces), default=0)
    return [name for lo, name in SIZE_BANDS if size >= lo][-1]


def table(rs: RuleSet, photos: Iterable[tuple[str, tuple[tuple[str, str], ...], ImageAnalysis]]) -> list[Point]:
    """Every policy x threshold x group (``all``, ``size ...``, ``age ...``, ``dataset ...``)."""
    readable = [(label, groups, a) for label, groups, a in photos if a.readable]
    points: list[Point] = []
    for policy in POLICIES:
        for t in sorted({*THRESHOLDS, *(r.min_gender_confidence for r in rs.rules if r.when.gender)}):
            prs = policy_rules(rs, policy, t)
            counts: dict[str, Counter[str]] = {}
            for label, groups, a in readable:
                result = outcome(prs, policy, label, a)
                names = ["all", f"size {size_band(prs, a)}", *(f"{k} {v}" for k, v in groups)]
                for name in names:
                    counts.setdefault(name, Counter())[result] += 1
            for name, c in counts.items():
                points.append(Point(policy, t, name, sum(c.values()), c["right"], c["misplaced"], c["review"]))
    return points


def render(points: list[Point], groups: bool = True) -> str:
    """The table as text: overall at each threshold, then by group at the rules' threshold."""
    lines = ["Risk and coverage (each policy as run --keep decides it; misplaced = moved the wrong way, unsaid):"]
    lines.append(f"  {'policy':<12}{'threshold':>10}{'photos':>8}{'right':>14}{'misplaced':>14}{'review':>14}")
    for p in points:
        if p.group == "all":
            lines.append(_line(p, f"--keep {p.policy}", f"{p.threshold:.2f}"))
    return "\n".join(lines)


def render_groups(points: list[Point], threshold: float) -> str:
    lines = [f"By group, at threshold {threshold:.2f}:"]
    lines.append(f"  {'group':<28}{'policy':>8}{'photos':>8}{'right':>14}{'misplaced':>14}{'review':>14}")
    for p in sorted(
        (p for p in points if p.group != "all" and p.threshold == threshold), key=lambda p: (p.group, p.policy)
    ):
        lines.append(f"  {p.group[:27]:<28}{p.policy:>8}{p.photos:>8}" + _cells(p))
    return "\n".join(lines)


def _cells(p: Point) -> str:
    def cell(n: int) -> str:
        return f"{n} ({100 * n / p.photos:.1f}%)" if p.photos else "-"

    return f"{cell(p.right):>14}{cell(p.misplaced):>14}{cell(p.review):>14}"


def _line(p: Point, name: str, threshold: str) -> str:
    return f"  {name:<12}{threshold:>10}{p.photos:>8}" + _cells(p)


def of_evaluation(rs: RuleSet, ev: Evaluation) -> list[Point]:
    """The table for an eval's labelled photos, under the rules' settings."""
    return table(rs, [(o.label, o.groups, o.analysis) for o in ev.evaluated if o.analysis is not None])


def to_json(points: list[Point]) -> list[dict[str, object]]:
    return [
        {
            "policy": p.policy,
            "threshold": p.threshold,
            "group": p.group,
            "photos": p.photos,
            "right": p.right,
            "misplaced": p.misplaced,
            "review": p.review,
        }
        for p in points
    ]
