"""Is the watched folder still the one the daemon started on?

A watched folder can be deleted, renamed, or unmounted (a NAS share that drops) under a
running daemon; inotify then reports nothing, and the state database inside it may be gone.
The daemon keeps the folder open and compares it with what its path leads to on every turn
of its loop, so it can say what happened instead of watching nothing, or failing with a
database error.
"""

from __future__ import annotations

import os
from pathlib import Path

from cleaner.errors import FolderGone


class RootGuard:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
        st = os.fstat(self.fd)
        self.identity = (st.st_dev, st.st_ino)

    def gone(self) -> str | None:
        """What happened to the folder, or None while its path still leads to it."""
        try:
            st = os.stat(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return self._where_to()
        except OSError as err:  # a network mount that stopped answering
            return f"the watched folder {self.root} cannot be read any more ({err.strerror})"
        if (st.st_dev, st.st_ino) == self.identity:
            return None
        return (
            f"the watched folder {self.root} is no longer the folder face-clean started on "
            "(unmounted, or deleted and made again)"
        )

    def check(self) -> None:
        message = self.gone()
        if message is not None:
            raise FolderGone(message)

    def _where_to(self) -> str:
        try:
            if os.fstat(self.fd).st_nlink == 0:
                return f"the watched folder {self.root} was deleted"
            where = os.readlink(f"/proc/self/fd/{self.fd}")  # Linux: where the folder is now
        except OSError:
            where = None
        to = f" (it is now {where})" if where and os.path.isdir(where) else ""
        return f"the watched folder {self.root} was renamed or moved away{to}"

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
