"""The audit record of one decision: the file, what the analysis found, which rule decided, by which
models, and, once the action is done, what it did."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from cleaner.analysis.protocol import ModelIdentity
from cleaner.paths import below
from cleaner.pipeline.actions import Item
from cleaner.records import AuditAction, AuditRecord, Decision, ImageAnalysis, Outcome, now


def decided(
    root: Path,
    a: ImageAnalysis,
    d: Decision,
    identity: ModelIdentity,
    run_id: str,
    dry_run: bool,
    decision_key: str | None,
) -> AuditRecord:
    """The record of a decision before its action: nothing moved yet."""
    return AuditRecord(
        time=now(),
        run_id=run_id,
        root=str(root),
        path=below(root, a.path),
        size=a.size,
        sha256=a.sha256,
        status=a.status.value,
        error=a.error,
        width=a.width,
        height=a.height,
        faces=[asdict(f) for f in a.faces],
        faces_considered=d.faces_considered,
        cached=a.cached,
        rule=d.rule,
        action=AuditAction.of(d.action).value,
        reason=d.reason,
        uncertain=d.uncertain,
        destination=None,
        moved=False,
        dry_run=dry_run,
        engine=identity.engine,
        detector=identity.detector,
        model_files=list(identity.model_files),
        model_sha256=list(identity.model_sha256),
        deepface_version=identity.deepface_version,
        gender_model=identity.gender_model,
        age_model=identity.age_model,
        notes=list(a.notes),
        decision_key=decision_key,
        near_misses=[asdict(f) for f in a.near_misses],
    )


def done(item: Item, outcome: Outcome) -> AuditRecord:
    """The record of a decision whose action is done (and wrote no record itself)."""
    return replace(
        item.record,
        time=now(),
        error=outcome.error or item.record.error,
        destination=str(outcome.destination) if outcome.destination else None,
        moved=outcome.moved,
        notes=[*item.record.notes, *outcome.notes],
    )
