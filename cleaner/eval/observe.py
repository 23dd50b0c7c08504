"""``face-clean eval``'s measurements: every labelled photo analysed once, through the same cache as
``run`` (or a throw-away one), and the numbers of each detector x gender model."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cleaner.eval import risk
from cleaner.eval.breakdown import ComparisonRow, extra_json, summarise
from cleaner.eval.evaluation import MISSING, Evaluation, Observation, rules_threshold
from cleaner.eval.labels import LabelSet
from cleaner.paths import STATE_DB
from cleaner.rules.model import RuleSet
from cleaner.store.db import StateDB

log = logging.getLogger("face-clean")


@contextmanager
def _state(path: Path | None) -> Iterator[StateDB]:
    """The state database at ``path``, or a throw-away one (``--no-cache``)."""
    with tempfile.TemporaryDirectory(prefix="face-clean-eval-") as scratch:
        with StateDB(path or Path(scratch) / STATE_DB) as state:
            yield state


def observe(
    rs: RuleSet, labels: LabelSet, state_path: Path | None, verbose: int
) -> tuple[list[Observation], float | None]:
    """Analyse every labelled image once, in order, answered from the cache where it can be; with
    the rate of the images analysed now (model loading left out; None if all came from the cache)."""
    from tqdm import tqdm

    from cleaner.commands.session import local_analyzer

    present = [i for i in labels.items if os.path.lexists(i.path)]
    found: dict[Path, Observation] = {}
    with _state(state_path) as state, tqdm(total=len(present), unit="img", disable=None, dynamic_ncols=True) as bar:
        analyzer = local_analyzer(rs, state, verbose)  # loads the models: not timed
        identity = analyzer.identity.key
        started = time.perf_counter()
        analyses = analyzer.analyze_many(state.cached_many([i.path for i in present], identity))
        try:
            for item, analysis in zip(present, analyses, strict=True):
                state.remember(analysis, identity)
                found[item.path] = Observation.of(rs, item.label, analysis, item.groups)
                bar.update()
        finally:
            state.commit()
        seconds = time.perf_counter() - started
    fresh = sum(not o.cached for o in found.values())
    out = [found.get(i.path) or Observation(i.path, i.label, False, MISSING) for i in labels.items]
    for o in out:
        shown = o.predicted(rules_threshold(rs)) if o.readable else f"unreadable: {o.error}"
        confidence = f" ({o.gender} {o.confidence:.2f})" if o.confidence is not None else ""
        log.info(f"{o.path}: label {o.label}, predicted {shown}{confidence}")
    return out, (fresh / seconds if fresh and seconds > 0 else None)


@dataclass(frozen=True)
class Measured:
    """One detector x gender model over the labelled photos."""

    rules: RuleSet
    evaluation: Evaluation
    row: ComparisonRow


def measure(rs: RuleSet, labels: LabelSet, state_path: Path | None, verbose: int) -> Measured:
    observations, rate = observe(rs, labels, state_path, verbose)
    ev = Evaluation(tuple(observations), rules_threshold(rs))
    model = Path(rs.gender_model).stem if os.sep in rs.gender_model else rs.gender_model
    return Measured(rs, ev, summarise(observations, ev.threshold, rs.detector, model, rate))


def numbers(labels: LabelSet, runs: list[Measured]) -> dict[str, Any]:
    """Every number of every run, for ``--json``."""
    source = {"source": str(labels.source), "format": labels.format, "root": str(labels.root)}
    found: dict[str, Any] = {"labels": source, "skipped_labels": labels.skipped, "unlabelled_files": labels.unlabelled}
    each = [
        {
            **m.evaluation.to_json(),
            **extra_json(m.evaluation),
            "summary": asdict(m.row),
            "risk_coverage": risk.to_json(risk.of_evaluation(m.rules, m.evaluation)),
        }
        for m in runs
    ]
    return found | (each[0] if len(each) == 1 else {"comparison": [asdict(m.row) for m in runs], "runs": each})
