"""``run --cluster`` hashes a renamed or copied photo on the driver and takes its analysis from the
cache, as a single-process run does, instead of sending it to the cluster to be analysed again."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import photos
import pytest
from ci import need_module
from conftest import audit_records
from watching import noise_jpegs

need_module("ray", "the test extra installs it")
pytestmark = pytest.mark.slow  # a real Ray instance

LOG = Path(".face-clean/audit.jsonl")


def face_clean(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cleaner", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_renamed_and_copied_photos_are_not_analysed_again_on_the_cluster(tmp_path: Path):
    root = tmp_path / "photos"
    man = photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    noise_jpegs(root, 3)
    assert face_clean("run", root, "--keep", "all").returncode == 0  # one process: every file analysed
    first = audit_records(root / LOG)
    man.rename(root / "renamed.jpg")
    shutil.copy(root / "renamed.jpg", root / "album copy.jpg")
    (root / "img0000.jpg").rename(root / "moved.jpg")

    cluster = ["--cluster", "ray", "--local-cpus", "2", "--workers", "1"]
    result = face_clean("run", root, "--keep", "face", "-v", *cluster)  # other rules: every file decided again

    assert result.returncode == 0, result.stderr
    second = audit_records(root / LOG)[len(first) :]
    assert sorted(r["path"] for r in second) == [
        "album copy.jpg",
        "img0001.jpg",
        "img0002.jpg",
        "moved.jpg",
        "renamed.jpg",
    ]
    assert all(r["cached"] for r in second), [(r["path"], r["cached"]) for r in second]
    assert "analysed now: 0   from cache: 5" in result.stdout, result.stdout
    assert "files to analyse on" not in result.stderr  # Ray had nothing to do
