"""Crash safety: a process killed anywhere (kill -9, power cut) never costs a photo.

A subprocess is made to die at chosen points of a move (``os._exit``: no cleanup runs, as with
kill -9), and at random moments, over and over; after a normal restart every original file's
bytes exist exactly once, in the folder or the quarantine, nothing partial is left, and the
audit log has a final decision for every file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import photos
import pytest
from conftest import all_hashes, audit_records, sha256
from watching import noise_jpegs, start_process, wait_for
from watching import records as complete_records

from cleaner.moves.journal import MoveJournal

LOG = Path(".face-clean/audit.jsonl")

# Runs face-clean with one function replaced by a sudden death at the chosen point.
DRIVER = r"""
import os, sys
point, root = sys.argv[1], sys.argv[2]
import cleaner.fs.move as move, cleaner.moves.journal as journal, cleaner.audit.log as audit

def die(*args, **kwargs):
    os._exit(137)

if point == "before-place":
    move._place = die
elif point == "after-place":  # the photo is in both places
    real_unlink = os.unlink
    def unlink(path, *a, **k):
        p = os.fsdecode(path)
        if k.get("dir_fd") is not None:  # (names are removed through their folder's descriptor)
            p = os.path.join(os.readlink(f"/proc/self/fd/{k['dir_fd']}"), p)
        if p.startswith(root + os.sep) and ".face-clean" not in p:
            die()
        return real_unlink(path, *a, **k)
    os.unlink = unlink
elif point == "mid-copy":  # a partial copy on the other filesystem, before it is read back
    move.hash_fd = die
elif point == "before-audit":
    real_write = audit.AuditLog.write
    audit.AuditLog.write = lambda self, r, durable=True: die() if r.moved else real_write(self, r, durable)
elif point == "before-end":
    journal.MoveJournal.end = die
sys.argv = ["face-clean", *sys.argv[3:]]
from cleaner.cli import main
main()
"""


def face_clean(*args: str | Path, point: str | None = None, root: Path | None = None) -> int:
    argv = [str(a) for a in args]
    cmd = [sys.executable, "-c", DRIVER, point or "none", str(root or ""), *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300).returncode


def check_nothing_lost(root: Path, quarantine: Path, originals: list[str], names: set[str]) -> list[dict]:
    roots = [root] if quarantine.is_relative_to(root) else [root, quarantine]
    assert sorted(all_hashes(*roots)) == sorted(originals), "a photo was lost or duplicated"
    partial = [p for r in roots for p in r.rglob("*face-clean-partial")]
    assert partial == [], "a partial copy was left behind"
    records = audit_records(root / LOG)
    assert {r["path"] for r in records} == names, "a file has no decision"
    moved = Counter(r["path"] for r in records if r["moved"])
    assert all(n == 1 for n in moved.values()), f"a move recorded twice: {moved}"
    for r in records:
        if r["moved"]:
            assert Path(r["destination"]).is_file()
    return records


@pytest.mark.parametrize(
    "point,cross_fs",
    [
        ("before-place", False),
        ("after-place", False),
        ("after-place", True),
        ("mid-copy", True),
        ("before-audit", False),
        ("before-end", False),
    ],
)
def test_killed_at_each_point_of_a_move(tmp_path: Path, point: str, cross_fs: bool):
    root = tmp_path / "photos"
    coffee = photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    man = photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    originals = [sha256(coffee), sha256(man)]
    if cross_fs and not Path("/dev/shm").is_dir():
        pytest.skip("no second filesystem (/dev/shm) here")
    quarantine = Path(os.environ.get("TMP_SHM", "/dev/shm")) / f"fc-{os.getpid()}-{tmp_path.name}" if cross_fs else None
    q_args = ["--quarantine", quarantine] if quarantine else []
    try:
        assert face_clean("run", root, "--keep", "Man", *q_args, point=point, root=root) == 137
        assert face_clean("run", root, "--keep", "Man", *q_args) == 0
        q = quarantine or root / ".face-clean" / "quarantine"
        records = check_nothing_lost(root, q, originals, {"coffee.jpg", "man.jpg"})
        assert (q / "no-face" / "coffee.jpg").is_file() and not coffee.exists()
        moved = [r for r in records if r["moved"]]
        assert len(moved) == 1 and moved[0]["path"] == "coffee.jpg"
        if point in ("after-place", "before-audit"):
            assert "move completed by recovery after an interruption" in moved[0]["notes"]
        assert MoveJournal(root / ".face-clean" / "moves.journal").unfinished() == []
    finally:
        if quarantine:
            import shutil

            shutil.rmtree(quarantine, ignore_errors=True)


def _lines(log: Path) -> int:
    return log.read_bytes().count(b"\n") if log.exists() else 0


# A run decides a noise photo in about 1.5 ms here, so between reaching its target and the kill (a
# 5 ms poll, then up to 20 ms) it decides up to ~20 more: enough files that 30 kills stay mid-run.
NOISE = 1000


def kill_randomly(tmp_path: Path, command: str, kills: int, seed: int) -> int:
    """Start, let it decide a few files (1 to 8), SIGKILL it at a random moment within the next; ``kills``
    times, then finish. Returns how many kills landed while it was running with files left to decide."""
    rng = random.Random(seed)
    root = tmp_path / "photos"
    files = [*noise_jpegs(root, NOISE, seed=seed), photos.save(photos.astronaut(), root / "man.jpg", quality=90)]
    originals = [sha256(p) for p in files]
    log = root / LOG
    names = {p.name for p in files}
    landed = 0
    for _ in range(kills):
        if {r["path"] for r in complete_records(root)} >= names:
            break  # every file decided before the last kill: nothing left to kill it in the middle of
        target = _lines(log) + rng.randint(1, 8)  # 30 kills x (8 + what a fast run overshoots) < NOISE: mid-run
        if command == "run":
            proc = subprocess.Popen(
                [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man", "-q"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            proc = start_process(root)
        try:
            deadline = time.monotonic() + 120
            while _lines(log) < target and proc.poll() is None:  # polled closely: a fast run overshoots
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.02))  # somewhere in the next file: reading, moving, recording
        finally:
            running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        landed += running and not {r["path"] for r in complete_records(root)} >= names
    if command == "run":
        done = subprocess.run([sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man", "-q"], timeout=300)
        assert done.returncode == 0
    else:
        proc = start_process(root)
        try:
            wait_for(lambda: {r["path"] for r in complete_records(root)} >= names, 120, "every file decided")
            time.sleep(1)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
    records = check_nothing_lost(root, root / ".face-clean" / "quarantine", originals, {p.name for p in files})
    assert (root / "man.jpg").is_file()
    assert sum(r["moved"] for r in records) == NOISE
    return landed


@pytest.mark.slow  # 112 s on 2 loaded cores
def test_run_killed_30_times_loses_nothing(tmp_path: Path):
    landed = kill_randomly(tmp_path, "run", kills=30, seed=1)
    assert landed == 30, f"only {landed} of 30 kills landed while the run was deciding files"


@pytest.mark.slow  # 60 s
def test_watch_killed_repeatedly_loses_nothing(tmp_path: Path):
    landed = kill_randomly(tmp_path, "watch", kills=12, seed=2)
    assert landed == 12, f"only {landed} of 12 kills landed while the daemon was deciding files"


def test_tampered_journal_cannot_make_recovery_touch_anything_outside(cli, tmp_path: Path):
    """A journal entry naming a file outside the folder (with a copy of it 'in the quarantine')
    would make a naive recovery delete that file; it is refused."""
    import json

    root = tmp_path / "photos"
    man = photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    secret = photos.save(photos.data.coffee(), tmp_path / "elsewhere" / "secret.jpg", quality=90)
    bait = root / ".face-clean" / "quarantine" / "no-face" / "secret.jpg"
    bait.parent.mkdir(parents=True)
    bait.write_bytes(secret.read_bytes())
    entry = {"op": "begin", "id": "x", "src": str(secret), "dst": str(bait), "sha256": sha256(secret), "record": {}}
    (root / ".face-clean" / "moves.journal").write_text(json.dumps(entry) + "\n")
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert secret.is_file() and man.is_file()
    assert [r["path"] for r in audit_records(root / LOG)] == ["man.jpg"]


BROKEN_OUT = """version: 1
rules:
  - {name: broken, when: {unreadable: true}, action: quarantine, reason: broken}
  - {name: keep-rest, action: keep}
"""


@pytest.mark.slow  # 85 s (run), 115 s (watch)
@pytest.mark.parametrize("command", ["run", "watch"])
def test_killed_repeatedly_then_started_again_decides_no_file_twice(tmp_path: Path, command: str):
    """The audit record of a kept file is written before the state database commits that the file is
    decided (the watch daemon commits every half second in a burst): kills between the two must not
    make the next run, or the restarted daemon, decide it again."""
    rng = random.Random(3)
    root = tmp_path / "photos"
    files = noise_jpegs(root, 210, seed=11, prefix="keep")  # a fast machine is still mid-run at the 6th kill
    for i, p in enumerate(noise_jpegs(tmp_path / "whole", 30, seed=12, prefix="broken")):
        (root / p.name).write_bytes(p.read_bytes()[: 300 + 10 * i])  # cut off: quarantined
        files.append(root / p.name)
    originals, names = [sha256(p) for p in files], {p.name for p in files}
    rules = tmp_path / "rules.yaml"
    rules.write_text(BROKEN_OUT)
    cmd = [sys.executable, "-m", "cleaner", command, str(root), "--rules", str(rules), "-q"]
    cmd += ["--settle", "0.2"] if command == "watch" else []
    landed = 0
    for _ in range(40):
        decided = len(complete_records(root))
        if decided == len(files):
            break
        # killed after this many records in all: mid-run by construction; never more than there are files,
        # or a daemon that has decided them all (and so writes nothing more) would be waited on for good
        target = min(decided + rng.randint(1, 8), len(files))
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while _lines(root / LOG) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.005)
        finally:
            running, decided = proc.poll() is None, len(complete_records(root))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        landed += running and decided < len(files)
    assert landed >= 6, f"only {landed} kills landed while the run was deciding files"
    if command == "run":
        assert subprocess.run(cmd, timeout=300).returncode in (0, 1)
    else:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(complete_records(root)) >= len(files), 120, "every file decided")
            time.sleep(2)  # long enough to decide a file twice, if it would
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0

    records = check_nothing_lost(root, root / ".face-clean" / "quarantine", originals, names)
    twice = [k for k, n in Counter((r["path"], r["sha256"]) for r in records).items() if n > 1]
    assert twice == [], f"{len(twice)} files decided twice: {twice[:5]}"
    assert sum(r["moved"] for r in records) == 30 and len(records) == len(files)
