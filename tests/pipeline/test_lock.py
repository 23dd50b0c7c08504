"""Folder locks: a second face-clean on a folder, a quarantine or an audit log stops with exit 2 and
names the holder; a lock left by a killed process is taken over."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import photos
import pytest
from conftest import all_hashes, audit_records, named, sha256
from watching import noise_jpegs, start_process, wait_for

import cleaner.pipeline.lock
from cleaner.errors import LockError
from cleaner.paths import Layout
from cleaner.pipeline.lock import FolderLock, Holder, lock_file_for, lock_layout

LOG = Path(".face-clean/audit.jsonl")
IN_USE = "is in use by another face-clean"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=92)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=92)
    return root


def untouched(root: Path) -> list[str]:
    """Every file under root with its hash: equal before and after means nothing moved or was written."""
    return sorted(f"{p.relative_to(root)} {sha256(p)}" for p in root.rglob("*") if p.is_file())


def holder_of(path: Path) -> Holder | None:
    try:
        return Holder.parse(path.read_bytes())
    except OSError:
        return None


def root_lock(root: Path) -> Path:
    return lock_file_for(root, root)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    out, _ = proc.communicate(timeout=20)
    return out


# -- FolderLock itself ---------------------------------------------------------------------


def test_second_lock_names_the_holder_and_release_leaves_nothing(tmp_path: Path):
    folder = tmp_path / "q"
    with FolderLock(folder, "face-clean watch /photos") as lock:
        assert lock.held and lock.path == folder / ".face-clean.lock"
        holder = holder_of(lock.path)
        assert holder is not None and (holder.pid, holder.command) == (os.getpid(), "face-clean watch /photos")
        with pytest.raises(LockError) as err:  # flock: a second open file conflicts, even in this process
            FolderLock(folder, "face-clean run /other").acquire()
        expected = f"{folder} {IN_USE} (pid {os.getpid()} on {socket.gethostname()}, 'face-clean watch /photos', since "
        assert str(err.value).startswith(expected) and str(err.value).endswith("wait for it to finish or stop it")
    assert not folder.exists(), "the folder made for the lock is removed with it"

    folder.mkdir()
    with FolderLock(folder):
        pass
    assert folder.is_dir() and list(folder.iterdir()) == []  # a folder that was there stays


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock_file = tmp_path / ".face-clean.lock"
    stale = Holder(dead.pid, socket.gethostname(), "face-clean run /photos", "2026-11-23T07:00:00+00:00")
    lock_file.write_text(json.dumps(vars(stale)))
    caplog.set_level("INFO", logger="face-clean")
    with FolderLock(tmp_path):
        assert holder_of(lock_file).pid == os.getpid()
    assert f"took over the lock of a face-clean that is gone (pid {dead.pid} on" in caplog.text
    assert not lock_file.exists()


def test_a_lock_file_removed_between_open_and_flock_is_not_trusted(tmp_path: Path, monkeypatch):
    """The race that removing lock files opens: whoever locks a file its holder just removed starts again."""
    real_flock, calls = cleaner.pipeline.lock.fcntl.flock, []

    def flock(fd: int, op: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # the holder releases (removes the file) and another process makes a new one
            (tmp_path / ".face-clean.lock").unlink()
            (tmp_path / ".face-clean.lock").write_text("")
        real_flock(fd, op)

    monkeypatch.setattr(cleaner.pipeline.lock.fcntl, "flock", flock)
    with FolderLock(tmp_path) as lock:
        assert len(calls) == 2
        assert os.fstat(lock.fd).st_ino == os.stat(lock.path).st_ino
        assert holder_of(lock.path).pid == os.getpid()


def test_layout_locks_conflict_on_shared_folders_and_never_with_themselves(tmp_path: Path):
    a, b, shared = tmp_path / "a", tmp_path / "b", tmp_path / "shared"
    a.mkdir(), b.mkdir()
    with lock_layout(Layout.for_root(a, shared, shared), "run", dry_run=False) as locks:
        assert [lk.path for lk in locks] == [a / ".face-clean/lock", shared / ".face-clean.lock"]
        with pytest.raises(LockError, match=f"the quarantine {shared} {IN_USE}"):
            lock_layout(Layout.for_root(b, shared), "run", dry_run=False).__enter__()
        with pytest.raises(LockError, match=f"^{a} {IN_USE}"):  # found whatever --audit-log the other uses
            lock_layout(Layout.for_root(a, audit_log=tmp_path / "log/a.jsonl"), "run", dry_run=True).__enter__()
        with pytest.raises(LockError, match="the audit log's folder"):  # one audit log, state and move journal
            lock_layout(Layout.for_root(b, audit_log=a / ".face-clean/x.jsonl"), "run", dry_run=True).__enter__()
    assert not (b / ".face-clean").exists() and not (tmp_path / "log").exists()
    assert not (a / ".face-clean").exists() and not (shared / ".face-clean.lock").exists()

    with lock_layout(Layout.for_root(a, shared), "run", dry_run=True) as locks:  # no quarantine: it moves nothing
        assert [lk.path for lk in locks] == [a / ".face-clean/lock"]
        assert not shared.exists()
        with lock_layout(Layout.for_root(b, shared), "run", dry_run=False):
            pass


# -- the command line ----------------------------------------------------------------------


def test_run_on_a_held_folder_stops_before_touching_anything(cli, folder: Path, tmp_path: Path):
    before = untouched(folder)
    with FolderLock(folder, "face-clean watch /photos", lock_file=root_lock(folder)):
        for extra in ([], ["--dry-run"], ["--audit-log", tmp_path / "elsewhere/audit.jsonl"]):
            result = cli("run", folder, "--keep", "Man", *extra)
            assert result.exit_code == 5, result.output
            assert result.output.startswith(
                f"face-clean: {folder} {IN_USE} (pid {os.getpid()} on {socket.gethostname()}, "
                "'face-clean watch /photos', since "
            )
            assert "wait for it to finish or stop it" in result.output and "Traceback" not in result.output
    assert untouched(folder) == before and not (folder / LOG).exists() and not (tmp_path / "elsewhere").exists()
    assert cli("run", folder, "--keep", "Man").exit_code == 0  # released
    assert not root_lock(folder).exists() and not (folder / ".face-clean/quarantine/.face-clean.lock").exists()


def test_watch_holds_its_folder_and_its_quarantine(cli, tmp_path: Path):
    a, quarantine = tmp_path / "a", tmp_path / "quarantine"
    a.mkdir()
    b = tmp_path / "b"
    photos.save(photos.data.coffee(), b / "coffee.jpg", quality=92)
    before = untouched(b)
    proc = start_process(a, "--quarantine", str(quarantine))
    try:
        wait_for(lambda: (a / ".face-clean/heartbeat").exists() or proc.poll() is not None, 60, "the daemon")
        holder = f"(pid {proc.pid} on {socket.gethostname()}, 'face-clean watch {a}', since "
        result = cli("run", a, "--keep", "Man")
        assert result.exit_code == 5 and f"{a} {IN_USE} {holder}" in result.output, result.output
        result = cli("run", b, "--keep", "Man", "--quarantine", quarantine)
        assert result.exit_code == 5 and f"the quarantine {quarantine} {IN_USE} {holder}" in result.output
        assert untouched(b) == before and not (b / LOG).exists()
        second = start_process(a)
        assert second.wait(timeout=60) == 5 and f"{a} {IN_USE} {holder}" in stop(second)
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert not root_lock(a).exists() and not (quarantine / ".face-clean.lock").exists()
    assert cli("run", b, "--keep", "Man", "--quarantine", quarantine).exit_code == 0
    assert (quarantine / "no-face/coffee.jpg").is_file()


def test_lock_of_a_killed_watch_is_taken_over_quietly(cli, tmp_path: Path):
    empty = tmp_path / "photos"
    empty.mkdir()
    proc = start_process(empty)
    try:
        wait_for(lambda: (empty / ".face-clean/heartbeat").exists() or proc.poll() is not None, 60, "the daemon")
        assert holder_of(root_lock(empty)).pid == proc.pid
    finally:
        stop(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert holder_of(root_lock(empty)).pid == proc.pid  # left behind, its flock gone with the process
    photos.save(photos.data.coffee(), empty / "coffee.jpg", quality=92)
    result = cli("run", empty, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert IN_USE not in result.output and "warning" not in result.output.lower() and "took over" not in result.output
    assert (empty / ".face-clean/quarantine/no-face/coffee.jpg").is_file()
    assert not root_lock(empty).exists() and not (empty / ".face-clean/quarantine/.face-clean.lock").exists()


def test_two_runs_started_together_exactly_one_runs(tmp_path: Path):
    """Both start together; the winner is frozen (SIGSTOP) while it holds the lock, so the other
    certainly tries while it is held: the test cannot pass by the two running one after the other."""
    root = tmp_path / "photos"
    noise_jpegs(root, 20)
    photos.save(photos.astronaut(), root / "man.jpg", quality=92)
    before = sorted(all_hashes(root))
    cmd = [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man"]
    both = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while (holder := holder_of(root_lock(root))) is None or holder.pid not in {p.pid for p in both}:
            if time.monotonic() > deadline or any(p.poll() is not None for p in both):
                pytest.fail("no run was seen holding the lock: " + " / ".join(stop(p) for p in both))
            time.sleep(0.002)
        [winner] = [p for p in both if p.pid == holder.pid]
        [loser] = [p for p in both if p is not winner]
        winner.send_signal(signal.SIGSTOP)
        loser_out = stop(loser, signal.SIGCONT)  # SIGCONT: nothing for a running process; let it meet the lock
        winner_out = stop(winner, signal.SIGCONT)
    finally:
        for p in both:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
    assert loser.returncode == 5, loser_out  # in use: its own exit code
    assert f"{root} {IN_USE} (pid {winner.pid} on {socket.gethostname()}, 'face-clean run {root}'" in loser_out
    assert winner.returncode in (0, 1), winner_out
    records = audit_records(root / LOG)
    assert len(records) == 21 and len({r["run_id"] for r in records}) == 1  # one run decided, each file once
    assert sorted(all_hashes(root)) == before and not root_lock(root).exists()


def test_a_lock_that_cannot_be_made_is_a_message(cli, folder: Path, tmp_path: Path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    before = untouched(folder)
    result = cli("run", folder, "--keep", "Man", "--quarantine", blocker / "q")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"cannot lock the quarantine {blocker / 'q'}" in result.output
    assert "choose another place with --quarantine" in result.output
    assert untouched(folder) == before and not (folder / LOG).exists()

    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # root ignores permissions: a read-only photo folder, simulated
        if named(path, kwargs.get("dir_fd")) == root_lock(folder):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(cleaner.pipeline.lock.os, "open", read_only)
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 2
    assert f"face-clean: cannot lock {folder}: {root_lock(folder)}: Read-only file system" in result.output
    audit_log = tmp_path / "state/audit.jsonl"  # a dry run writes only its audit log: it goes on, and says so
    result = cli("run", folder, "--keep", "Man", "--dry-run", "--audit-log", audit_log)
    assert result.exit_code == 0, result.output
    assert f"cannot lock {folder} (Read-only file system); going on without the lock" in result.output
    assert len(audit_records(audit_log)) == 2 and untouched(folder) == before


def test_folders_made_for_a_lock_are_never_removed_through_a_link_swapped_in(tmp_path: Path):
    """Issue 26: the state folder swapped for a link while the lock is held; on release the empty folder
    made for the lock is looked for without following the link, so the uploader's folder stays."""
    root, outside = tmp_path / "photos", tmp_path / "outside"
    (root / ".face-clean").mkdir(parents=True)
    (outside / "quarantine").mkdir(parents=True)
    lock = FolderLock(root / ".face-clean" / "quarantine")
    lock.acquire()
    assert lock.created == [root / ".face-clean" / "quarantine"]
    (root / ".face-clean").rename(root / "moved-away")
    (root / ".face-clean").symlink_to(outside, target_is_directory=True)
    lock.release()
    assert (outside / "quarantine").is_dir() and os.listdir(outside / "quarantine") == []
