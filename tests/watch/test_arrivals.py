"""`face-clean watch` and files written in several sittings: never decided while incomplete.

Each arrival pattern writes several photos at once, with pauses of 1.5 settle periods between
its parts and the file closed in between (so inotify's close-after-write says "done" at every
pause).  The rules quarantine unreadable files, as a user who wants broken uploads out of the
way would: a photo decided half-written would be moved away half-written.  Every file must
get exactly one record per complete content that arrived, and a file that really is cut off
(it never grows) exactly one record, once it has stayed unchanged for 15 settle periods.
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import photos
import pytest
from conftest import sha256
from PIL import Image
from watching import ThreadDaemon, noise_jpegs, records, wait_for

from cleaner.paths import Layout
from cleaner.pipeline.handled import Done
from cleaner.pipeline.job import Job

SETTLE = 1.0
PAUSE = 1.5 * SETTLE
PARTS = 4
PER_PATTERN = 3
INCOMPLETE_WAIT = 15 * SETTLE  # a cut-off file is decided after 15 settle periods without a change (docs: watch)
RULES = """version: 1
rules:
  - {name: broken, when: {unreadable: true}, action: quarantine, reason: broken}
  - {name: keep-rest, action: keep}
"""
observers = pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])


def noise(seed: int, shape: tuple[int, int], fmt: str) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (*shape, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def parts(data: bytes) -> list[tuple[int, bytes]]:
    step = -(-len(data) // PARTS)
    return [(i, data[i : i + step]) for i in range(0, len(data), step)]


# -- the writers: each leaves the file closed between its parts ------------------------------


def dd_chunks(path: Path, data: bytes) -> None:
    """``dd conv=notrunc seek=N`` part after part, as a resumable upload does."""
    for offset, part in parts(data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.pwrite(fd, part, offset)
        os.close(fd)
        time.sleep(PAUSE)


def appends(path: Path, data: bytes) -> None:
    """``cat part >> photo.jpg``, part after part."""
    for _, part in parts(data):
        with open(path, "ab") as fh:
            fh.write(part)
        time.sleep(PAUSE)


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Over a photo already there and decided, without truncating it (``dd conv=notrunc``); the new
    photo is larger, and its first part covers the old one."""
    for offset, part in parts(data):
        with open(path, "r+b") as fh:
            fh.seek(offset)
            fh.write(part)
        time.sleep(PAUSE)


def truncate_and_rewrite(path: Path, data: bytes) -> None:
    """Over a photo already there and decided: truncated to nothing, then written part after part."""
    for i, (_, part) in enumerate(parts(data)):
        with open(path, "wb" if i == 0 else "ab") as fh:
            fh.write(part)
        time.sleep(PAUSE)


def empty_then_filled(path: Path, data: bytes) -> None:
    """A zero-byte file first (``touch``, a placeholder), its bytes two settle periods later."""
    path.write_bytes(b"")
    time.sleep(2 * SETTLE)
    path.write_bytes(data)


def cut_off_for_good(path: Path, data: bytes) -> None:
    """Half a photo, written once and never completed."""
    path.write_bytes(data[: len(data) // 2])


Pattern = tuple[str, Callable[[Path, bytes], None], str, bool]  # name, writer, format, over an existing photo
PATTERNS: list[Pattern] = [
    ("dd", dd_chunks, "PNG", False),
    ("append", appends, "JPEG", False),
    ("rewrite", rewrite_in_place, "JPEG", True),
    ("truncate", truncate_and_rewrite, "PNG", True),
    ("empty", empty_then_filled, "JPEG", False),
    ("cutoff", cut_off_for_good, "JPEG", False),
]


@observers
def test_files_written_in_several_sittings_are_decided_once_complete(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    root.mkdir()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    plan = []  # (path, writer, final bytes, old bytes or None)
    for p, (name, writer, fmt, over) in enumerate(PATTERNS):
        for i in range(PER_PATTERN):
            final = noise(100 * p + i, (150, 200), fmt)
            old = noise(100 * p + i + 50, (30, 40), fmt) if over else None
            plan.append((root / f"{name}-{i}.{fmt.lower()}", writer, final, old))
    olds = [(path, old) for path, _, _, old in plan if old is not None]

    with ThreadDaemon(root, polling, settle=SETTLE, keep=None, rules_file=rules):
        for path, old in olds:  # photos there before, decided before they are written over
            path.write_bytes(old)
        wait_for(lambda: len(records(root)) == len(olds), 60, "the photos to be written over")
        writers = [threading.Thread(target=w, args=(path, final)) for path, w, final, _ in plan]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        expected = len(plan) + len(olds)
        wait_for(lambda: len(records(root)) >= expected, INCOMPLETE_WAIT + 120, f"{expected} records")
        time.sleep(3 * SETTLE)  # nothing more may come

    by_path: dict[str, list[dict]] = {}
    for r in records(root):
        by_path.setdefault(r["path"], []).append(r)
    assert len(records(root)) == expected, {p: [r["status"] for r in rs] for p, rs in by_path.items()}
    for path, writer, final, old in plan:
        got = by_path[path.name]
        if writer is cut_off_for_good:
            [r] = got  # one record, once it stayed unchanged long enough, and the file moved away with it
            assert r["status"] == "unreadable" and "truncated" in r["error"] and r["moved"], r
            assert r["destination"] == str(root / ".face-clean/quarantine/broken" / path.name)
            continue
        contents = [final] if old is None else [old, final]
        assert [(r["status"], r["action"], r["moved"]) for r in got] == [("analysed", "keep", False)] * len(contents)
        assert [r["sha256"] for r in got] == [sha256_of(c) for c in contents], path.name
        assert sha256(path) == sha256_of(final)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- what is not a decision ------------------------------------------------------------------


def decided_rows(root: Path) -> dict[str, int]:
    """The state database's decided paths (relative to root) and their mtimes, read-only."""
    db = Layout.for_root(root).state_db
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        rows = conn.execute("SELECT path, mtime_ns FROM decided").fetchall()
    return {str(Path(p).relative_to(root)): m for p, m in rows}


def test_files_deleted_while_queued_get_no_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "photos"
    root.mkdir()
    reached, gate = threading.Event(), threading.Event()
    real = Job.decide_each

    def held(self: Job, files: list[Path]) -> Iterator[Done]:
        reached.set()  # the first files are handed over: hold them until they are deleted
        gate.wait(60)
        yield from real(self, files)

    monkeypatch.setattr(Job, "decide_each", held)
    with ThreadDaemon(root, polling=False, keep="all") as daemon:
        files = noise_jpegs(root, 50)
        assert reached.wait(60)
        for p in files:
            p.unlink()
        gate.set()
        photos.save(photos.astronaut(), root / "sentinel.jpg", quality=90)
        wait_for(lambda: len(records(root)) >= 1, 60, "the sentinel's record")
        time.sleep(2 * SETTLE)
    assert [r["path"] for r in records(root)] == ["sentinel.jpg"]  # no "vanished" records
    assert daemon.job.summary.unreadable == 0 and daemon.job.summary.seen == 1


@observers
def test_touched_files_and_renamed_folders_are_not_decided_again(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    album = noise_jpegs(root / "album", 5)
    loose = noise_jpegs(root, 1, seed=9, prefix="loose")[0]
    with ThreadDaemon(root, polling, keep="all"):
        wait_for(lambda: len(records(root)) == 6, 60, "6 records")
        os.rename(root / "album", root / "album 2024")
        renamed = {f"album 2024/{p.name}" for p in album}
        wait_for(lambda: renamed <= set(decided_rows(root)), 60, "the renamed folder's files to be known")
    os.utime(loose, ns=(time.time_ns(), time.time_ns() + 10**9))  # touch: the mtime alone changes
    touched = loose.stat().st_mtime_ns
    with ThreadDaemon(root, polling, keep="all"):  # a restart finds it changed since it was decided
        wait_for(lambda: decided_rows(root).get(loose.name) == touched, 60, "the touched file to be known")
        time.sleep(2 * SETTLE)
    assert len(records(root)) == 6, [r["path"] for r in records(root)[6:]]
    assert set(decided_rows(root)) == renamed | {loose.name}


def test_a_file_moved_in_from_elsewhere_on_the_disk_is_complete_at_once(tmp_path: Path):
    """``mv`` from another folder of the same filesystem is a rename: the file is whole already."""
    root = tmp_path / "photos"
    root.mkdir()
    outside = noise_jpegs(tmp_path / "outside", 3)
    with ThreadDaemon(root, polling=False, settle=60, keep="all"):  # a file written here would wait 60 s
        for p in outside:
            os.rename(p, root / p.name)
        wait_for(lambda: len(records(root)) == 3, 30, "3 records, well before the settle time")
    assert sorted(r["path"] for r in records(root)) == [p.name for p in outside]
