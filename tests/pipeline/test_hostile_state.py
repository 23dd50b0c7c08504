"""A shared folder is hostile, its state folder included (issue 15): links planted among face-clean's
own files, forged journal lines, a state folder someone else made, own files taken for photos.

Each test plants what an uploader could (someone who may create, rename and delete files in the
photo folder, but is not the account face-clean runs as), runs the real command, and checks every
byte inside and outside the folder afterwards.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import photos
import pytest
from conftest import audit_records, sha256
from watching import start_process, wait_for

STATE, LOG = Path(".face-clean"), Path(".face-clean/audit.jsonl")
NOBODY = 65534


def tree(*roots: Path) -> dict[str, str]:
    """Every entry below the roots: a file's sha256, a link's target, a folder's mark."""
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            key = str(p)
            out[key] = f"-> {os.readlink(p)}" if p.is_symlink() else "dir" if p.is_dir() else sha256(p)
    return out


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path]:
    """photos/ with a man (kept) and coffee (quarantined by --keep Man); outside/ with a file that must stay."""
    root, outside = tmp_path / "photos", tmp_path / "outside"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    outside.mkdir()
    (outside / "precious.txt").write_bytes(b"someone else's file\n")
    return root, outside


# -- cause 1: links planted in the state folder or the quarantine --------------------------------


@pytest.mark.parametrize(
    "name", ["moves.journal", "audit.jsonl", "lock", "journal.key", "state.db", "heartbeat", "restores.journal"]
)
def test_a_link_among_the_state_files_is_never_followed(cli, scene, name):
    root, outside = scene
    target = outside / "precious.txt"
    if name == "state.db":  # another application's database
        target = outside / "other.db"
        with sqlite3.connect(target) as db:
            db.execute("CREATE TABLE mine (x)")
    (root / STATE).mkdir()
    (root / STATE / name).symlink_to(target)
    before = tree(outside)
    result = cli("run", root, "--keep", "Man")
    # set aside, unread (issue 26: a planted link must not stop every run until a person repairs it)
    assert result.exit_code == 0, result.output
    assert "symbolic link" in result.output and "set aside" in result.output and "Traceback" not in result.output
    assert tree(outside) == before
    aside = [p for p in (root / STATE).iterdir() if p.name.startswith(f"{name}.untrusted-")]
    assert len(aside) == 1 and aside[0].is_symlink() and os.readlink(aside[0]) == str(target)
    assert not (root / STATE / name).is_symlink()
    assert (root / STATE / "quarantine/no-face/coffee.jpg").is_file() and not (root / "coffee.jpg").exists()


def test_a_linked_state_folder_is_set_aside_and_its_target_untouched(cli, scene):
    root, outside = scene
    (outside / "lock").write_text("their lock\n")
    (root / STATE).symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert "set aside" in result.output
    assert tree(outside) == before
    assert (root / STATE).is_dir() and not (root / STATE).is_symlink()
    assert (root / STATE / "quarantine/no-face/coffee.jpg").is_file()
    [aside] = [p for p in root.iterdir() if p.name.startswith(".face-clean.untrusted-")]
    assert aside.is_symlink() and os.readlink(aside) == str(outside)


def test_a_state_folder_someone_else_made_is_set_aside_unread(cli, scene):
    root, outside = scene
    planted = root / STATE
    planted.mkdir()
    (planted / "moves.journal").symlink_to(outside / "precious.txt")
    (planted / "quarantine").mkdir()
    (planted / "quarantine" / "no-face").symlink_to(outside, target_is_directory=True)
    os.chown(planted, NOBODY, NOBODY)
    before = tree(outside)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert f"not owned by uid {os.geteuid()}" in result.output and "set aside" in result.output
    assert tree(outside) == before
    fresh = os.stat(root / STATE)
    assert fresh.st_uid == os.geteuid() and stat.S_IMODE(fresh.st_mode) & 0o077 == 0
    assert (root / STATE / "quarantine/no-face/coffee.jpg").is_file()


def test_our_state_folder_writable_by_others_is_made_private(cli, scene):
    root, _ = scene
    (root / STATE).mkdir()
    (root / STATE).chmod(0o777)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(root / STATE).st_mode) & 0o022 == 0
    assert "writable by others" in result.output


def test_an_audit_log_folder_others_can_write_is_refused(cli, scene, tmp_path):
    root, _ = scene
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    result = cli("run", root, "--keep", "Man", "--audit-log", shared / "audit.jsonl")
    assert result.exit_code == 2, result.output
    assert f"{shared} is writable by others" in result.output
    assert os.listdir(shared) == [] and (root / "coffee.jpg").is_file()


def test_a_linked_quarantine_reason_folder_is_not_followed(cli, scene):
    root, outside = scene
    (root / STATE / "quarantine").mkdir(parents=True)
    (root / STATE / "quarantine/no-face").symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output
    assert tree(outside) == before and (root / "coffee.jpg").is_file()
    coffee = next(r for r in audit_records(root / LOG) if r["path"] == "coffee.jpg")
    assert not coffee["moved"] and "symbolic link" in coffee["error"]


def test_links_where_the_heartbeat_and_the_report_write_their_temporary_files(cli, scene):
    root, outside = scene
    (root / STATE).mkdir()
    for name in ("heartbeat.tmp", ".report.html.tmp"):
        (root / STATE / name).symlink_to(outside / "precious.txt")
    before = tree(outside)
    proc = start_process(root)
    try:
        wait_for(lambda: (root / STATE / "heartbeat").is_file() or proc.poll() is not None, 60, "a heartbeat")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert cli("report", root).exit_code == 0
    assert tree(outside) == before
    assert json.loads((root / STATE / "heartbeat").read_text())["pid"] == proc.pid


# -- cause 2: forged journal lines -----------------------------------------------------------------


def forge(journal: Path, src: Path, dst: Path, digest: str | None, op_id: str = "forged") -> None:
    entry = {"op": "begin", "id": op_id, "src": str(src), "dst": str(dst), "sha256": digest, "record": {}}
    with journal.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


@pytest.mark.parametrize("victim", ["man.jpg", "audit"])
def test_a_forged_move_journal_entry_deletes_nothing(cli, scene, victim):
    root, _ = scene
    assert cli("run", root, "--keep", "Man").exit_code == 0
    quarantined = root / STATE / "quarantine/no-face/coffee.jpg"
    src = root / "man.jpg" if victim == "man.jpg" else root / LOG
    forge(root / STATE / "moves.journal", src, quarantined, None)
    copy = root / STATE / "quarantine/no-face/man.jpg"  # the same bytes "in the quarantine", with their hash
    copy.write_bytes((root / "man.jpg").read_bytes())
    forge(root / STATE / "moves.journal", root / "man.jpg", copy, sha256(copy), "forged-2")
    before = tree(root)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert result.output.count("did not write") == 1  # said once
    after = tree(root)
    assert all(after.get(p) == h for p, h in before.items() if "/.face-clean/" not in p or p.endswith(".jpg"))
    assert (root / "man.jpg").is_file() and quarantined.is_file() and copy.is_file()
    assert cli("restore", root, "--all").exit_code == 0 and (root / "coffee.jpg").is_file()


def test_a_forged_restore_journal_entry_deletes_nothing(cli, scene):
    root, _ = scene
    assert cli("run", root, "--keep", "Man").exit_code == 0
    quarantined = root / STATE / "quarantine/no-face/coffee.jpg"
    lookalike = root / ".man.jpg.7.face-clean-partial"  # a user's file with a name like a partial copy of ours
    lookalike.write_bytes(b"mine\n")
    forge(root / STATE / "restores.journal", quarantined, root / "man.jpg", None)
    digest = sha256(quarantined)
    result = cli("restore", root, "--all")
    assert result.exit_code == 0, result.output
    assert "did not write" in result.output
    assert sha256(root / "coffee.jpg") == digest and (root / "man.jpg").is_file()
    assert lookalike.read_bytes() == b"mine\n"


# -- cause 8: face-clean's own files are not photos -------------------------------------------------


def test_watch_never_decides_its_own_heartbeat(tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: broken, when: {unreadable: true}, action: quarantine, reason: broken}\n"
        "  - {name: rest, action: keep}\n"
    )
    log = root / "logs" / "audit.jsonl"
    cmd = [sys.executable, "-m", "cleaner", "watch", str(root), "--rules", str(rules), "--audit-log", str(log)]
    proc = subprocess.Popen([*cmd, "--settle", "0.5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: (root / "logs/heartbeat").is_file() or proc.poll() is not None, 60, "a heartbeat")
        wait_for(lambda: log.is_file() and "coffee.jpg" in log.read_text(), 60, "coffee decided")
        (root / "logs/heartbeat").touch()  # as a rewrite would: an event for it
        time.sleep(4)  # a settle period and more: time to decide it, were it taken for a photo
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert [(r["path"], r["rule"]) for r in audit_records(log)] == [("coffee.jpg", "rest")]
    assert (root / "logs/heartbeat").is_file() and not (root / STATE / "quarantine").exists()


@pytest.mark.parametrize("option", ["--audit-log", "--heartbeat"])
def test_an_existing_photo_is_never_taken_for_the_log_or_the_heartbeat(cli, scene, option):
    root, _ = scene
    digest = sha256(root / "man.jpg")
    if option == "--audit-log":
        result = cli("run", root, "--keep", "Man", "--audit-log", root / "man.jpg")
    else:
        proc = start_process(root, "--heartbeat", str(root / "man.jpg"))
        out, _ = proc.communicate(timeout=60)
        result = type("R", (), {"exit_code": proc.returncode, "output": out})()
    assert result.exit_code == 2, result.output
    assert "not a face-clean" in result.output and "Traceback" not in result.output
    assert sha256(root / "man.jpg") == digest


# -- issue 26: a key a full disk left empty ---------------------------------------------------------


def test_a_full_disk_never_leaves_an_empty_key_and_an_empty_one_is_made_afresh(cli, scene, monkeypatch):
    import cleaner.fs.signing

    root, _ = scene
    real = cleaner.fs.signing.write_all

    def disk_full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cleaner.fs.signing, "write_all", disk_full)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code != 0 and (root / "coffee.jpg").is_file()
    assert not (root / STATE / "journal.key").exists()  # no key rather than an empty one
    assert [p.name for p in (root / STATE).iterdir() if "journal.key" in p.name] == []
    monkeypatch.setattr(cleaner.fs.signing, "write_all", real)
    (root / STATE / "journal.key").write_bytes(b"")  # as an earlier version left it
    (root / STATE / "journal.key").chmod(0o600)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output and "a new key is made" in result.output
    assert len((root / STATE / "journal.key").read_bytes()) == 32
    assert (root / STATE / "quarantine/no-face/coffee.jpg").is_file()
