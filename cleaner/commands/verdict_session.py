"""What giving verdicts opens: on its own (``face-clean verdict``, ``face-clean serve``) under the folder's
locks for as long as it acts, or inside the watch daemon, with the daemon's own state, log and mover
(``watch --serve``: one writer per file, the daemon's thread)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from cleaner.audit.log import AuditLog
from cleaner.errors import StateError
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline.job import Job, recover_moves
from cleaner.pipeline.lock import lock_layout
from cleaner.pipeline.restore.restorer import Restorer
from cleaner.pipeline.verdicts.apply import Tools
from cleaner.store.db import StateDB
from cleaner.store.folders import prepare

log = logging.getLogger("face-clean")


@contextmanager
def open_tools(
    layout: Layout, command: str = "verdict", invocation: str = "", run_id: str | None = None
) -> Iterator[Tools]:
    """Everything a verdict uses, the folder locked (LockError while a run or watch holds it), every move
    a crash left unfinished recovered first; all closed and unlocked on the way out. ``invocation``: the
    command line, listed by ``face-clean runs`` under the verdicts' run (``run_id``, else a new one)."""
    prepare(layout)
    with ExitStack() as stack:
        stack.enter_context(lock_layout(layout, command, dry_run=False))
        state = stack.enter_context(StateDB(layout.state_db))
        audit = stack.enter_context(AuditLog(layout.audit_log))
        mover = Mover(layout.journal, audit)
        stack.callback(mover.close)
        recover_moves(mover, layout, state)
        tools = _with_restorer(stack, layout, state, audit, mover)
        if run_id is not None:
            tools.run_id = run_id
        if invocation:
            _listed(state, tools.run_id, layout, invocation)
        yield tools


def _listed(state: StateDB, run_id: str, layout: Layout, invocation: str) -> None:
    """The verdicts' run in the list of runs, once (the review page acts many times under one run)."""
    try:
        state.run_listed(run_id, layout.root, invocation)
    except StateError as err:  # a full disk: the verdicts' own records matter, the list's line less
        log.warning("the verdicts are not in the list of runs: %s", err)


def tools_of(job: Job, stack: ExitStack) -> Tools:
    """The watch daemon's job as verdict tools (a real job only: a dry run moves nothing)."""
    if job.mover is None:
        raise ValueError("a dry run gives no verdicts")
    tools = _with_restorer(stack, job.layout, job.state, job.audit, job.mover)
    tools.placed = lambda path, sha256: job.placed.__setitem__(str(path), sha256)
    # the page's verdicts are a run of their own (restore --run of the daemon's run never undoes a person's),
    # listed once the first one is given
    page = f"the review page of the watch run {job.run_id} on {job.layout.root}"
    tools.listed = functools.partial(_listed, job.state, tools.run_id, job.layout, page)
    return tools


def _with_restorer(stack: ExitStack, layout: Layout, state: StateDB, audit: AuditLog, mover: Mover) -> Tools:
    restorer = Restorer(layout, audit, rename=True)
    stack.callback(restorer.close)
    for r in restorer.recover():
        log.warning("recovered an interrupted restore of %s: %s", r.src, r.outcome)
    return Tools(layout, state, audit, mover, restorer)
