"""Photos a person's verdict decides that lie in the review folder or the quarantine: run and watch
decide them again and move them where that decision says (the folder's files are decided as they are
scanned: cleaner.pipeline.job).

A photo sent to review waits there, outside the folder the scan walks; once its person is said to be
a man, say, the rules decide it with that, and a keep brings it back to its place in the folder
through restore's journalled move, with one record: the person's decision (rule ``person:<id>``). A
photo with a person's verdict of its own is left to that verdict. Its new place is remembered as
decided, so the next run repeats nothing.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from cleaner.fs.hashing import hash_file
from cleaner.fs.move import MoveError
from cleaner.pipeline.job import Job, said_of
from cleaner.pipeline.people.deciding import PersonCall
from cleaner.pipeline.people.step import recorded
from cleaner.pipeline.restore.log import Candidate
from cleaner.pipeline.restore.restorer import Kind, Restorer
from cleaner.pipeline.verdicts.apply import QUARANTINE, REVIEW
from cleaner.pipeline.verdicts.targets import Finder, area_of
from cleaner.records import Action, AuditRecord, ImageAnalysis, Outcome
from cleaner.rules.deciding import decide
from cleaner.store.decided import LogPosition

log = logging.getLogger("face-clean")


def pull(job: Job) -> int:
    """Move the photos in review or quarantine that their persons' verdicts now decide otherwise; how many."""
    if job.people is None or job.mover is None:
        return 0
    state = job.state
    verdicts = state.person_verdicts()
    shas = sorted({f.sha256 for p in verdicts for f in state.faces_of_person(p)})
    if not shas:
        return 0
    finder = Finder.of(job.layout)
    restorer = Restorer(job.layout, job.audit, rename=True)
    moved = 0
    try:
        for sha in shas:
            if state.verdict(sha) is not None:
                continue  # a person's verdict on this very photo outranks the person's
            for at in finder.everywhere(sha):
                moved += _one(job, restorer, Path(at), finder.at[at])
    finally:
        restorer.close()
    return moved


def _one(job: Job, restorer: Restorer, path: Path, record: AuditRecord) -> int:
    area = area_of(job.layout, str(path))
    if area not in (REVIEW, QUARANTINE) or job.people is None:
        return 0
    base = job.layout.review if area == REVIEW else job.layout.quarantine
    try:
        st, sha = hash_file(path, base)
    except OSError:
        return 0
    analysis = job.state.lookup(path, st.st_size, st.st_mtime_ns, sha, job.identity)
    if analysis is None:
        return 0  # analysed by other models: a person reviews it
    call = job.people.call(job.rules, analysis, decide(job.rules, analysis), False)
    if call is None:
        return 0
    action = call.decision.action
    if action is Action.KEEP:
        return _back(job, restorer, analysis, record, call)
    if action is Action.QUARANTINE and area == REVIEW:
        return _to_quarantine(job, restorer, analysis, record, call)
    return 0


def _back(job: Job, restorer: Restorer, analysis: ImageAnalysis, record: AuditRecord, call: PersonCall) -> int:
    def mark(r: AuditRecord) -> AuditRecord:
        kept = replace(r, run_id=job.run_id, action=Action.KEEP.value, rule=call.decision.rule, reason=None)
        return recorded(kept, call)

    result = restorer.restore(Candidate(replace(record, destination=str(analysis.path))), mark=mark)
    if result.kind is not Kind.RESTORED or result.destination is None:
        log.warning("%s: not brought back for its person: %s", analysis.path, result.detail or result.kind.value)
        return 0
    _decided(job, analysis, Path(result.destination), call)
    job.summary.add(analysis.status, Outcome(Action.KEEP, result.destination, True), None, record.path)
    return 1


def _to_quarantine(job: Job, restorer: Restorer, analysis: ImageAnalysis, record: AuditRecord, call: PersonCall) -> int:
    reason = call.decision.reason or "rejected"
    dst = Path(os.path.join(job.layout.quarantine, reason, record.path))

    def written(final: Path) -> AuditRecord:
        r = replace(record, run_id=job.run_id, action=Action.QUARANTINE.value, rule=call.decision.rule)
        return recorded(replace(r, reason=reason, destination=str(final), moved=True), call)

    if job.mover is None:
        return 0  # a dry run moves nothing
    try:
        job.mover.move(
            analysis.path,
            dst,
            str(analysis.sha256),
            written,
            src_base=job.layout.review,
            dst_base=job.layout.quarantine,
        )
    except MoveError as err:
        log.warning("%s: not moved for its person: %s", analysis.path, err)
        return 0
    restorer.prune(analysis.path.parent)
    job.summary.add(analysis.status, Outcome(Action.QUARANTINE, dst, True), reason, record.path)
    return 1


def _decided(job: Job, analysis: ImageAnalysis, at: Path, call: PersonCall) -> None:
    """The photo, back in the folder, is decided: the next run leaves it, with no second record."""
    try:
        st = os.lstat(at)
    except OSError:
        return
    here = replace(analysis, path=at, mtime_ns=st.st_mtime_ns, cached=True)
    job.state.remember(here, job.identity)
    said = said_of(job.identity, here, call.decision, job.audit.position()[0], call.who)
    job.state.mark_decided(here, job.decision_key, LogPosition(job.layout.audit_log.name, *job.audit.position()), said)
