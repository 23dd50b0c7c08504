"""The audit record's vocabulary and version: every action a command writes is an AuditAction, every
line written carries the schema version, a log written before versions still reads (restore undoes
its moves, runs counts them), and docs/reference/audit-record.md names every field and action."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import photos
from conftest import invoke

from cleaner.audit.log import read
from cleaner.records import SCHEMA, UNVERSIONED, AuditAction, AuditRecord

LOG, Q, R = Path(".face-clean/audit.jsonl"), Path(".face-clean/quarantine"), Path(".face-clean/review")
PAGE = Path(__file__).parents[2] / "docs" / "reference" / "audit-record.md"


def _lines(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / LOG).read_text().splitlines()]


def test_every_command_writes_its_action_from_the_one_vocabulary_and_the_version(tmp_path: Path):
    root = tmp_path / "photos"
    photos.make_folder(root)
    assert invoke("run", root, "--keep", "Man").exit_code == 1  # three unreadable files
    assert invoke("verdict", "keep", root, root / R / "uncertain/grey.jpg").exit_code == 0
    assert invoke("verdict", "reject", root, root / "man.jpg").exit_code == 0
    assert invoke("verdict", "withdraw", root, root / "grey.jpg").exit_code == 0
    assert invoke("restore", root, "--all").exit_code == 0

    lines = _lines(root)
    assert {line["action"] for line in lines} == {a.value for a in AuditAction}  # all six, nothing else
    assert {line["schema"] for line in lines} == {SCHEMA}
    assert all(list(line)[-1] == "schema" for line in lines)  # the last key, after every older field


def test_a_log_written_before_versions_still_reads_and_restores(tmp_path: Path):
    root = tmp_path / "photos"
    photos.make_folder(root)
    assert invoke("run", root, "--keep", "Man").exit_code == 1
    old = [{k: v for k, v in line.items() if k != "schema"} for line in _lines(root)]
    (root / LOG).write_text("".join(json.dumps(line) + "\n" for line in old))

    records = read(root / LOG)
    assert {r.schema for r in records} == {UNVERSIONED}
    moved = [r.path for r in records if r.moved]
    assert moved and all(not (root / p).exists() for p in moved)
    runs = invoke("runs", root)
    assert runs.exit_code == 0 and "quarantined 4, review 1" in runs.output

    restored = invoke("restore", root, "--all")

    assert restored.exit_code == 0, restored.output
    assert all((root / p).exists() for p in moved)
    assert [line["schema"] for line in _lines(root)[len(old) :]] == [SCHEMA] * len(moved)  # new lines: versioned


def test_a_line_with_a_version_of_the_wrong_type_is_not_a_record(tmp_path: Path):
    root = tmp_path / "photos"
    photos.make_folder(root)
    invoke("run", root, "--keep", "Man")
    good = _lines(root)
    (root / LOG).write_text("".join(json.dumps(line | {"schema": "2"}) + "\n" for line in good[:1]))
    assert read(root / LOG) == []


def test_the_reference_page_names_every_field_and_every_action():
    page = PAGE.read_text(encoding="utf-8")
    rows = {cell.strip("` ") for line in page.splitlines() if line.startswith("| `") for cell in [line.split("|")[1]]}
    named = {name.strip("` ") for row in rows for name in row.split(",")}
    assert sorted(f.name for f in fields(AuditRecord) if f.name not in named) == []
    assert sorted(a.value for a in AuditAction if a.value not in named) == []
