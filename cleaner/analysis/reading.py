"""A photo's bytes and sha256, or the reason it was not read: never through a link, never waiting on a
pipe, never more than the memory budget.

The file is opened relative to the photo folder, one component at a time without following links
(cleaner.fs.safefs), with ``O_NONBLOCK``, and what was opened is checked again (``fstat``): a folder,
link or pipe swapped in after the scan is recorded, never read. Then its first bytes say what it
is (cleaner.analysis.kinds): a file that does not begin like an image, and is not named like one, is
*skipped* as not an image (a video, a sidecar, a note), hashed as a stream without being held in
memory; one named like an image that is larger than ``SMALL`` is recorded unreadable the same way;
an image larger than the memory budget is not read at all. Only then are the bytes read, up to the
budget (small files of no known kind go to the decoder: TGA has no signature).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cleaner.analysis.decode import DEFAULT_BUDGET, budget_note, sniff, unidentified
from cleaner.analysis.kinds import claims_image, content_kind, not_an_image
from cleaner.errors import UnsafePath
from cleaner.fs.hashing import hash_fd
from cleaner.fs.safefs import ROOT, open_folder
from cleaner.records import ImageAnalysis, Status

HEAD = 64 << 10  # enough for every image header we recognise
SMALL = 1 << 20  # a file this small is handed to the decoder even when its start is unknown (TGA has no signature)
KINDS = {stat.S_IFDIR: "folder", stat.S_IFIFO: "named pipe", stat.S_IFSOCK: "socket", stat.S_IFCHR: "device"}


@dataclass(frozen=True)
class FileBytes:
    path: Path
    st: os.stat_result
    data: bytes
    sha256: str
    budget: int = DEFAULT_BUDGET  # bytes the decoder may use for this image


def _skipped(path: Path, st: os.stat_result, why: str) -> ImageAnalysis:
    return ImageAnalysis(path, st.st_size, None, Status.SKIPPED, why, mtime_ns=st.st_mtime_ns)


def _not_a_file(path: Path, st: os.stat_result) -> ImageAnalysis:
    if stat.S_ISLNK(st.st_mode):
        return _skipped(path, st, "symbolic link (not followed)")
    kind = KINDS.get(stat.S_IFMT(st.st_mode), "special file")
    return _skipped(path, st, f"not a regular file: a {kind}, not opened")


def read_file(path: Path, root: Path | None = None, budget: int = DEFAULT_BUDGET) -> FileBytes | ImageAnalysis:
    """The file's bytes and hash, or an analysis that says why they were not read. ``root``: the photo
    folder, below which no link is followed (None: none anywhere on the path)."""
    unreadable = Status.UNREADABLE
    try:
        folder = open_folder(path.parent, root or ROOT)
    except UnsafePath as err:
        return ImageAnalysis(path, 0, None, Status.SKIPPED, f"not followed: {err}")
    except FileNotFoundError:
        return ImageAnalysis(path, 0, None, unreadable, "file vanished before it could be read")
    except OSError as err:
        return ImageAnalysis(path, 0, None, unreadable, f"cannot open its folder: {err.strerror}")
    with folder:
        st = folder.lstat(path.name)
        if st is None:
            return ImageAnalysis(path, 0, None, unreadable, "file vanished before it could be read")
        if stat.S_ISDIR(st.st_mode):
            try:  # it comes here only when the scan could not list it: say why
                os.close(os.open(path.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder.fd))
            except OSError as err:
                error = f"cannot list folder: {err.strerror}; its files were not looked at"
                return ImageAnalysis(path, st.st_size, None, unreadable, error, mtime_ns=st.st_mtime_ns)
        if not stat.S_ISREG(st.st_mode):
            return _not_a_file(path, st)
        try:
            fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder.fd)
        except FileNotFoundError:
            return ImageAnalysis(path, st.st_size, None, unreadable, "file vanished before it could be read")
        except OSError as err:
            if err.errno == errno.ELOOP:
                return _skipped(path, st, "symbolic link (not followed)")
            error = f"cannot read file: {err.strerror}"
            return ImageAnalysis(path, st.st_size, None, unreadable, error, mtime_ns=st.st_mtime_ns)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped in after the check above
            return _not_a_file(path, opened)
        return _read(fd, path, opened, budget)
    except OSError as err:
        error = f"cannot read file: {err.strerror}"
        return ImageAnalysis(path, st.st_size, None, unreadable, error, mtime_ns=st.st_mtime_ns)
    finally:
        os.close(fd)


def _read(fd: int, path: Path, st: os.stat_result, budget: int) -> FileBytes | ImageAnalysis:
    head = _read_at(fd, HEAD, 0)
    if sniff(head) is None:
        image = claims_image(path.name)
        if not image and (st.st_size > SMALL or content_kind(head) is not None):
            status, error = Status.SKIPPED, not_an_image(path.name, head)
        elif image and st.st_size > SMALL:
            status, error = Status.UNREADABLE, unidentified(head, path.name)
        else:
            status = None
        if status is not None:  # hashed as a stream, never held; one larger than the budget not at all
            sha = hash_fd(fd) if st.st_size <= budget or not image else None
            return ImageAnalysis(path, st.st_size, sha, status, error, mtime_ns=st.st_mtime_ns)
    if st.st_size > budget:  # its size says so before a byte more is read (a sparse 8 GB "photo", say)
        return _skipped(path, st, f"a {st.st_size / 2**20:.0f} MB file, {budget_note(budget)}")
    data = _read_at(fd, st.st_size + 1, 0)  # one byte more: a file that grew since is noticed
    if len(data) > budget:
        return _skipped(path, st, f"a file that grew past {st.st_size / 2**20:.0f} MB, {budget_note(budget)}")
    return FileBytes(path, os.fstat(fd), data, hashlib.sha256(data).hexdigest(), budget)


def _read_at(fd: int, n: int, offset: int) -> bytes:
    """Up to ``n`` bytes from ``offset``: one read, and one buffer, for a regular file (a loop of
    small reads joined at the end would hold the file twice)."""
    data = os.pread(fd, n, offset)
    if len(data) == n or not data:
        return data
    parts, got = [data], len(data)
    while got < n and (chunk := os.pread(fd, min(n - got, 1 << 20), offset + got)):
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
