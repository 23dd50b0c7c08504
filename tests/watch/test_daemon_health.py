"""The watch daemon when things go wrong around it: it stops (health must say so), the quarantine's
disk is full (moves retried quietly, one record per failure), the watched folder goes away."""

from __future__ import annotations

import errno
import logging
import shutil
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import photos
import pytest
from watching import ThreadDaemon, noise_jpegs, records, start_process, wait_for

import cleaner.fs.move

Q = Path(".face-clean/quarantine")


def heartbeat_of(root: Path) -> Path:
    return root / ".face-clean" / "heartbeat"


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return out


def started(root: Path, proc: subprocess.Popen[str], heartbeat: Path | None = None) -> None:
    beat = heartbeat or heartbeat_of(root)
    wait_for(lambda: f'"pid": {proc.pid},' in read(beat) or proc.poll() is not None, 90, "the daemon to start")
    assert proc.poll() is None, stop(proc)


def read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def test_health_says_unhealthy_once_the_daemon_has_stopped(cli, tmp_path: Path):
    root = tmp_path / "photos"
    root.mkdir()
    proc = start_process(root)
    try:
        started(root, proc)
        result = cli("health", heartbeat_of(root))
        assert result.exit_code == 0 and result.output.startswith("healthy"), result.output
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    result = cli("health", heartbeat_of(root))  # fresh, but its last word is that it stopped
    assert result.exit_code == 1 and "has stopped: stopped on request" in result.output, result.output

    proc = start_process(root)  # killed: no last word, and its pid is gone
    try:
        started(root, proc)
    finally:
        stop(proc, signal.SIGKILL)
    result = cli("health", heartbeat_of(root))
    assert result.exit_code == 1 and f"(pid {proc.pid}) is not running" in result.output, result.output


def test_a_full_quarantine_disk_is_retried_with_backoff_and_recorded_once(cli, tmp_path: Path, monkeypatch, caplog):
    root = tmp_path / "photos"
    root.mkdir()
    full, attempts = threading.Event(), Counter()
    full.set()
    real_place = cleaner.fs.move._place

    def place(src: Any, name: str, *rest: Any) -> None:  # the source's folder and name, where it goes
        if full.is_set():  # a quarantine on another, full disk: the copy reads the photo, then fails
            attempts[name] += 1
            (src.path / name).read_bytes()
            raise OSError(errno.ENOSPC, "No space left on device")
        real_place(src, name, *rest)

    monkeypatch.setattr(cleaner.fs.move, "_place", place)
    caplog.set_level(logging.INFO, logger="face-clean")
    with ThreadDaemon(root, polling=False) as daemon:
        files = noise_jpegs(root, 5)  # no face: quarantined
        wait_for(lambda: all(attempts[p.name] >= 3 for p in files), 90, "three attempts at each move")
        assert len(records(root)) == 5 and all("No space left on device" in r["error"] for r in records(root))
        wait_for(lambda: "5 moves keep failing" in cli("health", daemon.heartbeat).output, 30, "health to say so")
        assert cli("health", daemon.heartbeat).exit_code == 1
        full.clear()  # space again
        wait_for(lambda: len(records(root)) == 10, 90, "the moves to succeed")
        wait_for(lambda: cli("health", daemon.heartbeat).exit_code == 0, 30, "health to be good again")
    recs = records(root)
    assert [r["moved"] for r in recs] == [False] * 5 + [True] * 5  # one record per failure, one per move
    assert all((root / Q / "no-face" / p.name).is_file() for p in files)
    warned = Counter(r.getMessage().split(":")[0] for r in caplog.records if r.levelno == logging.WARNING)
    assert warned == {p.name: 1 for p in files}, warned  # one warning per file, not per attempt
    # backoff: 2, 4, 8, ... seconds apart, not every few seconds on the daemon's own reads of the file
    assert max(attempts.values()) <= 7, attempts


@pytest.mark.parametrize("how", ["deleted", "renamed"])
def test_a_watched_folder_that_goes_away_stops_the_daemon_with_a_message(cli, tmp_path: Path, how: str):
    root, renamed = tmp_path / "photos", tmp_path / "photos-2024"
    root.mkdir()
    proc = start_process(root)
    try:
        started(root, proc)
        shutil.rmtree(root) if how == "deleted" else root.rename(renamed)
        proc.wait(timeout=60)
    finally:
        out = stop(proc, signal.SIGKILL)
    assert proc.returncode == 1, out
    assert "Traceback" not in out and "cannot write the heartbeat" not in out, out
    if how == "deleted":
        assert f"the watched folder {root} was deleted: stopped" in out, out
        return
    assert f"the watched folder {root} was renamed or moved away (it is now {renamed})" in out, out
    result = cli("health", heartbeat_of(renamed))  # the heartbeat went with the folder, and says why it stopped
    assert result.exit_code == 1 and "was renamed or moved away" in result.output, result.output


def test_the_daemon_can_wait_for_its_folder_to_come_back(cli, tmp_path: Path):
    root, heartbeat = tmp_path / "photos", tmp_path / "state" / "heartbeat"
    root.mkdir()
    heartbeat.parent.mkdir()
    proc = start_process(root, "--on-folder-gone", "wait", "--heartbeat", str(heartbeat))
    try:
        started(root, proc, heartbeat)
        shutil.rmtree(root)
        wait_for(lambda: "waiting for it to come back" in cli("health", heartbeat).output, 60, "health to say so")
        assert cli("health", heartbeat).exit_code == 1 and proc.poll() is None
        root.mkdir()  # remounted
        photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
        wait_for(lambda: len(records(root)) == 1, 90, "the new photo's record")
        wait_for(lambda: cli("health", heartbeat).exit_code == 0, 30, "health to be good again")
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert (root / Q / "no-face" / "coffee.jpg").is_file()
    assert "Traceback" not in out, out
