"""A soak test of `face-clean watch`: thousands of photos trickling in, a few at a time, as on a
shared upload folder.  Each trickle is its own processing round (a new worker thread), which is
where descriptors and memory once leaked.  The daemon's open descriptors (/proc/PID/fd) and
resident memory (VmRSS) are sampled as it goes; after a warm-up both must stay flat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from watching import wait_for

FILES = 3000
BLOCK = 250  # photos between two samples
WARM_UP = 2  # blocks before the baseline: models loaded, caches and queues at their working size
MAX_FD_GROWTH = 4
MAX_RSS_GROWTH_MB = 24.0


def sample(pid: int) -> tuple[int, float]:
    """(open descriptors, resident memory in MB) of the process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return fds, rss_kb / 1024


def lines(log: Path) -> int:
    return log.read_bytes().count(b"\n") if log.exists() else 0


@pytest.mark.slow  # 3000 photos: 34 s on 2 loaded cores
def test_descriptors_and_memory_stay_flat_while_photos_trickle_in(tmp_path: Path):
    root = tmp_path / "photos"
    root.mkdir()
    log = root / ".face-clean" / "audit.jsonl"
    rng = np.random.default_rng(0)
    output = (tmp_path / "daemon.log").open("w")  # a file, not a pipe nobody reads while it runs
    cmd = [sys.executable, "-m", "cleaner", "watch", str(root), "--keep", "Man", "--settle", "1"]
    proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)  # no face: each is quarantined
    samples: list[tuple[int, float]] = []
    try:
        wait_for(lambda: (root / ".face-clean" / "heartbeat").exists() or proc.poll() is not None, 90, "the daemon")
        for n in range(0, FILES, BLOCK):
            for i in range(n, n + BLOCK):
                pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / f"upload-{i:05d}.jpg", quality=70)
                if i % 3 == 2:
                    time.sleep(0.02)  # a trickle: a few at a time, each few its own round
            wait_for(lambda m=n + BLOCK: lines(log) >= m or proc.poll() is not None, 300, f"{n + BLOCK} records")
            assert proc.poll() is None, "the daemon died"
            samples.append(sample(proc.pid))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        output.close()
    assert proc.returncode == 0, (tmp_path / "daemon.log").read_text()[-2000:]
    assert lines(log) == FILES
    base_fds, base_rss = samples[WARM_UP - 1]
    report = ", ".join(f"{fds} fds {rss:.0f} MB" for fds, rss in samples)
    assert max(fds for fds, _ in samples[WARM_UP:]) - base_fds <= MAX_FD_GROWTH, report
    assert max(rss for _, rss in samples[WARM_UP:]) - base_rss <= MAX_RSS_GROWTH_MB, report
    print(f"soak: {FILES} photos; per {BLOCK}: {report}")
