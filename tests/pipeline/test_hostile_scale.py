"""Uploads built to take the time a run has (issue 26, cause 2): many names of one content, and a
tree deeper than Python's recursion limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import audit_records

import cleaner.pipeline.state.decided as decided

LOG = Path(".face-clean/audit.jsonl")


def test_hard_links_of_one_content_cost_each_link_once(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """4,000 links of one file took 32.8 s and 8,000 took 143 s: each new link checked whether every
    link decided before it was still there. Counted here, not timed (bench/hostile_scale.py times it)."""
    root = tmp_path / "photos"
    root.mkdir()
    (root / "orig.jpg").write_bytes(b"x")
    links = 400
    for i in range(links):
        os.link(root / "orig.jpg", root / f"link-{i:04}.jpg")
    looks = []
    real = os.path.lexists

    def counted(path: str | os.PathLike[str]) -> bool:
        looks.append(path)
        return real(path)

    monkeypatch.setattr(decided.os.path, "lexists", counted)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output  # one-byte "photos": unreadable, each recorded
    records = audit_records(root / LOG)
    assert len(records) == links + 1 and {r["status"] for r in records} == {"unreadable"}
    assert len(looks) <= 3 * (links + 1), len(looks)  # linear: today's main made 80,200
