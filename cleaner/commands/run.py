"""``face-clean run``: every file of the folder decided once, then a summary."""

from __future__ import annotations

import contextlib
import time

from cleaner.errors import StateError
from cleaner.pipeline.job import Job
from cleaner.pipeline.people.pull import pull
from cleaner.pipeline.scan import Patterns, scan
from cleaner.pipeline.sidecars import without_sidecars
from cleaner.pipeline.signals import stop_on_signals
from cleaner.pipeline.summary import Summary


def run_once(job: Job, recursive: bool = True) -> Summary:
    """Process every file once; Ctrl-C or SIGTERM stops after the current file with the log intact."""
    started = time.monotonic()
    try:
        job.recover()  # first: a move a crash left half done changes what the scan finds
        patterns = Patterns(job.rules.exclude, job.rules.include)
        files = without_sidecars(scan(job.layout.root, recursive, patterns, job.layout.own_paths))
        todo = job.undecided(files)  # a second run, or one after a crash, repeats nothing
        job.summary.unchanged = len(files) - len(todo)
        job.output.planned(len(todo))
        with stop_on_signals(job.stop):
            job.decide_all(todo)
            if not job.stop.is_set():
                pull(job)  # photos in review or quarantine that a person's verdict on their people now decides
        job.summary.interrupted = job.stop.is_set()
    except KeyboardInterrupt:
        job.summary.interrupted = True
    finally:
        with contextlib.suppress(StateError):  # a full disk: its message is on its way already, or comes at close
            job.state.commit()
        job.summary.seconds = time.monotonic() - started
    job.output.finished(job.summary, job.dry_run)
    return job.summary
