"""The heartbeat stays small whatever it reports, and one of ours never keeps ``watch`` from starting
(issue 26, cause 4): a move failing under a deep folder of non-ASCII names made ``last_move_error``
kilobytes long (six bytes a character, escaped), and after ``kill -9`` the next ``watch`` took that
heartbeat for someone else's file and refused to replace it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import photos
from watching import start_process, wait_for, wait_for_records

from cleaner.watch.heartbeat import Heartbeat, check_heartbeat

DEEP = "/".join(["ä" * 40] * 60)  # a failed move's error names the whole path: 2,400 non-ASCII characters


def test_what_the_heartbeat_says_is_bounded(tmp_path: Path):
    beat = tmp_path / "heartbeat"
    heart = Heartbeat(beat)
    heart.beat({"stopped": False, "failing_moves": 1, "last_move_error": f"cannot move {DEEP}: No space"}, force=True)
    heart.close()
    body = json.loads(beat.read_bytes())
    assert beat.stat().st_size < 4096 and body["failing_moves"] == 1
    assert body["last_move_error"].startswith("cannot move ää") and body["last_move_error"].endswith("…")


def test_watch_starts_again_over_a_long_heartbeat_a_killed_daemon_left(cli, tmp_path: Path):
    root, beat = tmp_path / "photos", tmp_path / "state" / "heartbeat"
    beat.parent.mkdir()
    photos.save(photos.astronaut(), root / "man.jpg")
    long = {"time": 1.0, "pid": 1, "host": "h", "stopped": False, "failing_moves": 3, "last_move_error": DEEP}
    beat.write_text(json.dumps(long) + "\n")  # as an earlier version wrote it, then was killed: 14 KiB
    assert beat.stat().st_size > 4096
    check_heartbeat(beat)  # ours: replaced, not refused
    proc = start_process(root, "--heartbeat", str(beat))
    try:
        wait_for_records(root, 1, timeout=120)
        wait_for(lambda: json.loads(beat.read_bytes()).get("pid") == proc.pid, 30, "the new daemon's heartbeat")
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "not a face-clean heartbeat" not in out


def test_a_photo_named_as_the_heartbeat_is_still_refused(tmp_path: Path):
    beat = tmp_path / "heartbeat"
    photos.save(photos.astronaut(), beat.with_suffix(".jpg"))
    beat.with_suffix(".jpg").rename(beat)
    try:
        check_heartbeat(beat)
    except OSError as err:
        assert "not a face-clean heartbeat" in str(err)
    else:
        raise AssertionError("a photo was taken for a heartbeat")
