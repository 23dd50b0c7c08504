"""A second ``face-clean run`` over an unchanged folder of 10,000 files: nothing decoded again.

    python bench/second_run.py [--files N] [--home DIR]

Makes N small, distinct JPEGs (noise, so no face and no model call in the first run), runs
``face-clean run --keep Man --dry-run`` once to fill the cache, then times a second run with the
same rules (every file is decided already: nothing to do but find that out) and a third with
other rules (``--keep Woman``: every file decided again, each answered from the state database
without being read; a noise image has no face under either rules, so its outcome is the same and it
gets no new audit record).  Target: under 10 s for 10,000 files, for either.  Each line also gives
the size of the audit log after the run: a rerun should not grow it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import MEASURED_MODELS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--home", type=Path, help="DEEPFACE_HOME holding a gender model (default: a tiny one)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-second-run-"))
    home = args.home
    if home is None:
        import tiny_models

        home = work / "home"
        tiny_models.install(home)
    folder = work / "photos"
    rng = np.random.default_rng(0)
    for i in range(args.files):
        sub = folder / f"{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(sub / f"{i:05d}.jpg", quality=80)
    env = {**os.environ, "DEEPFACE_HOME": str(home), "DEEPFACE_BACKEND_ENGINE": "onnx", **MEASURED_MODELS}
    cmd = [sys.executable, "-m", "cleaner", "run", str(folder), "--dry-run", "-q", "--keep"]
    runs = [("first run", "Man"), ("second run, same rules", "Man"), ("third run, other rules", "Woman")]
    for label, keep in runs:
        start = time.monotonic()
        subprocess.run([*cmd, keep], env=env, check=True)
        size = (folder / ".face-clean" / "audit.jsonl").stat().st_size
        print(f"{label}: {args.files} files in {time.monotonic() - start:.1f} s; audit log {size:,} bytes", flush=True)


if __name__ == "__main__":
    main()
