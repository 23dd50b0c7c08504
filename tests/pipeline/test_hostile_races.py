"""Check-then-use races and linked folders (issue 15, causes 3 and 4): whatever is swapped in between
a check and its use, face-clean moves only the bytes it analysed, never reads or writes outside the
folder, never waits forever on a pipe, and never walks into a linked folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import photos
import pytest
from conftest import audit_records, sha256
from watching import ThreadDaemon, records, wait_for

from cleaner.pipeline.scan import scan

STATE, LOG, Q = Path(".face-clean"), Path(".face-clean/audit.jsonl"), Path(".face-clean/quarantine")


def files(*roots: Path) -> dict[str, str]:
    return {str(p): sha256(p) for r in roots for p in sorted(r.rglob("*")) if p.is_file() and not p.is_symlink()}


def photo_bytes(root: Path) -> list[str]:
    """The photos' bytes in the folder, wherever they are (face-clean's own files left out)."""
    return sorted(h for p, h in files(root).items() if "/.face-clean/" not in p)


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path]:
    """photos/sub/coffee.jpg (quarantined by --keep Man) and photos/man.jpg; outside/ holds its own coffee.jpg."""
    root, outside = tmp_path / "photos", tmp_path / "outside"
    photos.save(photos.data.coffee(), root / "sub" / "coffee.jpg", quality=90)
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.rocket(), outside / "coffee.jpg", quality=90)
    return root, outside


def test_a_folder_swapped_for_a_link_after_analysis_moves_nothing_from_outside(cli, scene, monkeypatch):
    import cleaner.pipeline.actions

    root, outside = scene
    shutil.copy2(root / "sub" / "coffee.jpg", outside / "coffee.jpg")  # the same size and mtime: only the path differs
    real = cleaner.pipeline.actions.MoveTo.pipeline

    def swap_then_move(self, item, simulate):
        if (root / "sub").is_dir() and not (root / "sub").is_symlink():
            (root / "sub").rename(root / "sub-moved-away")
            (root / "sub").symlink_to(outside, target_is_directory=True)
        return real(self, item, simulate)

    monkeypatch.setattr(cleaner.pipeline.actions.MoveTo, "pipeline", swap_then_move)
    outside_before, photos_before = files(outside), photo_bytes(root)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output
    assert files(outside) == outside_before and photo_bytes(root) == photos_before  # nothing moved at all
    assert not (root / Q).exists()
    [coffee] = [r for r in audit_records(root / LOG) if r["path"] == "sub/coffee.jpg"]
    assert not coffee["moved"] and "symbolic link" in coffee["error"]


def test_restore_into_a_folder_swapped_for_a_link_writes_nothing_outside(cli, scene, monkeypatch):
    import cleaner.moves.mover

    root, outside = scene
    (outside / "coffee.jpg").unlink()
    assert cli("run", root, "--keep", "Man").exit_code == 0
    quarantined = root / Q / "no-face/sub/coffee.jpg"
    digest = sha256(quarantined)
    real = cleaner.moves.mover.move_file

    def swap_then_move(*args, **kwargs):
        (root / "sub").rename(root / "sub-moved-away")
        (root / "sub").symlink_to(outside, target_is_directory=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(cleaner.moves.mover, "move_file", swap_then_move)
    result = cli("restore", root, "--all")
    assert result.exit_code == 1, result.output
    assert os.listdir(outside) == [] and sha256(quarantined) == digest
    assert "symbolic link" in result.output


FIFO_DRIVER = r"""
import os, sys
base = sys.argv[1]
photo, mark = os.path.join(base, "photos", "swap.jpg"), os.path.join(base, "swapped")
real_open = os.open
def open_(path, flags, *args, **kwargs):
    if os.fsdecode(path).endswith("swap.jpg") and not os.path.exists(mark):
        with open(mark, "w"):
            pass
        os.unlink(photo)
        os.mkfifo(photo)  # after every check, just before the open
    return real_open(path, flags, *args, **kwargs)
os.open = open_
sys.argv = ["face-clean", "run", os.path.join(base, "photos"), "--keep", "Man"]
from cleaner.cli import main
main()
"""


def test_a_pipe_swapped_in_just_before_the_open_does_not_hang_the_run(tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "swap.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    proc = subprocess.run(
        [sys.executable, "-c", FIFO_DRIVER, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert (tmp_path / "swapped").exists(), proc.stderr
    assert proc.returncode == 0, proc.stderr
    swap = next(r for r in audit_records(root / LOG) if r["path"] == "swap.jpg")
    assert (swap["status"], swap["action"], swap["moved"]) == ("skipped", "keep", False)
    assert "named pipe" in swap["error"]


def padded(data: bytes, size: int) -> bytes:
    return data + bytes(size - len(data))  # after the JPEG's end marker: the same picture


def test_a_same_size_same_mtime_rewrite_is_not_moved_on_old_evidence(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    size = max(p.stat().st_size for p in root.iterdir())
    for p in root.iterdir():
        p.write_bytes(padded(p.read_bytes(), size))
    assert cli("run", root, "--keep", "all").exit_code == 0  # analysed and cached: coffee has no face
    target = root / "coffee.jpg"
    st = target.stat()
    target.write_bytes((root / "man.jpg").read_bytes())  # now a man, same size...
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # ...and the same mtime
    digest = sha256(target)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output
    record = {r["path"]: r for r in audit_records(root / LOG)[-2:]}["coffee.jpg"]
    assert not record["moved"] and "changed since" in record["error"]
    assert sha256(target) == digest
    again = cli("run", root, "--keep", "Man")  # analysed afresh: a man, kept
    assert again.exit_code == 0, again.output
    record = {r["path"]: r for r in audit_records(root / LOG)[-2:]}["coffee.jpg"]
    assert record["rule"] == "keep-man" and sha256(target) == digest


# -- cause 4: links to folders are recorded, never walked -------------------------------------------


def test_scan_of_a_folder_that_became_a_link_lists_the_link_only(tmp_path: Path):
    root, outside = tmp_path / "photos", tmp_path / "outside"
    photos.save(photos.data.coffee(), outside / "coffee.jpg")
    (root / "new").mkdir(parents=True)
    (root / "new").rmdir()
    (root / "new").symlink_to(outside, target_is_directory=True)  # mkdir, then swapped for a link
    assert scan(root / "new", True, (), ()) == [root / "new"]
    assert scan(root, True, (), ()) == [root / "new"]


@pytest.mark.parametrize("polling", [True, False])
def test_watch_records_linked_folders_and_never_walks_them(tmp_path: Path, polling: bool):
    root, outside = tmp_path / "photos", tmp_path / "outside"
    photos.save(photos.data.coffee(), outside / "coffee.jpg")
    root.mkdir()
    with ThreadDaemon(root, polling=polling, settle=0.5) as daemon:
        photos.save(photos.data.rocket(), root / "rocket.jpg")
        wait_for(lambda: any(r["path"] == "rocket.jpg" for r in records(root)), 60, "rocket decided")
        (root / "x").symlink_to(outside, target_is_directory=True)
        (root / "q").symlink_to(root / Q, target_is_directory=True)
        wait_for(lambda: {"x", "q"} <= {r["path"] for r in records(root)}, 60, "the links recorded")
        photos.save(photos.data.chelsea(), root / "later.png")  # the daemon is still alive after them
        wait_for(lambda: any(r["path"] == "later.png" for r in records(root)), 60, "later.png decided")
        assert daemon.error is None
    by_path = {r["path"]: r for r in records(root)}
    assert set(by_path) == {"rocket.jpg", "x", "q", "later.png"}
    assert all(by_path[p]["status"] == "skipped" and "symbolic link" in by_path[p]["error"] for p in "xq")
    assert (outside / "coffee.jpg").is_file() and (root / Q / "no-face/rocket.jpg").is_file()
    assert not (root / Q / "no-face/q").exists()
