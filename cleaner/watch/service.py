"""``face-clean watch`` assembled: the watcher on a job from cleaner.commands.session, and what happens
when the watched folder goes away (stop with FolderGone, or wait for it to come back)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from cleaner.commands.session import AnalyzerFactory, open_job
from cleaner.errors import FolderGone
from cleaner.paths import Layout
from cleaner.pipeline.job import Job
from cleaner.pipeline.output import WatchOutput
from cleaner.pipeline.signals import stop_on_signals
from cleaner.pipeline.verdicts.inbox import Inbox
from cleaner.rules.model import RuleSet
from cleaner.watch.heartbeat import Heartbeat, check_heartbeat
from cleaner.watch.loop import Watcher, WatchOptions
from cleaner.watch.root_guard import RootGuard

log = logging.getLogger("face-clean")


def watch(
    rules: RuleSet,
    layout: Layout,
    analyzer: AnalyzerFactory,
    options: WatchOptions,
    dry_run: bool,
    output: WatchOutput,
    wait_for_folder: bool,
    started: Callable[[Job], None] | None = None,
    invocation: str = "",
    inbox: Inbox | None = None,
) -> None:
    """Until SIGTERM or SIGINT. A watched folder that goes away raises FolderGone, or with
    ``wait_for_folder`` is waited for, and watched again once it is back. ``started`` is called
    with the job once everything is open and locked; ``invocation``: the command line, for the runs list;
    ``inbox``: verdicts from the review page (watch --serve), applied by the daemon between two files."""
    while True:
        try:
            watch_once(rules, layout, analyzer, options, dry_run, output, started, invocation, inbox)
        except FolderGone as gone:
            if not wait_for_folder:
                raise FolderGone(f"{gone}: stopped") from None
            if not _wait_for_folder(layout.root, options.heartbeat, str(gone)):
                return
            continue
        return


def watch_once(
    rules: RuleSet,
    layout: Layout,
    analyzer: AnalyzerFactory,
    options: WatchOptions,
    dry_run: bool,
    output: WatchOutput,
    started: Callable[[Job], None] | None = None,
    invocation: str = "",
    inbox: Inbox | None = None,
) -> None:
    """One life of the watcher, locks, state and audit log held; raises FolderGone if the folder goes."""
    try:
        guard = RootGuard(layout.root)
    except OSError as err:  # gone again as it came back
        raise FolderGone(f"the watched folder {layout.root} cannot be opened ({err.strerror})") from None
    heartbeat = options.heartbeat
    checks = [] if heartbeat is None else [lambda: check_heartbeat(heartbeat)]
    try:
        with open_job(rules, layout, analyzer, "watch", dry_run, output, checks, invocation) as job:
            if started is not None:
                started(job)
            Watcher(job, options, guard, output, inbox).run()
    except Exception as err:
        gone = guard.gone()  # the state and audit log may have gone with the folder: say what happened
        if gone is not None and not isinstance(err, FolderGone):
            raise FolderGone(gone) from None
        raise
    finally:
        guard.close()


def _wait_for_folder(root: Path, heartbeat: Path | None, problem: str) -> bool:
    """Until ``root`` is a folder again (True), or SIGTERM/SIGINT (False); the heartbeat says why."""
    log.warning("%s; waiting for it to come back", problem)
    beat, stop = Heartbeat(heartbeat), threading.Event()
    with stop_on_signals(stop):
        while not stop.is_set():
            beat.beat({"stopped": False, "problem": f"{problem}; waiting for it to come back"})
            if root.is_dir() and not root.is_symlink():
                log.warning("%s is back: watching it again", root)
                beat.close()
                return True
            stop.wait(1.0)
    beat.beat({"stopped": True, "reason": f"stopped on request while waiting: {problem}"}, force=True)
    beat.close()
    return False
