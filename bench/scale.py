"""face-clean at 100,000 files: first run, reruns, the size of its state, a daemon's memory.

    python bench/scale.py [--files 100000] [--reruns 3] [--folder DIR]

Makes N small, distinct JPEGs (noise, 64x48, in folders of 1,000; no face, so the detector runs
on every one and the gender model on none: what is measured is face-clean's cost per file), or
reuses ``--folder`` made by an earlier call.  Built-in models.  Then, each in its own process:

1. ``face-clean run DIR --keep Man --dry-run``: the first run, files per second;
2. the same command ``--reruns`` times over the unchanged folder (every file decided already);
3. the size of ``state.db`` and of the audit log;
4. ``face-clean watch --keep Man --dry-run`` on an empty folder with a state of its own, into
   which the folders of 1,000 photos are moved five at a time (each group once the last one is
   decided, as a burst of arrivals): its decisions per second, and its resident memory after
   each group, to show whether it grows with the files seen.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import presets

CMD = [sys.executable, "-m", "cleaner"]


def make(folder: Path, files: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(files):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(sub / f"{i:06d}.jpg", quality=80)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak resident MB of one face-clean command."""
    start = time.monotonic()
    proc = subprocess.Popen([*CMD, *args], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"face-clean {args} failed")
    return time.monotonic() - start, usage.ru_maxrss // 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


class Lines:
    """The audit log's records so far, counted as it grows."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.count = path, 0, 0

    def __call__(self) -> int:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return 0
        self.offset += len(chunk)
        self.count += chunk.count(b"\n")
        return self.count


def watch_memory(folder: Path, state: Path, env: dict[str, str]) -> tuple[float, list[tuple[int, int]]]:
    """A daemon on an empty folder into which ``folder``'s sub-folders of 1,000 photos are moved, five
    at a time, each group once the last is decided: seconds deciding, and (decisions, resident MB)
    after each group.  The sub-folders are moved back at the end."""
    watched = state.parent / "watched"
    watched.mkdir(parents=True)
    args = ["watch", str(watched), "--keep", "Man", "--dry-run", "-q", "--audit-log", str(state / "audit.jsonl")]
    daemon = subprocess.Popen([*CMD, *args, "--settle", "0.5"], env=env)
    decided = Lines(state / "audit.jsonl")
    groups = sorted(p for p in folder.iterdir() if p.is_dir())
    samples: list[tuple[int, int]] = []
    busy, total = 0.0, 0
    try:
        while not (state / "heartbeat").exists():
            time.sleep(0.2)
        samples.append((0, rss(daemon.pid)))
        for start in range(0, len(groups), 5):
            group = groups[start : start + 5]
            total += sum(1 for g in group for _ in g.iterdir())
            began = time.monotonic()
            for g in group:
                g.rename(watched / g.name)
            while decided() < total:
                if daemon.poll() is not None:
                    raise SystemExit("the daemon stopped")
                time.sleep(0.2)
            busy += time.monotonic() - began
            samples.append((total, rss(daemon.pid)))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=120)
        for g in watched.iterdir():
            g.rename(folder / g.name)
    return busy, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--reruns", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="a folder an earlier call made (kept; its state is replaced)")
    parser.add_argument("--no-watch", action="store_true", help="skip the daemon's memory (step 4)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-scale-"))
    folder = args.folder or work / "photos"
    if not (folder / "000").is_dir():
        start = time.monotonic()
        make(folder, args.files)
        print(f"made {args.files} files in {time.monotonic() - start:.0f} s", flush=True)
    files = sum(1 for _ in folder.rglob("*.jpg"))
    env = presets.builtin_env()
    state = work / "state"
    run = ["run", str(folder), "--keep", "Man", "--dry-run", "-q", "--audit-log", str(state / "audit.jsonl")]
    print(f"{files} files; {presets.load()}, numpy {presets.gflops():.0f} GFLOP/s", flush=True)
    seconds, peak = timed(run, env)
    print(f"first run: {seconds:.0f} s, {files / seconds:.0f} files/s, peak {peak} MB", flush=True)
    reruns = []
    for _ in range(args.reruns):
        seconds, peak = timed(run, env)
        reruns.append(seconds)
        print(f"rerun, unchanged: {seconds:.1f} s, peak {peak} MB ({presets.load()})", flush=True)
    db = sum(f.stat().st_size for f in state.glob("state.db*"))
    log = (state / "audit.jsonl").stat().st_size
    print(
        f"reruns: every one under {max(reruns):.1f} s; state.db {db / 1e6:.1f} MB ({db / files:.0f} B/file), "
        f"audit log {log / 1e6:.1f} MB ({log / files:.0f} B/record)",
        flush=True,
    )
    if not args.no_watch:
        seconds, samples = watch_memory(folder, work / "watch" / "state", env)
        rate = files / seconds
        print(f"watch, {files} files moved in 5,000 at a time: {seconds:.0f} s deciding ({rate:.0f} files/s)")
        shown = [samples[round(k * (len(samples) - 1) / 5)] for k in range(6)]
        print("daemon memory (decisions: MB): " + ", ".join(f"{d}: {mb}" for d, mb in shown), flush=True)


if __name__ == "__main__":
    main()
