"""``--json``: what ``run`` and ``restore`` print for a program to read, one JSON object a line on stdout,
with the same counts the text summary gives a person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import photos
from conftest import audit_records

LOG = Path(".face-clean/audit.jsonl")


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of stdout, each a JSON object (a line that is not one fails the test)."""
    return [json.loads(line) for line in text.splitlines()]


def test_run_json_prints_each_decision_and_a_summary(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.make_folder(root)
    result = cli("run", root, "--keep", "Man", "--json", "-v")
    assert result.exit_code == 1, result.output  # 1: the unreadable files
    lines = json_lines(result.stdout)
    decisions = [line for line in lines if line["event"] == "decision"]
    assert {d["path"] for d in decisions} == {r["path"] for r in audit_records(root / LOG)}
    coffee = next(d for d in decisions if d["path"] == "coffee.jpg")
    assert (coffee["action"], coffee["reason"], coffee["moved"]) == ("quarantine", "no-face", True)
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["files"] == len(decisions) == 11
    assert summary["quarantined"]["no-face"] >= 3 and summary["unreadable"] == 3 and not summary["interrupted"]
    assert summary["audit_log"] == str(root / LOG) and summary["dry_run"] is False

    again = json_lines(cli("run", root, "--keep", "Man", "--json").stdout)  # no -v: the summary alone
    assert [line["event"] for line in again] == ["planned", "summary"]
    assert again[-1]["files"] == 0 and again[-1]["already_decided"] == summary["kept"] + summary["unreadable"]


def test_restore_json_prints_each_file_and_a_summary(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    photos.save(photos.swapped(), root / "woman.png")
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    assert cli("run", root, "--keep", "Man").exit_code == 0
    (root / "woman.png").write_bytes(b"a new photo by that name")  # its name is taken: a conflict

    result = cli("restore", root, "--all", "--json")
    assert result.exit_code == 1, result.output
    lines = json_lines(result.stdout)
    restored = {line["path"]: line for line in lines if line["event"] == "restore"}
    assert restored["coffee.jpg"]["result"] == "restored" and restored["coffee.jpg"]["reason"] == "no-face"
    assert restored["coffee.jpg"]["destination"] == str(root / "coffee.jpg") and (root / "coffee.jpg").is_file()
    assert restored["woman.png"]["result"] == "conflict" and "exists" in restored["woman.png"]["detail"]
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["restored"] == 1 and summary["by_reason"] == {"no-face": 1}
    assert summary["skipped"]["conflict"] == 1 and summary["not_found"] == [] and not summary["dry_run"]
