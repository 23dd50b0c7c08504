"""``face-clean eval DIR --format verdicts``: a person's verdicts as labels. Each photo given a verdict
(found where the audit log says it is now) is analysed (from the cache where it can be) and decided by
the rules, ignoring the verdict; the rules' action is compared with the person's: how often the rules
would have done what the person wanted, and which photos they get wrong."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cleaner.paths import Layout
from cleaner.pipeline.verdicts.targets import Finder
from cleaner.records import Action
from cleaner.rules.deciding import decide
from cleaner.rules.model import RuleSet
from cleaner.store.db import StateDB

AGREES = {"keep": (Action.KEEP.value,), "reject": (Action.QUARANTINE.value,)}


@dataclass(frozen=True)
class Compared:
    path: str
    verdict: str  # the person's: keep | reject
    rules: str  # what the rules would do: keep | quarantine | review | unreadable
    reason: str | None

    @property
    def agrees(self) -> bool:
        return self.rules in AGREES[self.verdict]


def compare(rs: RuleSet, layout: Layout, verbose: int) -> tuple[list[Compared], int]:
    """Every verdict whose photo is found, compared; and how many verdicts have no photo left."""
    from cleaner.commands.session import local_analyzer

    if not layout.state_db.is_file():
        return [], 0
    finder = Finder.of(layout)
    with StateDB(layout.state_db) as state:
        verdicts = state.all_verdicts()
        found = {}
        for v in verdicts:
            at = next((p for p in finder.everywhere(v.sha256) if os.path.isfile(p)), None)
            if at is not None:
                found[Path(at)] = v
        analyzer = local_analyzer(rs, state, verbose)
        identity = analyzer.identity.key
        out = []
        for analysis in analyzer.analyze_many(state.cached_many(list(found), identity)):
            v = found[analysis.path]
            shown = os.path.relpath(analysis.path, layout.root)
            if not analysis.readable:
                out.append(Compared(shown, v.verdict, "unreadable", analysis.error))
                continue
            d = decide(rs, analysis)
            out.append(Compared(shown, v.verdict, d.action.value, d.reason))
        missing = len(verdicts) - len(found)
    return out, missing


def render(compared: list[Compared], missing: int) -> str:
    """The person's verdicts against the rules: a table, the agreement, the photos the rules get wrong."""
    if not compared:
        return "no verdicts with a photo to compare: give some (face-clean verdict, the review page, restore)"
    table = Counter((c.verdict, c.rules) for c in compared)
    columns = ["keep", "quarantine", "review", "unreadable"]
    lines = ["person \\ rules  " + "".join(f"{c:>12}" for c in columns)]
    for verdict in ("keep", "reject"):
        lines.append(f"{verdict:<15}" + "".join(f"{table[(verdict, c)]:>12}" for c in columns))
    agree = sum(c.agrees for c in compared)
    lines.append(f"the rules agree with {agree} of {len(compared)} verdicts ({100 * agree / len(compared):.1f} %)")
    wrong = [c for c in compared if not c.agrees]
    for c in wrong:
        lines.append(f"  {c.path}: you said {c.verdict}, the rules {c.rules}" + (f" ({c.reason})" if c.reason else ""))
    if missing:
        lines.append(f"({missing} verdicts name photos no longer found in the folder, quarantine or review folder)")
    return "\n".join(lines)
