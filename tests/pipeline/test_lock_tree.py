"""Locks beyond one folder: a photo folder inside another one, a lock file another user left
behind, and the folders a killed face-clean made only to hold its locks."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import photos
import pytest
from conftest import audit_records
from watching import start_process, wait_for

import cleaner.pipeline.lock
from cleaner.paths import Layout
from cleaner.pipeline.lock import FolderLock, Holder, lock_file_for, lock_layout

IN_USE = "is in use by another face-clean"


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("held", ["outer", "inner"])
def test_a_folder_inside_a_locked_folder_is_locked_too(cli, tmp_path: Path, held: str):
    outer = tmp_path / "photos"
    inner = outer / "2024" / "holiday"
    photos.save(photos.data.coffee(), inner / "coffee.jpg", quality=90)
    photos.save(photos.astronaut(), outer / "man.jpg", quality=90)
    locked, other = (outer, inner) if held == "outer" else (inner, outer)
    with lock_layout(Layout.for_root(locked), "run", dry_run=False):
        result = cli("run", other, "--keep", "Man")
        assert result.exit_code == 5, result.output
        assert IN_USE in result.output and str(locked) in result.output and "Traceback" not in result.output
        assert (inner / "coffee.jpg").is_file() and not (other / ".face-clean" / "audit.jsonl").exists()
    assert cli("run", other, "--keep", "Man").exit_code == 0  # released: now it runs


@pytest.mark.parametrize("folder_writable", [True, False], ids=["writable-folder", "read-only-folder"])
def test_a_lock_file_another_user_left_is_taken_over(tmp_path: Path, monkeypatch, folder_writable: bool):
    """A container's user (PUID) after root ran face-clean there and was killed: root's lock file
    is readable but not writable (simulated: root ignores permissions)."""
    folder = tmp_path / "quarantine"
    folder.mkdir()
    lock = folder / ".face-clean.lock"
    lock.write_text(json.dumps(vars(Holder(dead_pid(), socket.gethostname(), "face-clean run /photos", "x"))))
    real_open, real_unlink, replaced = os.open, os.unlink, []

    def is_lock(path) -> bool:  # by its path, or by its name in a folder descriptor
        return Path(path) == lock or Path(path) == Path(lock.name)

    def as_another_user(path, flags, *args, **kwargs):
        if is_lock(path) and not replaced and flags & (os.O_RDWR | os.O_WRONLY):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if is_lock(path) and not replaced:
            if not folder_writable:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            replaced.append(path)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(cleaner.pipeline.lock.os, "open", as_another_user)
    monkeypatch.setattr(cleaner.pipeline.lock.os, "unlink", unlink)
    with FolderLock(folder, "face-clean watch /photos") as held:
        assert held.held
        with pytest.raises(cleaner.pipeline.lock.LockError, match=IN_USE):  # and it works as a lock
            FolderLock(folder, "face-clean run /other").acquire()
        if folder_writable:  # replaced by a lock file of our own, naming us
            assert replaced and Holder.parse(lock.read_bytes()).pid == os.getpid()


def test_folders_a_killed_watch_made_for_its_locks_are_removed_by_the_next_run(cli, tmp_path: Path):
    root, quarantine, review = tmp_path / "photos", tmp_path / "quarantine", tmp_path / "review"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)  # kept: nothing goes to either folder
    args = ["--quarantine", quarantine, "--review-dir", review]
    proc = start_process(root, *map(str, args))
    try:
        wait_for(lambda: len(audit_records_or_none(root)) == 1 or proc.poll() is not None, 60, "the daemon")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert lock_file_for(quarantine, root).exists() and lock_file_for(review, root).exists()  # left behind
    result = cli("run", root, "--keep", "Man", *args)
    assert result.exit_code == 0, result.output
    assert not quarantine.exists() and not review.exists()  # made only for the locks, empty: gone
    assert (root / "man.jpg").is_file()


def audit_records_or_none(root: Path) -> list[dict]:
    log = root / ".face-clean" / "audit.jsonl"
    return audit_records(log) if log.exists() and log.read_text().endswith("\n") else []


@pytest.mark.parametrize("shared", ["outer", "inner", "both"])
def test_a_shared_folder_whose_lock_lives_outside_still_locks_the_folders_around_it(tmp_path: Path, shared: str):
    """A group-writable folder keeps its lock in the account's state home (issue 26): a folder above or
    below it still sees that lock, and the other way round."""
    from cleaner.errors import FolderInUse

    outer = tmp_path / "photos"
    inner = outer / "sub"
    inner.mkdir(parents=True)
    for folder, name in ((outer, "outer"), (inner, "inner")):
        folder.chmod(0o777 if shared in (name, "both") else 0o755)
    outer_layout, inner_layout = Layout.for_root(outer), Layout.for_root(inner)
    assert outer_layout.outside == (shared != "inner") and inner_layout.outside == (shared != "outer")
    for first, second in ((outer_layout, inner_layout), (inner_layout, outer_layout)):
        with lock_layout(first, "run", dry_run=False):
            with pytest.raises(FolderInUse, match="in use by another face-clean"):
                with lock_layout(second, "run", dry_run=False):
                    pass
        with lock_layout(second, "run", dry_run=False):  # released: free again
            pass
