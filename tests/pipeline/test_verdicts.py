"""A person's verdicts: given, listed and withdrawn from the command line, applied by run before any rule,
for the same bytes wherever they are; restore gives one; what the audit log and the report say."""

from __future__ import annotations

import shutil
from pathlib import Path

import photos
import pytest
from conftest import audit_records, invoke, sha256, swept_copy

from cleaner.paths import Layout
from cleaner.pipeline.lock import lock_layout

Q, R, LOG = Path(".face-clean/quarantine"), Path(".face-clean/review"), Path(".face-clean/audit.jsonl")


def outside_state(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".face-clean" not in p.parts}


def under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    photos.make_folder(root := tmp_path_factory.mktemp("template") / "photos")
    assert invoke("run", root, "--keep", "Man").exit_code == 1  # three unreadable files
    return root


@pytest.fixture
def swept(template: Path, tmp_path: Path) -> Path:
    """The standard folder after `run --keep Man` (grey.jpg in review, woman.png and the no-face photos in the
    quarantine), copied for each test with the audit log's paths moved along."""
    return swept_copy(template, tmp_path / "photos")


def test_keep_and_reject_stick_through_later_runs(swept: Path):
    root, man = swept, sha256(swept / "man.jpg")
    kept = invoke("verdict", "keep", root, root / R / "uncertain/grey.jpg", root / Q / "not-man/woman.png")
    assert kept.exit_code == 0, kept.output
    assert "kept grey.jpg -> " in kept.output and "kept woman.png -> " in kept.output
    rejected = invoke("verdict", "reject", root, root / "man.jpg")
    assert rejected.exit_code == 0 and f"rejected man.jpg -> {root / Q / 'rejected/man.jpg'}" in rejected.output
    assert {"grey.jpg", "woman.png"} <= outside_state(root) and "man.jpg" not in outside_state(root)
    assert under(root / R) == set() and sha256(root / Q / "rejected/man.jpg") == man
    records = audit_records(root / LOG)[-3:]
    assert [(r["path"], r["action"], r["decided_by"], r["moved"]) for r in records] == [
        ("grey.jpg", "keep", "person", True),
        ("woman.png", "keep", "person", True),
        ("man.jpg", "reject", "person", True),
    ]
    assert records[2]["reason"] == "rejected" and records[2]["who"] and records[2]["destination"].endswith("man.jpg")
    assert records[1]["rule"] == "not-man" and records[1]["notes"][0].startswith("restored from ")  # what it overruled

    again = invoke("run", root, "--keep", "Man")  # the rules would send grey.jpg to review and woman.png away
    assert again.exit_code == 0 and "quarantined: 0" in again.output and "sent to review: 0" in again.output
    assert {"grey.jpg", "woman.png"} <= outside_state(root) and "man.jpg" not in outside_state(root)
    decided = {r["path"]: r for r in audit_records(root / LOG)[3 + 11 :]}
    assert {p: (r["rule"], r["action"], r["decided_by"]) for p, r in decided.items()} == {
        "grey.jpg": ("verdict", "keep", "person"),
        "woman.png": ("verdict", "keep", "person"),
    }
    assert invoke("run", root, "--keep", "Woman").exit_code == 1  # other rules (the unreadable files again)
    # ... and the verdicts still stand: the rules would keep woman.png and send man.jpg's copy away, not back
    assert {"grey.jpg", "woman.png"} <= outside_state(root) and "man.jpg" not in outside_state(root)
    before = len(audit_records(root / LOG))
    quiet = invoke("run", root, "--keep", "Man", "--dry-run")  # the verdicts decide as before: not said again
    assert quiet.exit_code == 0 and "already decided: 5 (unchanged" in quiet.output, quiet.output
    assert "--keep Man instead of the remembered --keep Woman, this time" in quiet.output  # a dry run: not kept
    assert {"grey.jpg", "woman.png"}.isdisjoint(r["path"] for r in audit_records(root / LOG)[before:])

    listed = invoke("verdict", "list", root)
    assert listed.exit_code == 0
    lines = sorted(line.split()[0] + " " + line.split()[-1] for line in listed.output.splitlines())
    assert lines == ["keep grey.jpg", "keep woman.png", "reject .face-clean/quarantine/rejected/man.jpg"]


def test_a_verdict_follows_the_bytes_not_the_name(swept: Path):
    root = swept
    assert invoke("verdict", "reject", root, root / "rotated.jpg").exit_code == 0
    (root / "album").mkdir()
    shutil.copy(root / Q / "rejected/rotated.jpg", root / "album/copy.jpg")  # the same bytes under another name
    changed = root / "album/changed.jpg"
    changed.write_bytes((root / Q / "rejected/rotated.jpg").read_bytes() + b"\0")  # one byte more: other bytes
    result = invoke("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert under(root / Q / "rejected") == {"rotated.jpg", "album/copy.jpg"}  # the copy follows the verdict
    assert changed.exists()  # decided afresh: a man, by the rules
    [copy] = [r for r in audit_records(root / LOG) if r["path"] == "album/copy.jpg"]
    assert (copy["rule"], copy["action"], copy["reason"], copy["decided_by"]) == (
        "verdict",
        "quarantine",
        "rejected",
        "person",
    )


def test_withdraw_lets_the_rules_decide_again_and_a_dry_run_changes_nothing(swept: Path):
    root = swept
    assert invoke("verdict", "keep", root, root / Q / "not-man/woman.png").exit_code == 0
    log = (root / LOG).read_bytes()
    plan = invoke("verdict", "withdraw", root, root / "woman.png", "--dry-run")
    assert plan.exit_code == 0 and "woman.png" in plan.output
    assert (root / LOG).read_bytes() == log  # a dry run writes nothing
    assert invoke("verdict", "withdraw", root, root / "woman.png").exit_code == 0
    assert audit_records(root / LOG)[-1]["action"] == "withdraw"
    assert invoke("verdict", "list", root).output == ""
    assert invoke("run", root, "--keep", "Man").exit_code == 0
    assert under(root / Q / "not-man") == {"woman.png"}  # the rules decided it again


def test_unknown_files_and_a_busy_folder(swept: Path, tmp_path: Path):
    root = swept
    elsewhere = photos.save(photos.astronaut(), tmp_path / "elsewhere.jpg")
    planted = photos.save(photos.astronaut(), root / Q / "planted.jpg")
    result = invoke("verdict", "keep", root, elsewhere, planted, root / "nothing.jpg")
    assert result.exit_code == 1
    assert "not in " in result.output and "face-clean did not put it there" in result.output
    assert planted.exists() and not (root / "planted.jpg").exists()
    with lock_layout(Layout.for_root(root), "watch", dry_run=False):  # a watch holds the folder
        busy = invoke("verdict", "keep", root, root / R / "uncertain/grey.jpg")
    assert busy.exit_code == 5 and "in use by another face-clean" in busy.output
    assert (root / R / "uncertain/grey.jpg").exists()


def test_run_restore_all_run_leaves_the_folder_as_the_person_left_it(swept: Path):
    root = swept
    before = {p: sha256(root / p) for p in outside_state(root)}
    restored = invoke("restore", root, "--all")
    assert restored.exit_code == 0 and "Restored: 5" in restored.output
    assert all(r["decided_by"] == "person" for r in audit_records(root / LOG)[-5:])
    back = outside_state(root)
    again = invoke("run", root, "--keep", "Man")
    assert again.exit_code == 0 and "quarantined: 0" in again.output and outside_state(root) == back
    assert len(invoke("verdict", "list", root).output.splitlines()) == 5
    report = invoke("report", root)
    assert report.exit_code == 0 and "by a person: 5 kept" in report.output
    assert all(sha256(root / p) == h for p, h in before.items())


def test_eval_compares_the_rules_with_the_verdicts(swept: Path):
    root = swept
    assert invoke("verdict", "keep", root, root / Q / "not-man/woman.png", root / "man.jpg").exit_code == 0
    assert invoke("verdict", "reject", root, root / "rotated.jpg").exit_code == 0
    result = invoke("eval", root, "--format", "verdicts", "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert "the rules agree with 1 of 3 verdicts (33.3 %)" in result.output
    assert "woman.png: you said keep, the rules quarantine (not-man)" in result.output
    assert "rotated.jpg: you said reject, the rules keep" in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:3]}
    assert rows == {"keep": ["1", "1", "0", "0"], "reject": ["1", "0", "0", "0"]}


def test_files_are_named_relative_to_the_folder_and_a_reject_is_the_persons(swept: Path, tmp_path: Path, monkeypatch):
    """The paths rule of verdict and restore (a FILE is relative to DIR, or absolute), from another current
    directory; a reject's record names no rule the person overruled, so restore --rule leaves it alone;
    runs lists verdicts with their command and a restore with its --run; the report counts a restore as kept."""
    root = swept
    monkeypatch.chdir(tmp_path)  # not the folder: a relative FILE is read below DIR all the same
    kept = invoke("verdict", "keep", root, ".face-clean/review/uncertain/grey.jpg")
    assert kept.exit_code == 0 and "kept grey.jpg -> " in kept.output, kept.output
    rejected = invoke("verdict", "reject", root, "man.jpg")
    assert rejected.exit_code == 0 and under(root / Q / "rejected") == {"man.jpg"}, rejected.output
    record = audit_records(root / LOG)[-1]
    assert (record["path"], record["action"], record["rule"]) == ("man.jpg", "reject", "verdict")
    assert "overrules rule keep-man" in record["notes"]
    assert "relative to DIR" in invoke("verdict", "keep", "--help").output
    assert "relative to DIRECTORY" in invoke("restore", "--help").output

    moved = invoke("verdict", "keep", root, "cats/chelsea.png")  # its recorded path: found in the quarantine
    assert moved.exit_code == 0 and (root / "cats/chelsea.png").exists(), moved.output

    back = invoke("restore", root, "--rule", "keep-man")  # the rule kept man.jpg: the person rejected it
    assert under(root / Q / "rejected") == {"man.jpg"} and not (root / "man.jpg").exists(), back.output
    run_id = next(r["run_id"] for r in audit_records(root / LOG) if r["path"] == "woman.png")
    restored = invoke("restore", root, "--run", run_id, ".face-clean/quarantine/not-man/woman.png")
    assert restored.exit_code == 0 and (root / "woman.png").exists(), restored.output

    listed = invoke("runs", root).output
    assert f"face-clean verdict keep {root} .face-clean/review/uncertain/grey.jpg" in listed, listed
    assert f"face-clean verdict reject {root} man.jpg" in listed
    assert f"face-clean restore {root} --run {run_id} .face-clean/quarantine/not-man/woman.png" in listed
    report = invoke("report", root)
    assert "by a person: 3 kept, 1 rejected" in report.output, report.output
    assert report.exit_code == 0, report.output


def test_eval_of_the_verdicts_uses_the_folders_remembered_threshold(swept: Path):
    root = swept
    assert invoke("run", root, "--keep", "Man", "--min-confidence", "0.95").exit_code == 1  # the unreadable files
    assert invoke("verdict", "keep", root, root / Q / sorted(under(root / Q))[0]).exit_code == 0
    result = invoke("eval", root, "--format", "verdicts")  # no policy given: the folder's
    assert result.exit_code == 0, result.output
    assert "rules: --keep Man; gender threshold 0.95 (from remembered for this folder" in result.output
    given = invoke("eval", root, "--format", "verdicts", "--min-confidence", "0.6")
    assert "gender threshold 0.6 (from the command line)" in given.output, given.output
