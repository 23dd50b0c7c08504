"""Move one file without ever overwriting anything, losing the source, or moving other bytes than it analysed.

Both ends are reached through folder descriptors, walked from a trusted base without following a
link (cleaner.fs.safefs): a folder swapped for a link after the decision makes the move fail, never
leads it elsewhere. The source is opened (``O_NOFOLLOW | O_NONBLOCK``) and checked to be a regular
file before anything else.

On one filesystem the file gets its new name with ``linkat`` (atomic, and it refuses to replace an
existing name); the new name must lead to the very file that was opened, whose content is then
hashed and compared with the sha256 that was analysed, and only then is the old name removed.
Across filesystems, or where hard links are not supported (SMB, FAT), the bytes are copied to a
temporary name in the destination folder, fsynced, read back and checked against the expected
sha256, given their final name without replacing anything (``linkat``, or where there are no hard
links ``renameat2(RENAME_NOREPLACE)``: cleaner.fs.safefs.rename_noreplace), and only then is the
source removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

from cleaner.errors import UnsafePath
from cleaner.fs.hashing import hash_fd
from cleaner.fs.safefs import ROOT, Folder, open_folder, rename_noreplace, same_file, write_all

_NO_LINK = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EACCES}
TEMP_SUFFIX = ".face-clean-partial"


class MoveError(OSError):
    """The move did not happen; the source is untouched."""


class Changed(MoveError):
    """The file's bytes are not the ones analysed: it must be analysed again, not moved."""


def numbered(dst: Path, n: int) -> Path:
    return dst if n == 0 else dst.with_name(f"{dst.stem} ({n}){dst.suffix}")


def free_name(dst: Path) -> Path:
    """The first of ``name.jpg``, ``name (1).jpg``, ... that does not exist yet."""
    n = 0
    while os.path.lexists(numbered(dst, n)):
        n += 1
    return numbered(dst, n)


def temp_name(name: str, token: str) -> str:
    """The partial copy's name: exact, so that recovery removes this file and no other."""
    return f".{name}.{token}{TEMP_SUFFIX}"


def _open_source(folder: Folder, name: str) -> tuple[int, os.stat_result]:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder.fd)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise MoveError(f"{folder.path / name} is now a symbolic link; not following it") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise MoveError(f"{folder.path / name} is no longer a regular file; left in place")
    return fd, st


def _copy_verified(fd: int, st: os.stat_result, dst: Folder, name: str, expected: str, token: str) -> None:
    tmp = temp_name(name, token)
    out = dst.open_file(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)  # exists: not ours, never removed
    try:
        try:
            digest, offset = hashlib.sha256(), 0
            while chunk := os.pread(fd, 1 << 20, offset):
                digest.update(chunk)
                write_all(out, chunk)
                offset += len(chunk)
            os.fsync(out)
            os.fchmod(out, stat.S_IMODE(st.st_mode))
            os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
            if digest.hexdigest() != expected:
                raise Changed(f"{name} changed since it was analysed; left in place")
            if hash_fd(out) != expected:
                raise MoveError(f"the copy of {name} does not match it (sha256); left in place")
        finally:
            os.close(out)
        try:
            os.link(tmp, name, src_dir_fd=dst.fd, dst_dir_fd=dst.fd, follow_symlinks=False)
            dst.unlink(tmp)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in _NO_LINK:
                raise
            rename_noreplace(dst, tmp, name)  # never over a file made since the name was found free
    except BaseException:
        dst.discard(tmp)
        raise


def _place(src: Folder, sname: str, dst: Folder, dname: str, expected: str | None, token: str) -> None:
    fd, st = _open_source(src, sname)
    try:
        expected = expected or hash_fd(fd)
        try:
            os.link(sname, dname, src_dir_fd=src.fd, dst_dir_fd=dst.fd, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in _NO_LINK:
                raise
            _copy_verified(fd, st, dst, dname, expected, token)
        else:
            # the name may have been swapped between the open and the link: the new name must be the
            # opened file, and its bytes the analysed ones; else only our new name is taken back
            if not same_file(st, dst.lstat(dname)) or hash_fd(fd) != expected:
                dst.unlink(dname)
                raise Changed(f"{sname} changed since it was analysed; left in place")
        dst.fsync()
        _remove_source(src, sname, st, dst, dname)
    finally:
        os.close(fd)


def _remove_source(src: Folder, sname: str, st: os.stat_result, dst: Folder, dname: str) -> None:
    try:
        if not same_file(st, src.lstat(sname)):
            raise OSError(errno.ESTALE, "it was replaced meanwhile")
        src.unlink(sname)
    except OSError as err:
        # The source cannot be removed (a read-only folder, say) or is another file now: take back our
        # own new name so that the photo is not left in two places, and report the move as not done.
        dst.unlink(dname)
        raise MoveError(f"cannot remove {sname} from its folder: {err.strerror}; left in place") from None
    src.fsync()


def move_file(
    src: Path,
    dst: Path,
    expected_sha256: str | None = None,
    before_place: Callable[[Path], None] | None = None,
    *,
    src_base: Path = ROOT,
    dst_base: Path = ROOT,
    token: str | None = None,
) -> Path:
    """Move ``src`` to ``dst`` or, if that name is taken, to ``dst (n)``; return where it went.
    No link is followed below ``src_base`` and ``dst_base``; missing folders below ``dst_base`` are made.
    ``before_place`` is told each name just before the file is placed there (the journal); ``token``
    names a partial copy (the journal's move id, so recovery knows its exact name)."""
    token = token or uuid.uuid4().hex[:16]
    try:
        if not os.path.isdir(dst_base):
            open_folder(dst_base, create=True).close()  # the quarantine itself, made on first use
        with open_folder(src.parent, src_base) as sdir, open_folder(dst.parent, dst_base, create=True) as ddir:
            for n in range(10_000):
                candidate = numbered(dst, n)
                if ddir.lstat(candidate.name) is not None:
                    continue
                if before_place is not None:
                    before_place(candidate)
                try:
                    _place(sdir, src.name, ddir, candidate.name, expected_sha256, token)
                    return candidate
                except FileExistsError:
                    continue  # taken between our check and our move: try the next name
    except MoveError:
        raise
    except UnsafePath as err:
        raise MoveError(f"not moved: {err}") from None
    except OSError as err:
        raise MoveError(f"cannot move to {dst.parent}: {err.strerror or err}") from None
    raise MoveError(f"no free name for {dst.name} in {dst.parent}")
