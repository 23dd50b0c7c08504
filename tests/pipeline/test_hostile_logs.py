"""Torn and malformed lines, and a full disk (issue 15, causes 5 and 7): the JSON Lines files are
read line by line, what cannot be read is skipped and said once, a writer starts on a fresh line,
and a disk that fills up mid-run stops the run with a message, losing nothing."""

from __future__ import annotations

import errno
import json
import os
from collections import Counter
from pathlib import Path

import photos
import pytest
from conftest import all_hashes, audit_records, sha256
from watching import noise_jpegs

STATE, LOG = Path(".face-clean"), Path(".face-clean/audit.jsonl")
DEEP = "[" * 100_000 + "]" * 100_000
JUNK = ["[1, 2]", '"text"', "5", "null", "{}", '{"moved": true, "destination": "/x"}', DEEP]
JUNK += ['{"path": ["a"], "root": {"b": 1}, "run_id": [], "move_id": [1], "moved": true, "destination": 3}']
JUNK += ['{"path": "a.jpg", "faces": [1, {"box": 2, "gender": 3}], "status": "analysed", "run_id": "r"}']


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    return root


@pytest.mark.parametrize("torn", ['{"path": "Madchen.jpg", "mov', '{"path": "Mädchen.jpg"'])
def test_a_torn_last_line_is_skipped_and_the_next_record_starts_afresh(cli, scene, torn):
    root = scene
    (root / STATE).mkdir()
    data = torn.encode("utf-8")
    (root / LOG).write_bytes(data[: data.index(b"\xc3") + 1] if b"\xc3" in data else data)  # cut inside "ä"
    outputs = []
    for command in (["run", root, "--keep", "Man"], ["restore", root, "--all"], ["report", root]):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    assert (root / "coffee.jpg").is_file()  # restored: the run's first record was not swallowed
    assert all(out.count("skipped 1 line") == 1 for out in outputs[1:]), outputs
    good = [json.loads(x) for x in lines(root / LOG)[1:] if x]
    assert [r["path"] for r in good] == ["coffee.jpg", "man.jpg", "coffee.jpg"]


def test_lines_that_are_not_records_stop_nothing(cli, scene):
    root = scene
    assert cli("run", root, "--keep", "Man").exit_code == 0
    with (root / LOG).open("a", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in JUNK)
    for journal in ("moves.journal", "restores.journal"):
        (root / STATE / journal).write_text("".join(line + "\n" for line in JUNK))
    outputs = []
    for command in (["run", root, "--keep", "Man"], ["restore", root, "--all"], ["report", root]):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    assert all(out.count(f"skipped {len(JUNK)} lines") == 1 for out in outputs[1:]), outputs
    assert outputs[0].count("moves.journal: ignored 9 lines") == 1
    assert outputs[1].count("restores.journal: ignored 9 lines") == 1
    assert (root / "coffee.jpg").is_file() and (root / "man.jpg").is_file()


# -- cause 7: a full disk -------------------------------------------------------------------------


def disk_full_after(monkeypatch, folder: Path, allowed: int) -> Counter:
    """Writes to files in ``folder`` fail with ENOSPC once ``allowed`` bytes were written there."""
    real_write, real_fsync, written = os.write, os.fsync, Counter()

    def in_folder(fd: int) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder) + os.sep)
        except OSError:
            return False

    def write(fd, data):
        if in_folder(fd):
            written["n"] += len(data)
            if written["n"] > allowed:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    def fsync(fd):
        if in_folder(fd) and written["n"] > allowed:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    return written


def many(root: Path, n: int = 12) -> list[str]:
    noise_jpegs(root, n)
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    return sorted(all_hashes(root))


def test_a_disk_full_under_the_journal_stops_the_run_cleanly(cli, tmp_path, monkeypatch):
    root = tmp_path / "photos"
    before = many(root)
    written = disk_full_after(monkeypatch, root / STATE, 6000)
    result = cli("run", root, "--keep", "Man")
    assert written["n"] > 6000, "the disk filled up"
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert sorted(all_hashes(root)) == before
    monkeypatch.undo()
    done = cli("run", root, "--keep", "Man")  # space again: the run finishes what was left
    assert done.exit_code == 0, done.output
    assert sorted(all_hashes(root)) == before
    moved = [r for r in audit_records(root / LOG) if r["moved"]]
    assert sorted(r["path"] for r in moved) == [f"img{i:04d}.jpg" for i in range(12)]
    assert all(sha256(Path(r["destination"])) == r["sha256"] for r in moved)


def test_a_full_state_database_stops_the_run_cleanly(cli, tmp_path, monkeypatch):
    import cleaner.store.db

    root = tmp_path / "photos"
    before = many(root, 60)
    # SQLite's own "database or disk is full" once the tables' first pages are full
    db = cleaner.store.db
    monkeypatch.setattr(db, "SCHEMA", db.SCHEMA + "PRAGMA max_page_count = 1;\n")
    monkeypatch.setattr(db, "COMMIT_EVERY", 1)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output
    assert "database or disk is full" in result.output and "Traceback" not in result.output
    assert sorted(all_hashes(root)) == before
    monkeypatch.undo()
    assert cli("run", root, "--keep", "Man").exit_code == 0
    assert sorted(all_hashes(root)) == before
