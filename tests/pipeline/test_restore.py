"""`face-clean restore` end to end: real runs and watches, real moves back, what the user sees."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import photos
import pytest
from conftest import audit_records, invoke, sha256, swept_copy
from watching import ThreadDaemon, noise_jpegs, wait_for_records

from cleaner.moves.journal import MoveJournal
from cleaner.paths import Layout
from cleaner.pipeline.lock import lock_layout
from cleaner.pipeline.restore.restorer import RECOVERED
from cleaner.records import AuditRecord

Q, R, LOG = Path(".face-clean/quarantine"), Path(".face-clean/review"), Path(".face-clean/audit.jsonl")
MOVED = {"coffee.jpg": "no-face", "rocket.jpg": "no-face", "cats/chelsea.png": "no-face", "woman.png": "not-man"}
MOVED_ALL = {**MOVED, "grey.jpg": "uncertain"}  # the last to review/


def photos_in(root: Path) -> dict[str, str]:
    """Every file below root outside the tool's folder, relative path -> sha256."""
    found = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    return {rel: sha256(p) for rel, p in found.items() if not rel.startswith(".face-clean/")}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def swept_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    photos.make_folder(root := tmp_path_factory.mktemp("template") / "photos")
    before = photos_in(root)
    assert invoke("run", root, "--keep", "Man").exit_code == 1  # three unreadable files
    return root, before


@pytest.fixture
def swept(swept_template: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The standard folder as `face-clean run DIR --keep Man` left it: run once, copied for each test with
    the audit log's paths changed to the copy's (it is the same folder under another name)."""
    template, before = swept_template
    return swept_copy(template, tmp_path / "photos"), before


def test_restore_all_after_run_then_nothing_then_the_latest_move(cli, swept):
    root, before = swept
    moved_out = {r["path"]: r for r in audit_records(root / LOG) if r["moved"]}
    assert set(moved_out) == set(MOVED_ALL) and set(photos_in(root)) == set(before) - set(MOVED_ALL)
    result = cli("restore", root, "--all")
    assert result.exit_code == 0, result.output
    assert all(f"restored {path} ({reason})\n" in result.output for path, reason in MOVED_ALL.items())
    assert "Restored: 5 (no-face 3, not-man 1, uncertain 1)" in result.output
    assert "skipped: conflicts 0, missing 0, changed 0, refused 0, failed 0" in result.output
    assert photos_in(root) == before  # every photo at its old path, byte for byte
    assert files_under(root / Q) == files_under(root / R) == set()
    own = {p.name for p in (root / ".face-clean").iterdir()}  # no lock, no journal, no empty reason folders
    assert own == {"audit.jsonl", "moves.journal", "journal.key", "quarantine", "review", "state.db"}
    restores = audit_records(root / LOG)[-5:]
    assert {r["path"] for r in restores} == set(MOVED_ALL)
    for r in restores:
        out = moved_out[r["path"]]
        assert (r["action"], r["moved"], r["dry_run"], r["error"]) == ("restore", True, False, None)
        assert r["root"] == str(root) and r["notes"] == [f"restored from {out['destination']}"]
        assert r["destination"] == str(root / r["path"]) and r["sha256"] == out["sha256"] == before[r["path"]]
        assert (r["rule"], r["reason"], r["faces"]) == (out["rule"], out["reason"], out["faces"])
        assert r["move_id"] not in (None, out["move_id"])  # its own journal entry
    log_before, again = (root / LOG).read_bytes(), cli("restore", root, "--all")
    assert again.exit_code == 0 and "Restored: 0\n" in again.output
    assert (root / LOG).read_bytes() == log_before and photos_in(root) == before  # idempotent: no new record
    again = cli("run", root, "--keep", "Man")  # restored photos carry a person's keep verdict: they stay
    # (exit 0: the unreadable files left in the folder are decided already, unchanged)
    assert again.exit_code == 0 and "quarantined: 0\n" in again.output and "sent to review: 0\n" in again.output
    assert photos_in(root) == before and files_under(root / Q) == files_under(root / R) == set()
    decided = audit_records(root / LOG)[-5:]
    assert {(r["path"], r["rule"], r["action"], r["decided_by"]) for r in decided} == {
        (path, "verdict", "keep", "person") for path in MOVED_ALL
    }


def test_a_selection_is_required(cli, swept, tmp_path):
    root, before = swept
    cases = [
        ((), "nothing selected: name FILEs, or use --run, --reason"),
        (("--all", "--reason", "no-face"), "--all restores every file"),
        (("--since", "last tuesday"), "'last tuesday' is not a time"),
        (("--since", "2026-11-23", "--until", "2026-11-22"), "--since must be earlier than --until"),
    ]
    for args, message in cases:
        result = cli("restore", root, *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    result = cli("restore", tmp_path, "--all")
    assert result.exit_code == 2 and f"no audit log at {tmp_path / LOG}" in result.output
    assert photos_in(root) == {p: h for p, h in before.items() if p not in MOVED_ALL}


@pytest.mark.parametrize(
    ("args", "restored"),
    [
        (["--reason", "not-man"], {"woman.png"}),
        (["--reason", "no-face", "--reason", "uncertain"], set(MOVED_ALL) - {"woman.png"}),
        (["--rule", "no-face", "--path", "cats/*"], {"cats/chelsea.png"}),
        (["--path", "*.jpg"], {"coffee.jpg", "rocket.jpg", "grey.jpg"}),
        (["--rule", "keep-man"], {"grey.jpg"}),  # its uncertain face sent it to review
        (["coffee.jpg"], {"coffee.jpg"}),  # as the audit log records it
        (["{root}/cats/chelsea.png"], {"cats/chelsea.png"}),  # its old path
        (["{root}/.face-clean/review/uncertain/grey.jpg", "woman.png"], {"grey.jpg", "woman.png"}),  # quarantined
        (["--since", "1h", "--until", "2099-01-01T00:00"], set(MOVED_ALL)),
    ],
)
def test_selections(cli, swept, args, restored):
    root, before = swept
    result = cli("restore", root, *[a.format(root=root) for a in args])
    assert result.exit_code == 0 and f"Restored: {len(restored)}" in result.output, result.output
    assert {p: h for p, h in photos_in(root).items() if p in MOVED_ALL} == {p: before[p] for p in restored}
    left = {f"{r}/{p}" for p, r in MOVED_ALL.items() if p not in restored}
    assert files_under(root / Q) | files_under(root / R) == left


def test_one_file_twice_unknown_and_relative_to_the_folder_not_the_current_one(cli, swept, monkeypatch):
    root, _ = swept
    assert cli("restore", root, "coffee.jpg").exit_code == 0
    again = cli("restore", root, "coffee.jpg")
    assert again.exit_code == 0 and f"already restored: coffee.jpg (to {root / 'coffee.jpg'})" in again.output
    unknown = cli("restore", root, "nosuch.jpg")
    assert unknown.exit_code == 1 and "not found: nosuch.jpg: the audit log has no file moved out" in unknown.output
    monkeypatch.chdir(root / "cats")  # issue 25: a FILE is relative to DIR (or absolute), as verdict's and report's
    here = cli("restore", root, "chelsea.png")
    assert here.exit_code == 1 and "not found: chelsea.png" in here.output and not (root / "cats/chelsea.png").exists()
    result = cli("restore", root, "cats/chelsea.png", "-v")
    assert result.exit_code == 0
    assert f"restored cats/chelsea.png (no-face) from {root / Q / 'no-face/cats/chelsea.png'}" in result.output


def test_time_range_selects_by_when_files_were_moved_out(cli, tmp_path):
    root = tmp_path / "p"
    for name, image in (("coffee.jpg", photos.data.coffee()), ("rocket.jpg", photos.data.rocket())):
        photos.save(image, root / name)  # one photo per run: two times of moving out
        assert cli("run", root, "--keep", "Man").exit_code == 0
    first, second = (r["time"] for r in audit_records(root / LOG) if r["moved"])
    assert first < second

    early = cli("restore", root, "--until", second, "--dry-run")
    assert early.exit_code == 0 and "would restore coffee.jpg (no-face)\nWould restore: 1" in early.output
    late = cli("restore", root, "--since", second)
    assert late.exit_code == 0 and "restored rocket.jpg (no-face)\nRestored: 1" in late.output
    assert (root / "rocket.jpg").exists() and not (root / "coffee.jpg").exists()


def test_restore_after_watch(cli, tmp_path):
    root = tmp_path / "w"
    photos.save(photos.astronaut(), root / "man.jpg")
    with ThreadDaemon(root, polling=False):
        noise = {p.name: sha256(p) for p in noise_jpegs(root / "inbox", 3)}
        wait_for_records(root, 4)
    quarantined = {f"no-face/inbox/{n}" for n in noise}
    assert files_under(root / Q) == quarantined
    with lock_layout(Layout.for_root(root), "watch", dry_run=False):  # a watch still running
        busy = cli("restore", root, "--all")
    assert busy.exit_code == 5 and "is in use by another face-clean" in busy.output  # its own exit code
    assert files_under(root / Q) == quarantined

    result = cli("restore", root, "--path", "inbox/*", "--no-verdict")  # no keep verdict: the rules decide again
    assert result.exit_code == 0 and "Restored: 3 (no-face 3)" in result.output
    assert {p.name: sha256(p) for p in (root / "inbox").iterdir()} == noise
    assert [r["action"] for r in audit_records(root / LOG)[-3:]] == ["restore"] * 3

    with ThreadDaemon(root, polling=False):  # restored without a verdict: new to the daemon, decided again
        wait_for_records(root, 4 + 3 + 3)
    assert files_under(root / Q) == quarantined


def test_conflicts_are_skipped_until_rename_and_a_dry_run_changes_nothing(cli, swept):
    root, before = swept
    (taken := root / "coffee.jpg").write_bytes(b"a new photo by the same name")
    shutil.copy2(root / Q / "no-face/rocket.jpg", root / "rocket.jpg")  # put back by hand
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    dry = cli("restore", root, "--all", "--dry-run")
    assert (
        dry.exit_code == 1 and "would restore woman.png (not-man)\n" in dry.output and "Would restore: 3" in dry.output
    )
    dry = cli("restore", root, "--all", "--dry-run", "--rename")
    assert dry.exit_code == 0 and "would restore coffee.jpg as 'coffee (1).jpg' (no-face)" in dry.output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot  # moved and wrote nothing
    result = cli("restore", root, "--all")
    assert result.exit_code == 1
    assert f"conflict: coffee.jpg: {taken} exists; skipped (--rename puts it back as 'coffee (1).jpg')" in result.output
    assert "conflict: rocket.jpg: " in result.output and "(with the same content: already put back" in result.output
    assert "Restored: 3" in result.output and "conflicts 2" in result.output
    assert taken.read_bytes() == b"a new photo by the same name"
    assert files_under(root / Q) == {"no-face/coffee.jpg", "no-face/rocket.jpg"}
    records = len(audit_records(root / LOG))
    again = cli("restore", root, "--all")
    assert again.exit_code == 1 and "conflicts 2" in again.output and len(audit_records(root / LOG)) == records
    renamed = cli("restore", root, "coffee.jpg", "--rename")
    assert renamed.exit_code == 0 and "restored coffee.jpg as 'coffee (1).jpg' (no-face)" in renamed.output
    assert sha256(root / "coffee (1).jpg") == before["coffee.jpg"] and taken.read_bytes().startswith(b"a new")
    [r] = audit_records(root / LOG)[records:]
    assert (r["path"], r["destination"]) == ("coffee.jpg", str(root / "coffee (1).jpg"))
    assert r["notes"][1] == "restored as 'coffee (1).jpg': 'coffee.jpg' was taken"


def test_missing_changed_or_just_taken_are_reported_and_left(cli, swept, monkeypatch):
    import cleaner.moves.mover

    root, before = swept
    (root / Q / "no-face/rocket.jpg").unlink()
    (root / Q / "no-face/coffee.jpg").write_bytes(b"not the photo that was moved here")
    real = cleaner.moves.mover.move_file

    def just_taken(src, dst, *args, **kwargs):  # woman.png is taken between the check and the move: no 'woman (1).png'
        if dst.name == "woman.png":
            dst.write_bytes(b"new")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(cleaner.moves.mover, "move_file", just_taken)
    result = cli("restore", root, "--all")
    assert result.exit_code == 1 and f"missing: rocket.jpg: {root / Q / 'no-face/rocket.jpg'} is gone" in result.output
    assert f"changed: coffee.jpg: {root / Q / 'no-face/coffee.jpg'} is not the file that was" in result.output
    assert f"conflict: woman.png: {root / 'woman.png'} exists; skipped" in result.output
    assert "Restored: 2" in result.output and "conflicts 1, missing 1, changed 1" in result.output
    assert not (root / "coffee.jpg").exists() and not (root / "rocket.jpg").exists()
    assert (root / Q / "no-face/coffee.jpg").read_bytes().startswith(b"not the photo")
    assert (root / "woman.png").read_bytes() == b"new" and sha256(root / Q / "not-man/woman.png") == before["woman.png"]


def test_tampered_records_are_refused(cli, swept, tmp_path):
    root, before = swept
    (root / "linked").symlink_to(outside := tmp_path / "outside", target_is_directory=True)
    outside.mkdir()
    real = {r["path"]: r for r in audit_records(root / LOG) if r["moved"]}
    forged = [
        {**real["woman.png"], "path": "../escaped.png"},
        {**real["coffee.jpg"], "path": str(outside / "coffee.jpg")},
        {**real["rocket.jpg"], "path": "linked/rocket.jpg"},
        {**real["cats/chelsea.png"], "path": ".face-clean/state.db"},
        {**real["grey.jpg"], "root": "/elsewhere"},  # another folder's: not this restore's business
        {**real["woman.png"], "path": "taken.jpg", "destination": str(root / "man.jpg")},  # a kept photo
    ]
    with (root / LOG).open("a", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in forged)
    log_before = (root / LOG).read_bytes()

    result = cli("restore", root, "--all")
    assert result.exit_code == 1
    assert "refused: ../escaped.png: the recorded path '../escaped.png' is not a plain path below" in result.output
    assert f"refused: {outside / 'coffee.jpg'}: the recorded path" in result.output
    assert f"refused: linked/rocket.jpg: {root / 'linked'} is a symbolic link or outside" in result.output
    assert f"refused: .face-clean/state.db: {root / '.face-clean/state.db'} is in face-clean's own" in result.output
    assert f"refused: taken.jpg: {root / 'man.jpg'} is not in the quarantine or review folder" in result.output
    assert "refused 5" in result.output
    assert "left alone: 1 file moved out of other folders (/elsewhere)" in result.output
    assert (root / LOG).read_bytes() == log_before and os.listdir(outside) == []
    assert not (tmp_path / "escaped.png").exists() and sha256(root / "man.jpg") == before["man.jpg"]
    assert files_under(root / Q) | files_under(root / R) == {f"{r}/{p}" for p, r in MOVED_ALL.items()}


def test_quarantine_on_another_filesystem_is_restored_by_a_verified_copy(cli, tmp_path):
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem here")
    root = tmp_path / "p"
    digest = sha256(photos.save(photos.data.rocket(), root / "sub" / "rocket.jpg"))
    quarantine = other / f"face-clean-restore-{os.getpid()}"
    try:
        assert cli("run", root, "--keep", "face", "--quarantine", quarantine).exit_code == 0
        wrong = cli("restore", root, "--all", "--quarantine", tmp_path / "q")  # not where it went: refused
        assert wrong.exit_code == 1 and f"{quarantine}/no-face/sub/rocket.jpg is not in the quarantine" in wrong.output
        result = cli("restore", root, "--all")  # the quarantine run was given is remembered
        assert result.exit_code == 0 and "restored sub/rocket.jpg (no-face)" in result.output
        back = root / "sub" / "rocket.jpg"
        assert sha256(back) == digest and os.stat(back).st_dev == os.stat(root).st_dev
        assert files_under(quarantine) == set() and [p.name for p in (root / "sub").iterdir()] == ["rocket.jpg"]
    finally:
        shutil.rmtree(quarantine, ignore_errors=True)


@pytest.mark.parametrize("source_removed", [True, False])
def test_an_interrupted_restore_is_settled_by_the_next(cli, swept, source_removed):
    root, before = swept
    out = next(r for r in audit_records(root / LOG) if r["path"] == "coffee.jpg")
    src, dst = Path(out["destination"]), root / "coffee.jpg"
    planned = {**out, "action": "restore", "destination": str(dst), "notes": [f"restored from {src}"], "move_id": "m1"}
    journal = MoveJournal(root / ".face-clean/restores.journal")
    journal.begin("m1", src, dst, out["sha256"], AuditRecord.of(planned))  # and killed
    os.link(src, dst)
    if source_removed:
        src.unlink()
    result = cli("restore", root, "--all")
    assert result.exit_code == 0, result.output
    assert f"settled an interrupted restore of {src}: completed" in result.output
    assert "Restored: 4" in result.output and "missing 0" in result.output
    assert photos_in(root) == before and not src.exists()
    [settled] = [r for r in audit_records(root / LOG) if r["action"] == "restore" and r["path"] == "coffee.jpg"]
    assert settled["notes"] == [f"restored from {src}", RECOVERED] and settled["move_id"] == "m1"
    assert not (root / ".face-clean" / "restores.journal").exists()
