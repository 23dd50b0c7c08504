"""Helpers for the watch tests: a daemon in a thread (real watchdog observer) or a subprocess,
waiting on the audit log, and the invariants every scenario must keep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from conftest import all_hashes
from PIL import Image

from cleaner.audit.log import AuditLog
from cleaner.cli.output import LogLines
from cleaner.commands.session import local_analyzer
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline.job import Job
from cleaner.pipeline.verdicts.inbox import Inbox
from cleaner.rules import loading as rules
from cleaner.store.db import StateDB
from cleaner.watch.loop import Watcher, WatchOptions


class ThreadDaemon:
    """``face-clean watch --keep Man`` (or other rules) in a thread of this process (models loaded once)."""

    def __init__(
        self,
        root: Path,
        polling: bool,
        settle: float = 1.0,
        rescan: float = 0.0,
        keep: str | None = "Man",
        rules_file: Path | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        self.layout = Layout.for_root(root)
        self.options = WatchOptions(settle=settle, rescan=rescan, polling=polling, heartbeat=self.heartbeat)
        self.keep, self.rules_file, self.inbox = keep, rules_file, inbox
        self.error: BaseException | None = None

    @property
    def heartbeat(self) -> Path:
        return self.layout.audit_log.with_name("heartbeat")

    def __enter__(self) -> ThreadDaemon:
        self.built = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.built.wait(60)
        wait_for(lambda: self.heartbeat.exists() or self.error is not None, 30, "the daemon to start")
        return self

    def _run(self) -> None:
        """Everything is made in this thread: SQLite connections belong to the thread that opens them."""
        try:
            rs = rules.load(self.rules_file, self.keep)
            with StateDB(self.layout.state_db) as state, AuditLog(self.layout.audit_log) as audit:
                mover = Mover(self.layout.journal, audit)
                analyzer = local_analyzer(rs, state, 0)
                self.job = Job(rs, self.layout, analyzer, state, audit, mover, output=LogLines())
                self.built.set()
                try:
                    Watcher(self.job, self.options, output=LogLines(), inbox=self.inbox).run()
                finally:
                    mover.close()
        except BaseException as err:  # surfaced by __exit__
            self.error = err
        finally:
            self.built.set()

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "job"):
            self.job.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the daemon did not stop"
        if self.error:
            raise self.error


def start_process(root: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "cleaner", "watch", str(root), "--keep", "Man", "--settle", "1", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def records(root: Path) -> list[dict[str, Any]]:
    """The complete lines of the audit log: the daemon may be half-way through writing the last."""
    log = Layout.for_root(root).audit_log
    if not log.exists():
        return []
    text = log.read_text(encoding="utf-8")
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def wait_for_records(root: Path, n: int, timeout: float = 60) -> list[dict[str, Any]]:
    wait_for(lambda: len(records(root)) >= n, timeout, f"{n} audit records")
    return records(root)


def noise_jpegs(folder: Path, n: int, seed: int = 0, prefix: str = "img") -> list[Path]:
    """Distinct small faceless JPEGs (quarantined as no-face by --keep Man)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"{prefix}{i:04d}.jpg"
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(path, quality=80)
        out.append(path)
    return out


def assert_each_decided_once(root: Path, expected_paths: set[str], input_hashes: list[str]) -> None:
    """Every file exactly one audit record, state agreeing, every input's bytes exactly once."""
    layout = Layout.for_root(root)
    recs = records(root)
    counts = Counter(r["path"] for r in recs)
    assert {p for p, c in counts.items() if c > 1} == set(), "decided more than once"
    assert set(counts) == expected_paths
    with StateDB(layout.state_db) as state:
        decided = state.decided_paths()
    for r in recs:
        assert r["error"] is None or r["status"] != "analysed", r
        if r["moved"]:
            assert Path(r["destination"]).is_file()
            assert not (root / r["path"]).exists()
            assert str(root / r["path"]) not in decided
        else:
            assert (root / r["path"]).is_file()
            assert str(root / r["path"]) in decided, f"state does not know {r['path']} was decided"
    assert sorted(all_hashes(root)) == sorted(input_hashes)  # the quarantine is inside root


def write_slowly(path: Path, data: bytes, chunks: int, pause: float) -> None:
    """One open handle, the bytes in ``chunks`` pieces with pauses: an upload over a slow link."""
    step = -(-len(data) // chunks)
    with open(path, "wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i : i + step])
            fh.flush()
            os.fsync(fh.fileno())
            time.sleep(pause)
