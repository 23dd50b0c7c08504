"""Moving a file never overwrites anything and never loses the source."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from cleaner import move
from cleaner.move import MoveError, move_file


def make(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_existing_destination_is_never_overwritten(tmp_path):
    src = make(tmp_path / "in" / "a.jpg", b"new")
    taken = make(tmp_path / "q" / "a.jpg", b"old")
    make(tmp_path / "q" / "a (1).jpg", b"older")
    final = move_file(src, tmp_path / "q" / "a.jpg")
    assert final == tmp_path / "q" / "a (2).jpg"
    assert final.read_bytes() == b"new" and taken.read_bytes() == b"old"
    assert not src.exists()


def test_across_filesystems_copies_verifies_then_removes(tmp_path):
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem here")
    src = make(tmp_path / "a.jpg", os.urandom(3_000_000))
    data = src.read_bytes()
    before = src.stat().st_mtime_ns
    dest_dir = Path(os.path.join(other, f"face-clean-test-{os.getpid()}"))
    try:
        final = move_file(src, dest_dir / "sub" / "a.jpg")
        assert final.read_bytes() == data
        assert final.stat().st_mtime_ns == before  # timestamps travel with the photo
        assert not src.exists()
        assert [p.name for p in final.parent.iterdir()] == ["a.jpg"]  # no temporary left behind
    finally:
        import shutil

        shutil.rmtree(dest_dir, ignore_errors=True)


def _no_hard_links(monkeypatch):
    real_link = os.link

    def link(src, dst, **kwargs):
        if move.TEMP_SUFFIX in str(src):
            return real_link(src, dst, **kwargs)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", link)


def test_copy_path_refuses_a_source_that_changed_since_analysis(tmp_path, monkeypatch):
    _no_hard_links(monkeypatch)
    src = make(tmp_path / "a.jpg", b"edited after analysis")
    with pytest.raises(MoveError, match="changed since it was analysed"):
        move_file(src, tmp_path / "q" / "a.jpg", expected_sha256="0" * 64)
    assert src.read_bytes() == b"edited after analysis"
    assert list((tmp_path / "q").iterdir()) == []


def test_disk_full_leaves_source_intact_and_no_partial_file(tmp_path, monkeypatch):
    _no_hard_links(monkeypatch)
    src = make(tmp_path / "a.jpg", b"x" * 100_000)
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(MoveError, match="No space left"):
        move_file(src, tmp_path / "q" / "a.jpg")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert src.read_bytes() == b"x" * 100_000
    assert list((tmp_path / "q").iterdir()) == []


def test_unremovable_source_is_not_left_in_two_places(tmp_path, monkeypatch):
    src = make(tmp_path / "ro" / "a.jpg", b"photo")
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if Path(path) == src:
            raise OSError(errno.EACCES, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(MoveError, match="left in place"):
        move_file(src, tmp_path / "q" / "a.jpg")
    assert src.read_bytes() == b"photo"
    assert list((tmp_path / "q").iterdir()) == []
