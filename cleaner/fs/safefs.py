"""Folders and files opened without following links, for everything face-clean touches in places others
can write to: the photo folder, its state folder, the quarantine and the review folder.

A path is walked one component at a time from a trusted base (a configured folder, opened by its
path, or ``/``) with ``O_NOFOLLOW``: a link swapped in anywhere below the base is refused, never
followed. After that, work goes through the folder's descriptor (``openat``, ``linkat``,
``renameat``, ``unlinkat``), so swapping a name after the check changes nothing. Files are opened
with ``O_NONBLOCK`` too: a named pipe swapped in for a photo cannot make a read wait forever.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
import time
from pathlib import Path
from types import TracebackType

from cleaner.errors import UnsafePath

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
PRIVATE = 0o700  # folders face-clean makes for its own state
ROOT = Path("/")


class NotPrivate(UnsafePath):
    """A state folder someone else owns or may write to (checked as OpenSSH checks ~/.ssh)."""

    def __init__(self, path: Path, what: str, why: str) -> None:
        super().__init__(f"{what} {path} is {why}")
        self.why = why


def _refusal(path: Path, what: str) -> UnsafePath:
    try:
        st = os.lstat(path)
    except OSError:
        return UnsafePath(f"{path} is not {what}")
    if stat.S_ISLNK(st.st_mode):
        return UnsafePath(f"{path} is a symbolic link; face-clean does not follow it")
    return UnsafePath(f"{path} is not {what}")


class Folder:
    """An open folder: names below it are looked up through its descriptor, never through its path."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def sub(self, name: str, create: bool = False, mode: int = 0o777, made: list[Path] | None = None) -> Folder:
        """The folder ``name`` in this one, made if ``create``; a link there is refused."""
        try:
            return Folder(self.path / name, os.open(name, DIR_FLAGS, dir_fd=self.fd))
        except FileNotFoundError:
            if not create:
                raise
        except OSError as err:
            if err.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _refusal(self.path / name, "a folder") from None
            raise
        try:
            os.mkdir(name, mode, dir_fd=self.fd)
            if made is not None:
                made.append(self.path / name)
        except FileExistsError:
            return self.sub(name)  # made by someone else meanwhile: opened like any other
        folder = self.sub(name)
        if mode != 0o777:  # exactly ``mode``: neither the umask nor a parent's setgid bit (a group share) adds to it
            try:
                os.fchmod(folder.fd, mode)
            except BaseException:
                folder.close()
                raise
        return folder

    def walk(
        self, parts: tuple[str, ...], create: bool = False, mode: int = 0o777, made: list[Path] | None = None
    ) -> Folder:
        """The folder ``parts`` below this one (this one itself when empty); the caller closes it."""
        current = Folder(self.path, os.dup(self.fd))
        for part in parts:
            if part in ("", ".", ".."):
                current.close()
                raise UnsafePath(f"{self.path.joinpath(*parts)} is not a plain path below {self.path}")
            try:
                nxt = current.sub(part, create, mode, made)
            finally:
                current.close()
            current = nxt
        return current

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open_file(self, name: str, flags: int, mode: int = 0o600) -> int:
        """A regular file in this folder (never through a link, never waiting on a pipe); writers also
        refuse a file with other names (a hard link planted to make face-clean write elsewhere)."""
        try:
            fd = os.open(name, flags | FILE_FLAGS, mode, dir_fd=self.fd)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise _refusal(self.path / name, "a regular file") from None
            raise
        st = os.fstat(fd)
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        if not stat.S_ISREG(st.st_mode) or (writing and st.st_nlink > 1):
            os.close(fd)
            why = "a regular file" if not stat.S_ISREG(st.st_mode) else "a file with one name (it has hard links)"
            raise UnsafePath(f"{self.path / name} is not {why}")
        return fd

    def unlink(self, name: str) -> None:
        os.unlink(name, dir_fd=self.fd)

    def discard(self, name: str) -> None:
        """Remove our own temporary file if it is there (cleaning up after a failure)."""
        try:
            self.unlink(name)
        except OSError:
            pass

    def replace(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """Write ``data`` under a fresh temporary name, then rename it over ``name`` (a link there is
        replaced, never written through)."""
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        fd = self.open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            self.discard(tmp)
            raise

    def fsync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError:
            pass  # some network filesystems cannot sync a folder; nothing more to do


def open_folder(
    path: Path, base: Path = ROOT, create: bool = False, mode: int = 0o777, made: list[Path] | None = None
) -> Folder:
    """``path``, walked from ``base`` (opened by its path: the configured, trusted part) without
    following a link below it. Missing folders are made with ``mode`` when ``create``."""
    path, base = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    try:
        parts = path.relative_to(base).parts
    except ValueError:
        raise UnsafePath(f"{path} is not below {base}") from None
    with Folder(base, os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)) as top:
        return top.walk(parts, create, mode, made)


def write_atomically(path: Path, data: bytes, chosen: bool, mode: int = 0o644) -> None:
    """``data`` under a fresh temporary name beside ``path``, then renamed over it: nobody ever reads half
    of it, and a link planted where it goes is replaced, never written through. ``chosen``: the user
    named the file, and the links on the way to its folder are theirs; else (a state folder) none is
    followed."""
    with open_folder(path.parent, path.parent if chosen else ROOT) as folder:
        folder.replace(path.name, data, mode)


_RENAME_NOREPLACE = 1
_libc: ctypes.CDLL | None = None


def _renameat2(dir_fd: int, src: str, dst: str) -> int:
    """``renameat2(..., RENAME_NOREPLACE)`` within one folder: 0, or the errno (ENOSYS where glibc lacks it)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    call = getattr(_libc, "renameat2", None)
    if call is None:
        return errno.ENOSYS
    ok = call(dir_fd, os.fsencode(src), dir_fd, os.fsencode(dst), ctypes.c_uint(_RENAME_NOREPLACE))
    return 0 if ok == 0 else ctypes.get_errno()


def rename_noreplace(folder: Folder, src: str, dst: str) -> None:
    """Rename ``src`` to ``dst`` in ``folder``, never replacing a ``dst`` that exists (FileExistsError),
    for filesystems without hard links (SMB, FAT), where ``link`` cannot give a name exclusively:
    ``renameat2(RENAME_NOREPLACE)`` checks and renames in one step in the kernel. Where the kernel or the
    filesystem lacks it, ``dst`` is first made ours with ``O_CREAT | O_EXCL`` (an empty placeholder, which
    fails if anything is there) and the rename replaces only that placeholder."""
    err = _renameat2(folder.fd, src, dst)
    if err == 0:
        return
    if err not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        raise OSError(err, os.strerror(err), str(folder.path / dst))
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | FILE_FLAGS, 0o600, dir_fd=folder.fd)
    placeholder = os.fstat(fd)
    os.close(fd)
    if not same_file(placeholder, folder.lstat(dst)):
        raise FileExistsError(errno.EEXIST, "taken meanwhile", str(folder.path / dst))
    os.rename(src, dst, src_dir_fd=folder.fd, dst_dir_fd=folder.fd)


def remove_empty(path: Path) -> None:
    """``rmdir`` of ``path`` reached without following a link (one swapped in on the way is refused, and
    nothing is removed through it); OSError when it is not an empty folder."""
    with open_folder(path.parent) as folder:
        os.rmdir(path.name, dir_fd=folder.fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def check_private(folder: Folder, what: str) -> None:
    """Owned by the account face-clean runs as (or root), writable by no one else: OpenSSH's rule for
    ~/.ssh. Nobody else can then plant, replace or rename anything in it."""
    st = os.fstat(folder.fd)
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        raise NotPrivate(folder.path, what, f"not owned by uid {me}, which face-clean runs as (owner: uid {st.st_uid})")
    if st.st_mode & 0o022:
        why = f"writable by others (mode {stat.S_IMODE(st.st_mode):o}): anyone who can write there could plant "
        raise NotPrivate(folder.path, what, why + "files face-clean trusts; use a folder only its user can write to")


def within(path: str | Path, folder: Path) -> bool:
    """``path`` is ``folder`` or below it, both with links resolved (for paths read from a log or journal)."""
    real, base = os.path.realpath(path), os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def fingerprint(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of what is at ``path`` now, a link itself and not what it leads to; None if
    nothing is there. How face-clean tells a file unchanged without reading it."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def same_file(a: os.stat_result, b: os.stat_result | None) -> bool:
    return b is not None and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def read_regular(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file named by the administrator (a link there is followed):
    a named pipe would make the read wait forever, /dev/zero never end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a named pipe" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else "a device"
            raise OSError(f"not a regular file ({kind})")
        return os.read(fd, limit)
    finally:
        os.close(fd)


def set_aside(folder: Folder, name: str, label: str) -> str:
    """Rename ``name`` in ``folder`` out of the way, unread, as ``name.<label>-<time>-<random>``; that name."""
    aside = f"{name}.{label}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    os.rename(name, aside, src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
    return aside
