"""Reruns of ``face-clean run`` over an unchanged folder of 10,000 files: nothing decoded again.

    python bench/second_run.py [--files N] [--reruns 5]

Makes N small, distinct JPEGs (noise, so no face), runs ``face-clean run --keep Man --dry-run``
once to fill the cache (built-in models), then times ``--reruns`` runs with the same rules (every
file is decided already: nothing to do but find that out), each in a new process, and one with
other rules (``--keep Woman``: every file decided again, each answered from the state database
without being read; a noise image has no face under either rules, so its outcome is the same and it
gets no new audit record).  Target: under 10 s for 10,000 files, in every run.  Each line also gives
the size of the audit log after the run: a rerun should not grow it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import presets
import scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-second-run-"))
    folder = work / "photos"
    scale.make(folder, args.files)
    env = presets.builtin_env()
    cmd = [sys.executable, "-m", "cleaner", "run", str(folder), "--dry-run", "-q", "--keep"]
    print(f"{args.files} files; {presets.load()}, numpy {presets.gflops():.0f} GFLOP/s", flush=True)
    runs = [("first run", "Man")] + [("second run, same rules", "Man")] * args.reruns
    seconds = []
    for label, keep in [*runs, ("other rules", "Woman")]:
        start = time.monotonic()
        subprocess.run([*cmd, keep], env=env, check=True)
        seconds.append(time.monotonic() - start)
        size = (folder / ".face-clean" / "audit.jsonl").stat().st_size
        shown = f"{args.files} files in {seconds[-1]:.1f} s; audit log {size:,} bytes ({presets.load()})"
        print(f"{label}: {shown}", flush=True)
    print(f"every rerun with the same rules: {min(seconds[1:-1]):.1f} to {max(seconds[1:-1]):.1f} s")


if __name__ == "__main__":
    main()
