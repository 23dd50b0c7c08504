"""Uploads built to take the time a run has (issue 26, cause 2): many names of one content, and a
tree deeper than Python's recursion limit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import photos
import pytest
from conftest import audit_records
from watching import ThreadDaemon, wait_for_records

import cleaner.store.decided as decided

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


DEPTH = 1400  # deeper than Python's recursion limit (1000)


@pytest.fixture(autouse=True)
def _tree_removed_afterwards(tmp_path: Path):
    """pytest removes old temporary folders with a recursive walk, which a tree this deep ends with
    RecursionError at the start or end of a later session: remove it here with rm's iterative walk."""
    yield
    subprocess.run(["rm", "-rf", "--", str(tmp_path)], check=False)


def deep_tree(root: Path, depth: int = DEPTH) -> Path:
    """``root/d/d/.../d`` ``depth`` folders deep, made relative to each folder's descriptor (the
    whole path is longer than some tools take); the deepest folder's path."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            below = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = below
    finally:
        os.close(fd)
    return root.joinpath(*["d"] * depth)


def test_a_photo_at_the_bottom_of_a_tree_deeper_than_the_recursion_limit_is_decided_and_restored(cli, tmp_path):
    root = tmp_path / "photos"
    bottom = deep_tree(root)
    photos.save(photos.data.coffee(), bottom / "coffee.jpg")  # no face: quarantined
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output[-2000:]
    (record,) = audit_records(root / LOG)
    assert record["path"] == "/".join(["d"] * DEPTH + ["coffee.jpg"]) and record["moved"]
    assert not (bottom / "coffee.jpg").exists() and Path(record["destination"]).is_file()
    restored = cli("restore", root, "--all")
    assert restored.exit_code == 0, restored.output[-2000:]
    assert (bottom / "coffee.jpg").is_file() and "Restored: 1" in restored.output


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_watch_decides_an_upload_at_the_bottom_of_a_deep_tree(tmp_path: Path, polling: bool):
    root = tmp_path / "photos"
    bottom = deep_tree(root)
    with ThreadDaemon(root, polling=polling, settle=0.3):
        photos.save(photos.data.coffee(), bottom / "coffee.jpg")
        (record,) = wait_for_records(root, 1, timeout=60)
    assert record["path"].endswith("d/d/coffee.jpg") and record["moved"]
