"""A watch whose inotify runs out of watches or drowns in overflows says so and polls instead
(issue 26, cause 2): an upload afterwards is decided, where it stayed undecided for good."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from pathlib import Path

import photos
import pytest
from watching import ThreadDaemon, wait_for_records

inotify_c = pytest.importorskip("watchdog.observers.inotify_c")


def test_out_of_inotify_watches_below_the_folder_falls_back_to_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The kernel's max_user_watches reached for the folders below (simulated: every watch past the
    photo folder's own fails as inotify_add_watch fails, with ENOSPC); watchdog swallows that error."""
    root = tmp_path / "photos"
    (root / "albums" / "2024").mkdir(parents=True)
    real = inotify_c.InotifyFD._get_or_create_watch

    def limited(self: object, path: bytes, mask: int) -> object:
        if path != os.fsencode(root):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path, mask)

    monkeypatch.setattr(inotify_c.InotifyFD, "_get_or_create_watch", limited)
    caplog.set_level(logging.WARNING, logger="face-clean")
    with ThreadDaemon(root, polling=False, settle=0.3):
        photos.save(photos.data.coffee(), root / "albums" / "2024" / "coffee.jpg")
        (record,) = wait_for_records(root, 1, timeout=30)
    assert record["path"] == "albums/2024/coffee.jpg" and record["moved"]
    assert "out of inotify watches" in caplog.text and "polling the whole folder instead" in caplog.text


@pytest.mark.slow
def test_twenty_thousand_folders_moved_in_do_not_drown_the_watch(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """274-338 overflow warnings at 100 % CPU, and a photo uploaded afterwards still undecided after
    120 s: watchdog answered each overflow by watching every folder again, which overflowed again."""
    root, elsewhere = tmp_path / "photos", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    for i in range(20_000):
        (elsewhere / f"f{i}").mkdir()
    caplog.set_level(logging.WARNING, logger="face-clean")
    with ThreadDaemon(root, polling=False, settle=0.3):
        subprocess.run(f"find {elsewhere} -mindepth 1 -maxdepth 1 -exec mv -t {root} {{}} +", shell=True, check=True)
        photos.save(photos.data.coffee(), root / "coffee.jpg")
        (record,) = wait_for_records(root, 1, timeout=60)
    assert record["path"] == "coffee.jpg" and record["moved"]
    assert "polling the whole folder instead" in caplog.text
