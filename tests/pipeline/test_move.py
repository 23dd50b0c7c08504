"""Moving a file never overwrites anything and never loses the source."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from conftest import named

from cleaner.fs import move
from cleaner.fs.move import MoveError, move_file


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
        if named(path, kwargs.get("dir_fd")) == src:
            raise OSError(errno.EACCES, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(MoveError, match="left in place"):
        move_file(src, tmp_path / "q" / "a.jpg")
    assert src.read_bytes() == b"photo"
    assert list((tmp_path / "q").iterdir()) == []


def test_on_one_filesystem_the_linked_bytes_are_checked_too(tmp_path):
    """A rewrite after the analysis, even of the same size and mtime, is not moved on old evidence."""
    src = make(tmp_path / "a.jpg", b"analysed")
    analysed = hashlib.sha256(src.read_bytes()).hexdigest()
    st = src.stat()
    src.write_bytes(b"replaced")
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(MoveError, match="changed since it was analysed"):
        move_file(src, tmp_path / "q" / "a.jpg", expected_sha256=analysed)
    assert src.read_bytes() == b"replaced" and list((tmp_path / "q").iterdir()) == []


def test_a_source_that_became_a_link_or_a_pipe_is_not_moved(tmp_path):
    outside = make(tmp_path / "outside" / "a.jpg", b"not yours")
    link = tmp_path / "in" / "a.jpg"
    link.parent.mkdir()
    link.symlink_to(outside)
    with pytest.raises(MoveError, match="symbolic link"):
        move_file(link, tmp_path / "q" / "a.jpg")
    pipe = tmp_path / "in" / "b.jpg"
    os.mkfifo(pipe)
    with pytest.raises(MoveError, match="no longer a regular file"):
        move_file(pipe, tmp_path / "q" / "b.jpg")  # returns at once: never waits for a writer
    assert link.is_symlink() and outside.read_bytes() == b"not yours" and list((tmp_path / "q").iterdir()) == []


# -- issue 26, cause 4: no hard links (SMB, FAT), a file made at the final name in the last instant ---------


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "without-renameat2"])
def test_without_hard_links_a_file_made_just_before_the_final_rename_is_never_overwritten(
    tmp_path, monkeypatch, renameat2
):
    """The file appears after every check face-clean makes, at the very last moment before the rename
    that gives the copy its name: ``renameat2(RENAME_NOREPLACE)`` (or, without it, the exclusive
    placeholder) refuses the name, and the copy takes the next free one."""
    from cleaner.fs import safefs

    src = make(tmp_path / "in" / "a.jpg", b"the photo")
    (tmp_path / "q").mkdir()
    theirs = tmp_path / "q" / "a.jpg"
    real_link, real_rename, real_renameat2 = os.link, os.rename, getattr(safefs, "_renameat2", None)

    def no_hard_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    def plant(dst: str) -> None:
        if dst == "a.jpg" and not theirs.exists():
            theirs.write_bytes(b"an upload made meanwhile")

    def rename(src_name, dst, *args, **kwargs):
        plant(dst)
        return real_rename(src_name, dst, *args, **kwargs)

    def renameat2_now(dir_fd, src_name, dst):
        plant(dst)
        return real_renameat2(dir_fd, src_name, dst) if renameat2 and real_renameat2 else errno.EINVAL

    monkeypatch.setattr(os, "link", no_hard_links)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(safefs, "_renameat2", renameat2_now, raising=False)
    final = move_file(src, tmp_path / "q" / "a.jpg", hashlib.sha256(b"the photo").hexdigest())
    monkeypatch.setattr(os, "link", real_link)
    assert theirs.read_bytes() == b"an upload made meanwhile"
    assert final == tmp_path / "q" / "a (1).jpg" and final.read_bytes() == b"the photo"
    assert not src.exists() and sorted(p.name for p in theirs.parent.iterdir()) == ["a (1).jpg", "a.jpg"]
