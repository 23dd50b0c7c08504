"""Move one file without ever overwriting anything or losing the source.

On one filesystem the file gets its new name with ``link`` (atomic, and it refuses to
replace an existing name) before the old name is removed.  Across filesystems, or where
hard links are not supported (SMB, FAT), the bytes are copied to a temporary name in the
destination folder, fsynced, read back and checked against the source's sha256, given
their final name without replacing anything, and only then is the source removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from cleaner.hashing import sha256_file

_NO_LINK = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EACCES}
TEMP_SUFFIX = ".face-clean-partial"


class MoveError(OSError):
    """The move did not happen; the source is untouched."""


def numbered(dst: Path, n: int) -> Path:
    return dst if n == 0 else dst.with_name(f"{dst.stem} ({n}){dst.suffix}")


def free_name(dst: Path) -> Path:
    """The first of ``name.jpg``, ``name (1).jpg``, ... that does not exist yet."""
    n = 0
    while os.path.lexists(numbered(dst, n)):
        n += 1
    return numbered(dst, n)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # some network filesystems do not let a folder be opened; nothing more to do
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_verified(src: Path, dst: Path, expected_sha256: str | None) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        digest = hashlib.sha256()
        with src.open("rb") as fin, tmp.open("xb") as fout:
            for chunk in iter(lambda: fin.read(1 << 20), b""):
                digest.update(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        source_sha = digest.hexdigest()
        if expected_sha256 is not None and source_sha != expected_sha256:
            raise MoveError(f"{src} changed since it was analysed; left in place")
        if sha256_file(tmp) != source_sha:
            raise MoveError(f"the copy of {src} does not match it (sha256); left in place")
        try:
            os.link(tmp, dst)
            os.unlink(tmp)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in _NO_LINK:
                raise
            if os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "destination exists", str(dst)) from None
            os.rename(tmp, dst)
        _fsync_dir(dst.parent)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def _place(src: Path, dst: Path, expected_sha256: str | None) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in _NO_LINK:
            raise
        _copy_verified(src, dst, expected_sha256)
    else:
        _fsync_dir(dst.parent)
    try:
        os.unlink(src)
    except OSError as err:
        # The source cannot be removed (a read-only folder, say): take back our own new name
        # so that the photo is not left in two places, and report the move as not done.
        os.unlink(dst)
        raise MoveError(f"cannot remove {src.name} from its folder: {err.strerror}; left in place") from None
    _fsync_dir(src.parent)


def move_file(
    src: Path, dst: Path, expected_sha256: str | None = None, before_place: Callable[[Path], None] | None = None
) -> Path:
    """Move ``src`` to ``dst`` or, if that name is taken, to ``dst (n)``; return where it went.
    ``before_place`` is told each name just before the file is placed there (the journal)."""
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        for n in range(10_000):
            candidate = numbered(dst, n)
            if os.path.lexists(candidate):
                continue
            if before_place is not None:
                before_place(candidate)
            try:
                _place(src, candidate, expected_sha256)
                return candidate
            except FileExistsError:
                continue  # taken between our check and our move: try the next name
    except MoveError:
        raise
    except OSError as err:
        raise MoveError(f"cannot move to {dst.parent}: {err.strerror or err}") from None
    raise MoveError(f"no free name for {dst.name} in {dst.parent}")
