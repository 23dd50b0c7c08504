"""`face-clean watch`: a real watchdog observer (inotify, and polling) on a temporary folder.

Every scenario ends with the same check: each file decided exactly once (audit log and state
database agree) and every input file's bytes exist exactly once, in the folder or quarantine.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import photos
import pytest
from conftest import all_hashes, sha256
from skimage import data
from watching import (
    ThreadDaemon,
    assert_each_decided_once,
    noise_jpegs,
    records,
    start_process,
    wait_for,
    wait_for_records,
    write_slowly,
)

Q = Path(".face-clean/quarantine")

observers = pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])


@observers
def test_single_files_are_decided_once(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    root.mkdir()
    with ThreadDaemon(root, polling):
        man = photos.save(photos.astronaut(), root / "man.jpg", quality=92)
        hashes = [sha256(man)]
        woman = photos.save(photos.swapped(), root / "woman.png")
        hashes.append(sha256(woman))
        cat = photos.save(data.chelsea(), root / "cat.jpg", quality=92)
        hashes.append(sha256(cat))
        wait_for_records(root, 3)
        time.sleep(1.5)  # nothing more may come
    assert man.is_file()
    assert (root / Q / "not-man" / "woman.png").is_file()
    assert (root / Q / "no-face" / "cat.jpg").is_file()
    assert_each_decided_once(root, {"man.jpg", "woman.png", "cat.jpg"}, hashes)


@observers
def test_slowly_written_file_is_analysed_once_when_complete(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    root.mkdir()
    jpeg = photos.save(photos.astronaut(), tmp_path / "man.jpg", quality=92).read_bytes()
    with ThreadDaemon(root, polling, settle=1.5):
        write_slowly(root / "man.jpg", jpeg, chunks=8, pause=0.6)  # ~5 s, pauses under the settle time
        (rec,) = wait_for_records(root, 1)
        time.sleep(2)
    assert rec["status"] == "analysed" and rec["sha256"] == sha256(root / "man.jpg"), rec
    assert rec["action"] == "keep"
    assert_each_decided_once(root, {"man.jpg"}, [sha256(root / "man.jpg")])


def test_open_file_is_not_taken_during_long_pauses_with_inotify(tmp_path: Path):
    """inotify says the writer still holds the file: pauses longer than the settle time are safe."""
    root = tmp_path / "photos"
    root.mkdir()
    jpeg = photos.save(photos.astronaut(), tmp_path / "man.jpg", quality=92).read_bytes()
    with ThreadDaemon(root, polling=False, settle=0.5):
        write_slowly(root / "man.jpg", jpeg, chunks=3, pause=1.5)
        (rec,) = wait_for_records(root, 1)
        time.sleep(1)
    assert rec["status"] == "analysed" and rec["sha256"] == sha256(root / "man.jpg"), rec
    assert_each_decided_once(root, {"man.jpg"}, [sha256(root / "man.jpg")])


@observers
def test_burst_of_500_files(tmp_path: Path, polling: bool):
    staging = tmp_path / "staging"
    files = noise_jpegs(staging, 500)
    hashes = [sha256(p) for p in files]
    root = tmp_path / "photos"
    root.mkdir()
    with ThreadDaemon(root, polling):
        for p in files:
            shutil.copyfile(p, root / p.name)
        wait_for_records(root, 500, timeout=240)
        time.sleep(1.5)
    assert all(r["reason"] == "no-face" and r["moved"] for r in records(root))
    assert_each_decided_once(root, {p.name for p in files}, hashes)


@observers
def test_directory_created_and_filled_at_once(tmp_path: Path, polling: bool):
    album = tmp_path / "album"
    files = noise_jpegs(album / "day1", 20, seed=1) + noise_jpegs(album / "day2", 20, seed=2)
    photos.save(photos.astronaut(), album / "day1" / "man.jpg", quality=92)
    hashes = all_hashes(album)
    root = tmp_path / "photos"
    root.mkdir()
    with ThreadDaemon(root, polling):
        shutil.copytree(album, root / "album")  # cp -r: files written before the watch reaches them
        wait_for_records(root, 41, timeout=120)
        time.sleep(1.5)
    expected = {f"album/{p.parent.name}/{p.name}" for p in files} | {"album/day1/man.jpg"}
    assert (root / "album" / "day1" / "man.jpg").is_file()
    assert_each_decided_once(root, expected, hashes)


@observers
def test_files_renamed_into_the_folder_and_temporary_names(tmp_path: Path, polling: bool):
    outside = tmp_path / "outside"
    moved_in = noise_jpegs(outside, 5, seed=3)
    root = tmp_path / "photos"
    root.mkdir()
    man = photos.save(photos.astronaut(), tmp_path / "man.jpg", quality=92)
    hashes = [sha256(p) for p in [*moved_in, man]]
    with ThreadDaemon(root, polling):
        for p in moved_in:
            os.rename(p, root / p.name)
        part = root / "upload.jpg.part"
        write_slowly(part, man.read_bytes(), chunks=4, pause=0.5)
        time.sleep(2.5)  # well past the settle time: a temporary name is never decided
        assert not any(r["path"].endswith(".part") for r in records(root))
        os.rename(part, root / "upload.jpg")
        wait_for_records(root, 6)
        time.sleep(1.5)
    assert (root / "upload.jpg").is_file()
    assert_each_decided_once(root, {p.name for p in moved_in} | {"upload.jpg"}, hashes)


@observers
def test_sigterm_in_a_burst_then_restart_loses_and_repeats_nothing(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    root.mkdir()
    staging = tmp_path / "staging"
    files = [*noise_jpegs(staging, 150, seed=4), photos.save(photos.astronaut(), staging / "man.jpg", quality=92)]
    hashes = [sha256(p) for p in files]
    extra = ["--polling"] if polling else []
    proc = start_process(root, *extra)
    try:
        wait_for(lambda: (root / ".face-clean" / "heartbeat").exists(), 60, "the daemon to start")
        for p in files:
            shutil.copyfile(p, root / p.name)
        wait_for_records(root, 10)
        proc.send_signal(signal.SIGTERM)
        t = time.monotonic()
        out, _ = proc.communicate(timeout=60)  # longer than the promise: the check below is what holds it
        assert proc.returncode == 0, out
        assert time.monotonic() - t < 10, f"stopped {time.monotonic() - t:.1f} s after SIGTERM (docs: within 10 s)"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped" in out
    first = len(records(root))
    assert first < len(files), "the burst should have been cut short"

    proc = start_process(root, *extra)  # a restart catches up on the rest, repeats nothing
    try:
        wait_for_records(root, len(files), timeout=120)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, out
    finally:
        if proc.poll() is None:
            proc.kill()
    assert f"{len(files) - first} not decided yet" in out
    assert (root / "man.jpg").is_file()
    assert_each_decided_once(root, {p.name for p in files}, hashes)


def test_restart_repeats_nothing_and_catches_up_on_new_files(tmp_path: Path):
    root = tmp_path / "photos"
    first = noise_jpegs(root, 3, seed=5, prefix="a")
    man = photos.save(photos.astronaut(), root / "man.jpg", quality=92)
    hashes = [sha256(p) for p in [*first, man]]
    with ThreadDaemon(root, polling=False):
        wait_for_records(root, 4)
    later = noise_jpegs(root, 2, seed=6, prefix="b")  # arrive while it is down
    hashes += [sha256(p) for p in later]
    with ThreadDaemon(root, polling=False):
        wait_for_records(root, 6)
        time.sleep(1.5)
    assert_each_decided_once(root, {p.name for p in [*first, man, *later]}, hashes)


def test_heartbeat_and_health_command(cli, tmp_path: Path):
    root = tmp_path / "photos"
    root.mkdir()
    with ThreadDaemon(root, polling=False) as d:
        result = cli("health", d.heartbeat)
        assert result.exit_code == 0, result.output
    old = time.time() - 600
    os.utime(d.heartbeat, (old, old))
    result = cli("health", d.heartbeat, "--max-age", "120")
    assert result.exit_code == 1 and "old" in result.output
    assert cli("health", tmp_path / "nothing").exit_code == 1


def test_network_filesystems_are_recognised():
    from cleaner.watch import events as watch

    assert watch.NETWORK_FILESYSTEMS.match("nfs4") and watch.NETWORK_FILESYSTEMS.match("fuse.sshfs")
    assert watch.NETWORK_FILESYSTEMS.match("cifs") and not watch.NETWORK_FILESYSTEMS.match("ext4")
    assert watch.filesystem_type(Path("/proc")) == "proc"
    assert watch.is_temporary("a.jpg.part") and watch.is_temporary(".a.jpg") and watch.is_temporary("a.jpg~")
    assert not watch.is_temporary("a.jpg")


def test_json_logs_and_clean_stop(tmp_path: Path):
    root = tmp_path / "photos"
    root.mkdir()
    proc = start_process(root, "--log-format", "json")
    try:
        wait_for(lambda: (root / ".face-clean" / "heartbeat").exists(), 60, "the daemon to start")
        photos.save(data.chelsea(), root / "cat.jpg", quality=90)
        wait_for_records(root, 1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    import json

    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    decisions = [x for x in lines if x.get("event") == "decision"]
    assert [(d["path"], d["action"], d["reason"], d["moved"]) for d in decisions] == [
        ("cat.jpg", "quarantine", "no-face", True)
    ]
    assert all({"time", "level", "message"} <= set(x) for x in lines)


def test_warns_when_the_folder_is_on_a_network_filesystem(tmp_path: Path, monkeypatch, caplog):
    from cleaner.watch import events as watch

    monkeypatch.setattr(watch, "filesystem_type", lambda path: "cifs")
    root = tmp_path / "photos"
    root.mkdir()
    with caplog.at_level("WARNING", logger="face-clean"), ThreadDaemon(root, polling=False):
        pass
    assert any("cifs filesystem" in r.getMessage() and "--polling" in r.getMessage() for r in caplog.records)
