"""Giving and withdrawing a person's verdict on one file, wherever it is now: the folder, the quarantine
or the review folder (``face-clean verdict``, the review page).

- **keep**: the verdict is stored, and a photo in the quarantine or review folder goes back to its
  place in the folder through restore's journalled move (cleaner.pipeline.restore: a taken name
  becomes ``name (1).jpg``); one in the folder stays.
- **reject**: the verdict is stored, and a photo in the folder or the review folder goes to the
  quarantine, under ``rejected`` (a photo already quarantined keeps its reason), through run's
  journalled move (cleaner.moves.mover).
- **withdraw**: the verdict is forgotten; nothing moves, and the next run lets the rules decide.

Each is one audit record (``action`` the verdict, ``decided_by: "person"``, ``who``), durable. The
verdict is stored before the move: a crash between them leaves a verdict that the next run applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cleaner.audit.log import AuditLog
from cleaner.fs.hashing import hash_file
from cleaner.fs.move import MoveError, free_name
from cleaner.fs.names import shown
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline.restore.log import MOVED_FROM, Candidate
from cleaner.pipeline.restore.restorer import Kind, Restorer
from cleaner.pipeline.verdicts.model import RULE, WITHDRAW
from cleaner.records import PERSON, AuditRecord, new_run_id, now
from cleaner.store.db import StateDB
from cleaner.store.verdicts import KEEP, REJECT, REJECTED, Verdict

log = logging.getLogger("face-clean")
FOLDER, QUARANTINE, REVIEW = "folder", "quarantine", "review"
ACTIONS = (KEEP, REJECT, WITHDRAW)


@dataclass(frozen=True)
class Target:
    """One file a verdict is about: where it is now, and the latest record about it (None: never decided)."""

    path: Path
    area: str  # FOLDER | QUARANTINE | REVIEW
    relpath: str  # its path below the folder: where it is, or where it came from
    record: AuditRecord | None


@dataclass(frozen=True)
class Applied:
    """What a verdict did to one file (or, in a dry run, would do)."""

    target: Target
    action: str
    ok: bool
    moved: bool = False
    destination: Path | None = None  # where the file is now (or would be)
    detail: str = ""
    record: AuditRecord | None = None
    copies: list[str] = field(default_factory=list)  # other paths of these bytes, to be decided again


@dataclass
class Tools:
    """What giving verdicts uses: everything of run's, and restore's restorer (its own journal)."""

    layout: Layout
    state: StateDB
    audit: AuditLog
    mover: Mover
    restorer: Restorer
    run_id: str = field(default_factory=new_run_id)
    # told the other paths of bytes given a verdict (the watch daemon looks at them again at once)
    again: Callable[[list[str]], None] = lambda paths: None
    # told where a keep put a photo back, and its sha256: the watch daemon, seeing it arrive, writes no
    # second record of the same verdict
    placed: Callable[[Path, str], None] = lambda path, sha256: None
    listed: Callable[[], None] | None = None  # puts these verdicts in the list of runs, before the first


def _base(layout: Layout, area: str) -> Path:
    """The folder of ``layout`` that a target in ``area`` lies in."""
    return {FOLDER: layout.root, QUARANTINE: layout.quarantine, REVIEW: layout.review}[area]


def apply(tools: Tools | None, layout: Layout, target: Target, action: str, who: str) -> Applied:
    """Give (or withdraw) the verdict ``action`` on ``target``; ``tools`` None is a dry run (the plan only)."""
    if tools is not None and tools.listed is not None:
        tools.listed()
        tools.listed = None
    done = _apply(tools, layout, target, action, who)
    if tools is not None:
        _log(done, who)
    if tools is not None and done.copies:
        tools.again(done.copies)
    return done


def _log(done: Applied, who: str) -> None:
    """One line per verdict applied (the daemon's log, which ``docker logs`` shows); names as printable text."""
    fields = {"event": "verdict", "action": done.action, "path": done.target.relpath, "who": who, "ok": done.ok}
    if not done.ok:
        text = f"verdict {done.action} on {done.target.relpath} by {who} failed: {done.detail}"
        log.warning(shown(text), extra=fields)
        return
    where = f" -> {done.destination}" if done.moved else ""
    log.info(shown(f"verdict {done.action} on {done.target.relpath} by {who}{where}"), extra=fields)


def _apply(tools: Tools | None, layout: Layout, target: Target, action: str, who: str) -> Applied:
    try:
        st, sha = hash_file(target.path, _base(layout, target.area))  # never through a link, never a pipe
    except OSError as err:
        return Applied(target, action, False, detail=f"cannot read {target.path}: {err.strerror or err}")
    where = None if target.area == FOLDER else target.path
    if action == KEEP and target.area != FOLDER:
        return _keep_back(tools, layout, target, sha, who)
    if action == REJECT and target.area != QUARANTINE:
        return _reject_out(tools, layout, target, sha, st.st_size, who)
    if tools is None:
        return Applied(target, action, True, destination=target.path)
    if action == WITHDRAW:
        copies = tools.state.withdraw_verdict(sha)
    else:
        reason = (target.record.reason if target.record else None) or REJECTED
        verdict = Verdict(sha, action, who, now(), reason if action == REJECT else None)
        copies = tools.state.give_verdict(verdict, keep_path=str(target.path) if action == KEEP else None)
    record = _record(tools, target, sha, st.st_size, action, who, where)
    if action == REJECT:
        record = _overruled(record)
    tools.audit.write(record, durable=True)
    return Applied(target, action, True, destination=target.path, record=record, copies=_others(copies, target))


def _keep_back(tools: Tools | None, layout: Layout, target: Target, sha: str, who: str) -> Applied:
    """Out of the quarantine or review folder, back to its place in the folder, as restore does it."""
    if target.record is None or target.record.destination is None:
        return Applied(target, KEEP, False, detail=f"{target.path}: the audit log does not say where it came from")
    if tools is None:
        dst, why = Restorer(layout, None, rename=True).destination(target.relpath)
        return Applied(target, KEEP, dst is not None, destination=free_name(dst) if dst else None, detail=why)
    copies: list[str] = []

    def store(digest: str) -> None:
        copies.extend(tools.state.give_verdict(Verdict(digest, KEEP, who, now())))

    def as_verdict(r: AuditRecord) -> AuditRecord:
        return replace(r, run_id=tools.run_id, action=KEEP, decided_by=PERSON, who=who)

    candidate = Candidate(replace(target.record, destination=str(target.path)))
    result = tools.restorer.restore(candidate, mark=as_verdict, before_move=store)
    if result.kind is not Kind.RESTORED:
        return Applied(target, KEEP, False, destination=result.destination, detail=result.detail or result.kind.value)
    if result.destination is not None:
        tools.placed(Path(result.destination), sha)
    return Applied(target, KEEP, True, True, result.destination, copies=_others(copies, target))


def _reject_out(tools: Tools | None, layout: Layout, target: Target, sha: str, size: int, who: str) -> Applied:
    """Out of the folder or the review folder, into the quarantine under ``rejected``, as run moves."""
    dst = Path(os.path.join(layout.quarantine, REJECTED, target.relpath))
    if tools is None:
        return Applied(target, REJECT, True, destination=free_name(dst))
    copies = tools.state.give_verdict(Verdict(sha, REJECT, who, now(), REJECTED))
    moved_from = [f"{MOVED_FROM}{target.path}"] if target.area == REVIEW else []

    def record(final: Path) -> AuditRecord:
        r = _overruled(_record(tools, target, sha, size, REJECT, who, final))
        return replace(r, reason=REJECTED, moved=True, notes=[*r.notes, *moved_from])

    base = _base(tools.layout, target.area)
    try:
        written = tools.mover.move(target.path, dst, sha, record, src_base=base, dst_base=layout.quarantine)
    except MoveError as err:
        return Applied(target, REJECT, False, detail=str(err))
    if target.area == FOLDER:
        tools.state.forget_file(target.path)
    else:
        tools.restorer.prune(target.path.parent)
    final = Path(str(written.destination))
    return Applied(target, REJECT, True, True, final, record=written, copies=_others(copies, target))


def _record(
    tools: Tools, target: Target, sha: str, size: int, action: str, who: str, where: Path | None
) -> AuditRecord:
    """A verdict's record: the file's latest record (its analysis, the rule that decided), now a person's."""
    layout = tools.layout
    base = target.record or AuditRecord.of({"root": str(layout.root), "path": target.relpath, "status": "analysed"})
    changed = base.sha256 not in (None, sha)  # other bytes than the ones analysed: their faces are not these
    return replace(
        base,
        time=now(),
        run_id=tools.run_id,
        root=str(layout.root),
        path=target.relpath,
        size=size,
        sha256=sha,
        error=None,
        faces=[] if changed else base.faces,
        action=action,
        destination=None if where is None else str(where),
        moved=False,
        dry_run=False,
        notes=["changed since it was decided"] if changed else [],
        move_id=None,
        decided_by=PERSON,
        who=who,
    )


def _overruled(r: AuditRecord) -> AuditRecord:
    """A reject's record is the verdict's, not the rule's it overrules (``restore --rule keep-man`` must not
    bring back what a person rejected); the overruled rule is kept in a note."""
    notes = [*r.notes, f"overrules rule {r.rule}"] if r.rule and r.rule != RULE else r.notes
    return replace(r, rule=RULE, notes=notes)


def _others(copies: list[str], target: Target) -> list[str]:
    return [c for c in copies if c != str(target.path)]
