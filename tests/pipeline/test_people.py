"""People: faces grouped into persons as run decides, by content; a person's verdict decides that
person's photos in the next run (one record each, naming the person), a face taken out is left to the
rules, and withdrawing brings the rules back."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from conftest import audit_records, invoke
from people_photos import BIDEN, OBAMA, two_people
from PIL import Image

from cleaner.store.db import StateDB
from cleaner.store.people import PersonVerdict

LOG, R, Q = Path(".face-clean/audit.jsonl"), Path(".face-clean/review/uncertain"), Path(".face-clean/quarantine")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def person_of(root: Path, name: str) -> int:
    with StateDB(root / ".face-clean/state.db") as state:
        faces = state.faces_of(sha(root / R / name))
    assert len(faces) == 1, (name, faces)
    return faces[0].person


def swept(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "photos"
    rules = two_people(root)
    result = invoke("run", root, "--rules", rules)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / R).iterdir()) == sorted(OBAMA + BIDEN)
    return root, rules


def test_faces_are_grouped_into_two_people_and_a_copy_keeps_its_person(tmp_path: Path):
    root, rules = swept(tmp_path)
    obama, biden = {person_of(root, n) for n in OBAMA}, {person_of(root, n) for n in BIDEN}
    assert len(obama) == 1 and len(biden) == 1 and obama != biden
    shutil.copyfile(root / R / OBAMA[0], root / "copy of obama.jpg")  # the same bytes under another name
    assert invoke("run", root, "--rules", rules).exit_code == 0
    with StateDB(root / ".face-clean/state.db") as state:
        assert [f.person for f in state.faces_of(sha(root / R / "copy of obama.jpg"))] == list(obama)
        assert len(state.faces_of_person(obama.pop())) == 3  # no second face row for the copy


def test_reject_all_quarantines_that_person_and_withdrawing_brings_the_rules_back(tmp_path: Path):
    root, rules = swept(tmp_path)
    biden = person_of(root, BIDEN[0])
    with StateDB(root / ".face-clean/state.db") as state:
        state.give_person_verdict(PersonVerdict(biden, "reject", "tester", "2026-12-08T00:00:00+00:00"))
    before = len(audit_records(root / LOG))
    assert invoke("run", root, "--rules", rules).exit_code == 0
    assert sorted(p.name for p in (root / Q / "rejected").iterdir()) == sorted(BIDEN)
    assert sorted(p.name for p in (root / R).iterdir()) == sorted(OBAMA)
    new = audit_records(root / LOG)[before:]
    assert sorted(r["path"] for r in new) == sorted(BIDEN)
    assert {(r["action"], r["rule"], r["decided_by"], r["who"]) for r in new} == {
        ("quarantine", f"person:{biden}", "person", "tester")
    }
    assert all(f"person:{biden} is rejected (by tester)" in r["notes"] for r in new)
    assert invoke("run", root, "--rules", rules).exit_code == 0  # a rerun repeats nothing
    assert len(audit_records(root / LOG)) == before + 3


def test_a_face_taken_out_is_left_to_the_rules(tmp_path: Path):
    root, rules = swept(tmp_path)
    biden = person_of(root, BIDEN[0])
    with StateDB(root / ".face-clean/state.db") as state:
        out = state.faces_of(sha(root / R / BIDEN[2]))[0]
        alone, _ = state.split_off([out.rowid])
        state.give_person_verdict(PersonVerdict(biden, "man", "tester", "2026-12-08T00:00:00+00:00"))
    assert alone not in (0, biden)
    assert invoke("run", root, "--rules", rules).exit_code == 0
    assert (root / BIDEN[0]).is_file() and (root / BIDEN[1]).is_file()  # kept: a man, the rules keep men
    assert sorted(p.name for p in (root / R).iterdir()) == sorted((*OBAMA, BIDEN[2]))
    assert person_of(root, BIDEN[2]) == alone


def test_child_keeps_that_person_in_review(tmp_path: Path):
    root, rules = swept(tmp_path)
    obama = person_of(root, OBAMA[0])
    with StateDB(root / ".face-clean/state.db") as state:
        state.give_person_verdict(PersonVerdict(obama, "child", "tester", "2026-12-08T00:00:00+00:00"))
        state.give_person_verdict(PersonVerdict(person_of(root, BIDEN[0]), "keep", "tester", "now"))
    assert invoke("run", root, "--rules", rules).exit_code == 0
    assert sorted(p.name for p in (root / R).iterdir()) == sorted(OBAMA)
    assert all((root / n).is_file() for n in BIDEN)


def test_which_faces_are_grouped_follows_face_clean_people(tmp_path: Path, monkeypatch):
    folder = tmp_path / "source"
    two_people(folder)
    for setting, grouped in (("off", 0), ("review", 0), ("all", 2)):  # kept photos: grouped with "all" only
        root = tmp_path / setting
        root.mkdir()
        for name in (OBAMA[0], BIDEN[0]):
            shutil.copyfile(folder / name, root / name)
        monkeypatch.setenv("FACE_CLEAN_PEOPLE", setting)
        assert invoke("run", root, "--keep", "all").exit_code == 0
        with StateDB(root / ".face-clean/state.db") as state:
            faces = [f for n in (OBAMA[0], BIDEN[0]) for f in state.faces_of(sha(root / n))]
        assert len(faces) == grouped, setting


def test_damaged_or_planted_people_rows_decide_nothing(tmp_path: Path):
    root, rules = swept(tmp_path)
    import sqlite3

    db = sqlite3.connect(root / ".face-clean/state.db")
    db.execute("UPDATE faces SET box = 'nonsense' WHERE rowid = 1")
    db.execute("UPDATE people SET centroid = x'00'")
    db.execute("INSERT INTO person_verdicts VALUES (2, 'everything', 'planted', 'now')")
    db.execute("INSERT INTO person_verdicts VALUES (999, 'reject', 'planted', 'now')")  # nobody's
    db.commit()
    db.close()
    with Image.open(root / R / OBAMA[0]) as im:  # a new photo of him: grouped past the damaged centroids
        im.save(root / "new.jpg", quality=80)
    before = len(audit_records(root / LOG))
    result = invoke("run", root, "--rules", rules)
    assert result.exit_code == 0, result.output
    assert [r["path"] for r in audit_records(root / LOG)[before:]] == ["new.jpg"]  # to review, as the rules say
    assert sorted(p.name for p in (root / R).iterdir()) == sorted((*OBAMA, *BIDEN, "new.jpg"))
