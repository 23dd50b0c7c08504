"""Quiet reruns: a file whose decision is unchanged gets no second audit record, whatever reran (the same
run again, other rules with the same outcome, a real run after a dry run, a watch rescanning for a year);
the summary says how many were unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import photos
from conftest import audit_records
from watching import ThreadDaemon, wait_for

LOG = Path(".face-clean/audit.jsonl")


def folder_of(root: Path) -> Path:
    photos.make_folder(root)  # 11 files: men, a woman, no faces, unreadable ones
    return root


def test_fifteen_reruns_write_nothing_and_say_how_many_were_unchanged(cli, tmp_path: Path):
    root = folder_of(tmp_path / "photos")
    assert cli("run", root, "--keep", "Man").exit_code == 1  # three unreadable files
    size = (root / LOG).stat().st_size
    for _ in range(15):
        again = cli("run", root, "--keep", "Man")
        assert again.exit_code == 0 and "already decided: 6 (unchanged, nothing recorded)" in again.output
    assert (root / LOG).stat().st_size == size
    runs = cli("runs", root, "--json").output.splitlines()
    assert len(runs) == 16 and all('"unchanged": 6' in line for line in runs[1:])


def test_other_rules_record_only_the_files_whose_decision_changed(cli, tmp_path: Path):
    root = folder_of(tmp_path / "photos")
    assert cli("run", root, "--keep", "Man", "--dry-run").exit_code == 1
    dry = audit_records(root / LOG)
    assert len(dry) == 11
    real = cli("run", root, "--keep", "Man")  # the moves are new; what stays was said by the dry run already
    assert real.exit_code == 0 and "already decided: 6" in real.output
    new = audit_records(root / LOG)[len(dry) :]
    assert sorted(r["path"] for r in new) == ["cats/chelsea.png", "coffee.jpg", "grey.jpg", "rocket.jpg", "woman.png"]
    assert all(r["moved"] for r in new)

    rules = tmp_path / "rules.yaml"  # other rules, the same outcome for every file left: nothing to record
    rules.write_text(
        "min_gender_confidence: 0.9\nrules:\n  - {name: no-face, when: {faces: 0}, action: quarantine}\n"
        "  - {name: keep-man, when: {gender: Man}, action: keep}\n  - {name: not-man, action: quarantine}\n"
    )
    before = audit_records(root / LOG)
    same = cli("run", root, "--rules", rules)
    assert same.exit_code == 0 and audit_records(root / LOG) == before and "already decided: 6" in same.output

    other = cli("run", root, "--keep", "Woman")  # the men go: those are new decisions, and only those
    assert other.exit_code == 0, other.output
    changed = audit_records(root / LOG)[len(before) :]
    assert sorted(r["path"] for r in changed) == ["group/two faces.jpg", "man.jpg", "rotated.jpg"]
    assert "already decided: 3" in other.output  # the three unreadable files: still unreadable, still kept


def test_a_new_audit_log_gets_every_decision_again(cli, tmp_path: Path):
    root = folder_of(tmp_path / "photos")
    assert cli("run", root, "--keep", "Man", "--dry-run").exit_code == 1
    (root / LOG).unlink()  # rotated away: its records are not there to say anything
    assert cli("run", root, "--keep", "Man").exit_code == 1
    assert len(audit_records(root / LOG)) == 11


def test_a_watched_folder_rescanned_and_restarted_writes_nothing_new(tmp_path: Path):
    """A year of a watched folder, compressed: rescans every half second, restarts; only what changes
    is recorded."""
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    photos.truncated_jpeg(root / "broken.jpg")
    (root / "clip.mp4").write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(100))

    def records() -> int:
        return len(audit_records(root / LOG)) if (root / LOG).exists() else 0

    for _ in range(3):  # three lives of the daemon
        with ThreadDaemon(root, polling=False, settle=0.2, rescan=0.3):
            wait_for(lambda: records() >= 4, 60, "the four files decided")
            time.sleep(2)  # several rescans
    assert sorted(r["path"] for r in audit_records(root / LOG)) == ["broken.jpg", "clip.mp4", "coffee.jpg", "man.jpg"]
    photos.save(photos.data.rocket(), root / "rocket.jpg", quality=90)
    with ThreadDaemon(root, polling=False, settle=0.2, rescan=0.3):
        wait_for(lambda: records() >= 5, 60, "the new file decided")
        time.sleep(2)
    assert [r["path"] for r in audit_records(root / LOG)[4:]] == ["rocket.jpg"]  # the one that changed
