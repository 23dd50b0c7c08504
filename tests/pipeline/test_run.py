"""`face-clean run` end to end: real deepface, tiny models, real photos, real moves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import photos
import pytest
from conftest import all_hashes, audit_records, sha256

from cleaner import __version__

Q = Path(".face-clean/quarantine")
R = Path(".face-clean/review")
LOG = Path(".face-clean/audit.jsonl")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photos.make_folder(root)
    return root


def by_path(root: Path) -> dict[str, dict]:
    records = audit_records(root / LOG)
    assert len(records) == len({r["path"] for r in records}), "one record per file"
    return {r["path"]: r for r in records}


def test_keep_man_sweeps_the_folder(cli, folder: Path):
    before = sorted(all_hashes(folder))
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 1, result.output  # done, but three files could not be read
    assert "quarantined: 4 (no-face 3, not-man 1)" in result.output
    assert "sent to review: 1 (uncertain 1)" in result.output
    assert "unreadable: 3" in result.output

    # where every file ended up
    kept = {"man.jpg", "group/two faces.jpg", "rotated.jpg", "broken.jpg", "notes.jpg", "empty.png"}
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == kept | {
        (Q / "not-man/woman.png").as_posix(),
        (Q / "no-face/coffee.jpg").as_posix(),
        (Q / "no-face/rocket.jpg").as_posix(),
        (Q / "no-face/cats/chelsea.png").as_posix(),
        (R / "uncertain/grey.jpg").as_posix(),
        LOG.as_posix(),
        ".face-clean/state.db",
        ".face-clean/moves.journal",
        ".face-clean/journal.key",
        ".face-clean/remembered.json",  # --keep Man, for the next run
    }
    # nothing lost, nothing duplicated
    assert sorted(all_hashes(folder)) == before

    # what the audit log says
    records = by_path(folder)
    assert set(records) == kept | {"woman.png", "coffee.jpg", "rocket.jpg", "cats/chelsea.png", "grey.jpg"}
    man = records["man.jpg"]
    assert (man["status"], man["rule"], man["action"], man["moved"]) == ("analysed", "keep-man", "keep", False)
    assert man["sha256"] == sha256(folder / "man.jpg") and man["size"] == (folder / "man.jpg").stat().st_size
    assert man["engine"] == "onnx" and man["detector"] == "opencv" and man["tool_version"] == __version__
    assert man["model_files"] == [
        str(Path(os.environ["DEEPFACE_HOME"]) / ".deepface/weights/gender_model_weights.onnx")
    ]
    [face] = man["faces"]
    assert face["dominant_gender"] == "Man" and face["gender"]["Man"] > 0.95
    assert isinstance(face["gender"]["Man"], float) and face["detector_confidence"] > 0.5
    assert face["box"]["w"] > 60 and man["time"].endswith("+00:00")

    woman = records["woman.png"]
    assert (woman["rule"], woman["action"], woman["reason"], woman["moved"]) == (
        "not-man",
        "quarantine",
        "not-man",
        True,
    )
    assert woman["destination"] == str(folder / Q / "not-man/woman.png")
    assert sha256(Path(woman["destination"])) == woman["sha256"]

    assert records["grey.jpg"]["uncertain"] and records["grey.jpg"]["action"] == "review"
    assert records["group/two faces.jpg"]["faces_considered"] == 2
    assert records["cats/chelsea.png"]["destination"] == str(folder / Q / "no-face/cats/chelsea.png")

    # EXIF orientation applied before detection: the face is found, in upright coordinates
    [rotated] = records["rotated.jpg"]["faces"]
    assert abs(rotated["box"]["x"] - face["box"]["x"]) < 10 and abs(rotated["box"]["y"] - face["box"]["y"]) < 10

    reasons = {p: (records[p]["status"], records[p]["error"]) for p in ("broken.jpg", "notes.jpg", "empty.png")}
    assert reasons["broken.jpg"][0] == "unreadable" and "truncated" in reasons["broken.jpg"][1]
    assert reasons["notes.jpg"] == ("unreadable", "not an image (no known image format)")
    assert reasons["empty.png"] == ("unreadable", "empty file")


def test_dry_run_moves_nothing_and_records_the_plan(cli, folder: Path):
    before = {p: sha256(p) for p in folder.rglob("*") if p.is_file()}
    result = cli("run", folder, "--keep", "Man", "--dry-run")
    assert "would be quarantined: 4" in result.output
    after = {p: sha256(p) for p in folder.rglob("*") if p.is_file() and p.parent.name != ".face-clean"}
    assert after == before
    assert not (folder / Q).exists()
    records = by_path(folder)
    assert all(r["dry_run"] and not r["moved"] for r in records.values())
    assert records["coffee.jpg"]["destination"] == str(folder / Q / "no-face/coffee.jpg")


def test_second_run_ignores_quarantine_and_repeats_nothing(cli, folder: Path):
    before = sorted(all_hashes(folder))
    cli("run", folder, "--keep", "Man")
    first = audit_records(folder / LOG)
    result = cli("run", folder, "--keep", "Man")
    # the six files left are decided under these rules and unchanged: no second record; the quarantine is not scanned
    assert audit_records(folder / LOG) == first
    assert "quarantined: 0" in result.output and "already decided: 6" in result.output, result.output
    assert sorted(all_hashes(folder)) == before


@pytest.mark.parametrize(
    ("keep", "kept", "quarantined"),
    [
        ("Woman", {"woman.png"}, {"not-woman/man.jpg", "no-face/coffee.jpg"}),
        ("face", {"man.jpg", "woman.png"}, {"no-face/coffee.jpg"}),
        ("all", {"man.jpg", "woman.png", "coffee.jpg"}, set()),
    ],
)
def test_keep_policies(cli, tmp_path: Path, keep: str, kept: set[str], quarantined: set[str]):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    photos.save(photos.swapped(), root / "woman.png")
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    result = cli("run", root, "--keep", keep)
    assert result.exit_code == 0, result.output
    assert {p.name for p in root.iterdir() if p.is_file()} == kept
    in_quarantine = (
        {p.relative_to(root / Q).as_posix() for p in (root / Q).rglob("*.*")} if (root / Q).exists() else set()
    )
    assert in_quarantine == quarantined
    assert len(audit_records(root / LOG)) == 3


def test_existing_quarantined_file_is_never_overwritten(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    earlier = root / Q / "no-face" / "coffee.jpg"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier quarantined photo")
    assert cli("run", root, "--keep", "Man").exit_code == 0
    assert earlier.read_bytes() == b"an earlier quarantined photo"
    moved = earlier.with_name("coffee (1).jpg")
    assert audit_records(root / LOG)[0]["destination"] == str(moved)
    assert moved.exists()


def test_quarantine_on_another_filesystem(cli, tmp_path: Path):
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem here")
    root = tmp_path / "p"
    src = photos.save(photos.data.rocket(), root / "rocket.jpg")
    digest = sha256(src)
    quarantine = other / f"face-clean-q-{os.getpid()}"
    try:
        assert cli("run", root, "--keep", "face", "--quarantine", quarantine).exit_code == 0
        moved = quarantine / "no-face" / "rocket.jpg"
        assert sha256(moved) == digest and not src.exists()
        assert audit_records(root / LOG)[0]["destination"] == str(moved)
    finally:
        shutil.rmtree(quarantine, ignore_errors=True)


def test_multi_face_policy_from_rules_file(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.two_faces(), root / "pair.jpg")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "multi_face: all\nrules:\n  - {name: men, when: {gender: Man}, action: keep}\n"
        "  - {name: others, action: quarantine, reason: mixed}\n"
    )
    assert cli("run", root, "--rules", rules).exit_code == 0
    assert (root / Q / "mixed" / "pair.jpg").exists()


def test_small_faces_are_ignored_below_min_face_size(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.small_face(0.4), root / "small.jpg", quality=95)  # a face of about 39 px
    ignored = tmp_path / "ignored.yaml"
    ignored.write_text("cannot_tell: {small_faces: 0}\n")  # no review of faces too small to count
    assert cli("run", root, "--keep", "Man", "--rules", ignored).exit_code == 0  # min_face_size 40
    [record] = audit_records(root / LOG)
    assert record["faces"] and record["faces_considered"] == 0 and record["rule"] == "no-face"

    # by default a face too small to count that would change the decision sends the photo to review
    shutil.move(root / Q / "no-face" / "small.jpg", root / "small.jpg")
    assert cli("run", root, "--keep", "Man").exit_code == 0
    record = audit_records(root / LOG)[-1]
    assert (record["action"], record["reason"], record["faces_considered"]) == ("review", "small-face", 0)
    assert (root / R / "small-face" / "small.jpg").exists()

    rules = tmp_path / "rules.yaml"
    rules.write_text("min_face_size: 20\n")
    shutil.move(root / R / "small-face" / "small.jpg", root / "small.jpg")
    assert cli("run", root, "--keep", "Man", "--rules", rules).exit_code == 0
    assert (root / "small.jpg").exists()


def test_age_rule_runs_the_age_model(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: thirties, when: {age: {min: 30, max: 39}}, action: review, reason: thirties}\n"
    )
    assert cli("run", root, "--rules", rules).exit_code == 0
    assert (root / R / "thirties" / "man.jpg").exists()
    [record] = audit_records(root / LOG)
    assert record["faces"][0]["age"] == 35.0
    assert any(f.endswith("age_model_weights.onnx") for f in record["model_files"])


def test_rule_can_quarantine_unreadable_files(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.truncated_jpeg(root / "broken.jpg")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: corrupt, when: {unreadable: true}, action: quarantine, reason: corrupt}\n")
    result = cli("run", root, "--rules", rules)
    assert result.exit_code == 1
    assert (root / Q / "corrupt" / "broken.jpg").exists()


def test_own_files_hidden_files_nas_folders_and_links_are_handled(cli, tmp_path: Path):
    root = tmp_path / "p"
    outside = photos.save(photos.data.coffee(), tmp_path / "elsewhere" / "coffee.jpg")
    photos.save(photos.data.rocket(), root / "@eaDir" / "thumb.jpg")
    photos.save(photos.data.rocket(), root / ".hidden.jpg")
    photos.save(photos.data.rocket(), root / "sub" / "deep.jpg")
    (root / "link.jpg").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    result = cli("run", root, "--keep", "face", "--no-recursive")
    assert result.exit_code == 0, result.output
    records = audit_records(root / LOG)
    assert sorted((r["path"], r["status"], r["action"]) for r in records) == [
        ("link.jpg", "skipped", "keep"),
        ("linkdir", "skipped", "keep"),  # a link to a folder: recorded, never entered
    ]
    assert {r["error"] for r in records} == {"symbolic link (not followed)"}
    assert outside.exists() and (root / "link.jpg").is_symlink()
    assert (root / "sub" / "deep.jpg").exists() and (root / "@eaDir" / "thumb.jpg").exists()

    assert cli("run", root, "--keep", "face").exit_code == 0  # recursive: sub/ now, still not @eaDir
    assert (root / Q / "no-face" / "sub" / "deep.jpg").exists()
    assert (root / "@eaDir" / "thumb.jpg").exists() and (root / ".hidden.jpg").exists()


def test_interrupt_stops_after_a_whole_file_with_log_matching_folder(cli, folder: Path, monkeypatch):
    import cleaner.pipeline.job

    real = cleaner.pipeline.job.decide
    calls = []

    def decide(rules, analysis):  # Ctrl-C lands in the main thread, here while the 4th file is decided
        calls.append(analysis.path)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(rules, analysis)

    monkeypatch.setattr(cleaner.pipeline.job, "decide", decide)
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 130
    records = audit_records(folder / LOG)
    assert len(records) == 3
    for r in records:
        where = Path(r["destination"]) if r["moved"] else folder / r["path"]
        assert sha256(where) == r["sha256"]


def test_quarantine_may_not_contain_the_folder(cli, folder: Path):
    result = cli("run", folder, "--keep", "Man", "--quarantine", folder)
    assert result.exit_code == 2
    assert "would contain the folder being cleaned" in result.output


def test_unknown_detector_is_bad_usage(cli, folder: Path):
    result = cli("run", folder, "--keep", "Man", "--detector", "nosuch")
    assert result.exit_code == 2
    assert "unknown detector 'nosuch'" in result.output and "opencv" in result.output


def test_custom_audit_log_inside_the_folder_is_not_scanned(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    log = root / "logs" / "decisions.jsonl"
    assert cli("run", root, "--keep", "Man", "--audit-log", log).exit_code == 0
    assert cli("run", root, "--keep", "face", "--audit-log", log).exit_code == 0  # other rules: decided again
    assert [r["path"] for r in audit_records(log)] == ["man.jpg", "man.jpg"]
    assert not (root / LOG).exists()


def test_unwritable_audit_log_is_a_message_not_a_traceback(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = cli("run", root, "--keep", "Man", "--audit-log", blocker / "audit.jsonl")
    assert result.exit_code == 2
    assert "choose another place with --audit-log" in result.output and "Traceback" not in result.output
    assert str(blocker) in result.output
    assert (root / "man.jpg").exists()


def test_progress_bar_on_a_terminal(tmp_path: Path):
    import pty
    import subprocess
    import sys

    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal has a size
    proc = subprocess.run(
        [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man", "--dry-run"],
        stdout=subprocess.PIPE,
        stderr=follower,
        timeout=300,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"1/1" in shown and b"img" in shown
