"""Where ``run`` and ``watch`` are assembled: the one place that opens what a job uses, in the order
that keeps a folder safe, and closes it again.

1. the state folders are checked before anything is written there (cleaner.store.folders),
   then whatever else the command checks first (watch: that its heartbeat is one);
2. every folder the job writes to is locked (cleaner.pipeline.lock);
3. the state database is opened, then the analyzer made with it and its models loaded, so that a
   missing or damaged model stops the command before the audit log is even created;
4. the audit log, and the mover with its journal (none for a dry run, which moves nothing).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from cleaner.analysis.protocol import Analyzer
from cleaner.audit.log import AuditLog
from cleaner.errors import StateError
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline.job import Job
from cleaner.pipeline.lock import lock_layout
from cleaner.pipeline.output import RunOutput
from cleaner.records import ImageAnalysis
from cleaner.rules.model import RuleSet
from cleaner.store.db import StateDB
from cleaner.store.folders import prepare

log = logging.getLogger("face-clean")

if TYPE_CHECKING:  # imported when made: numpy and the models are for the commands that analyse
    from cleaner.analysis.batch import BatchAnalyzer

# The analyzer, made once the state database is open (its cache finds renamed and copied photos).
AnalyzerFactory = Callable[[StateDB], AbstractContextManager[Analyzer]]


@contextmanager
def open_job(
    rules: RuleSet,
    layout: Layout,
    analyzer: AnalyzerFactory,
    command: str,
    dry_run: bool,
    output: RunOutput | None = None,
    checks: Sequence[Callable[[], None]] = (),
    invocation: str = "",
) -> Iterator[Job]:
    """A job on ``layout`` with everything it uses open, locked and checked; all closed on the way out.
    The run is listed in the state database (``face-clean runs``) with ``invocation``, its command line."""
    prepare(layout)
    for check in checks:
        check()
    with ExitStack() as stack:
        stack.enter_context(lock_layout(layout, command, dry_run))
        state = stack.enter_context(StateDB(layout.state_db))
        models = stack.enter_context(analyzer(state))
        audit = stack.enter_context(AuditLog(layout.audit_log))
        mover = None if dry_run else Mover(layout.journal, audit)
        if mover is not None:
            stack.callback(mover.close)
        job = Job(rules, layout, models, state, audit, mover, dry_run, output)
        _started(state, job, invocation or f"face-clean {command} {layout.root}", dry_run)
        stack.callback(_ended, state, job)
        yield job


def _started(state: StateDB, job: Job, invocation: str, dry_run: bool) -> None:
    try:
        state.run_started(job.run_id, job.layout.root, invocation, dry_run)
    except StateError as err:  # a full disk, say: the run's first record will stop it with the message
        log.warning("the run is not in the list of runs: %s", err)


def _ended(state: StateDB, job: Job) -> None:
    with contextlib.suppress(StateError):  # a full disk: the run's own records matter, its end line less
        state.run_ended(job.run_id, job.summary.totals())


def on_this_machine(rules: RuleSet, verbose: int, root: Path | None = None) -> AnalyzerFactory:
    """The factory of ``local_analyzer`` (for open_job)."""

    def make(state: StateDB) -> AbstractContextManager[Analyzer]:
        return nullcontext(local_analyzer(rules, state, verbose, root))

    return make


def local_analyzer(rules: RuleSet, state: StateDB, verbose: int, root: Path | None = None) -> BatchAnalyzer:
    """The fast analyzer of this machine, with the state database's content lookup for renamed and copied
    photos; files are read without following a link below ``root``, within the rules' memory budget.
    Every model is loaded and run once here, before the first photo is touched."""
    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.analysis.reading import FileBytes, read_file
    from cleaner.fs.hashing import sha256_file

    analyzer = FaceAnalyzer(
        rules.engine,
        rules.detector,
        rules.attributes,
        rules.max_pixels,
        verbose > 1,
        functools.partial(state.model_sha256, compute=sha256_file),
        rules.detect_size,
        rules.gender_model,
        rules.age_model,
    )
    analyzer.load()
    key = analyzer.identity.key

    def lookup(f: FileBytes) -> ImageAnalysis | None:
        return state.lookup(f.path, len(f.data), f.st.st_mtime_ns, f.sha256, key)

    read = functools.partial(read_file, root=root, budget=rules.memory_budget << 20)
    return BatchAnalyzer(analyzer, lookup=lookup, read=read, tuning_store=state)
