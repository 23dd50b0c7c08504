"""Delay from a file's completion to its decision by ``face-clean watch`` (default settle time).

    python bench/watch_latency.py [--files 200] [--interval 0.1] [--polling] [--home DIR]

Starts the daemon on an empty folder, writes N photos into it one by one (distinct crops of
scikit-image's photos, a quarter of them with a face), notes when each file was
closed, and reads the decision time from the audit log.  Prints median and 95th percentile.
Target: p95 under 3 s.  ``--home`` takes a DEEPFACE_HOME with a real-size model (see
bench/vgg_model.py); the default is the tests' tiny one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import MEASURED_MODELS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two files")
    parser.add_argument("--polling", action="store_true")
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-latency-"))
    home = args.home
    if home is None:
        import tiny_models

        home = work / "home"
        tiny_models.install(home)
    from skimage import data

    staging, root = work / "staging", work / "photos"
    staging.mkdir()
    root.mkdir()
    rng = np.random.default_rng(0)
    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    payloads = []
    for i in range(args.files):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        y, x = rng.integers(0, h // 10), rng.integers(0, w // 10)  # a distinct crop of a real photo
        img = np.ascontiguousarray(src[y : y + h * 9 // 10, x : x + w * 9 // 10])
        path = staging / f"{i:04d}.jpg"
        Image.fromarray(img).save(path, quality=85)
        payloads.append(path.read_bytes())

    env = {**os.environ, "DEEPFACE_HOME": str(home), "DEEPFACE_BACKEND_ENGINE": "onnx", **MEASURED_MODELS}
    cmd = [sys.executable, "-m", "cleaner", "watch", str(root), "--keep", "all", "-q"]
    daemon = subprocess.Popen([*cmd, *(["--polling"] if args.polling else [])], env=env)
    heartbeat = root / ".face-clean" / "heartbeat"
    while not heartbeat.exists():
        time.sleep(0.1)
    # warm up: the first file loads the models
    (root / "warmup.jpg").write_bytes(payloads[0])
    log = root / ".face-clean" / "audit.jsonl"
    while not log.exists() or not log.read_text():
        time.sleep(0.1)

    done: dict[str, float] = {}
    for i, payload in enumerate(payloads):
        name = f"{i:04d}.jpg"
        with open(root / name, "wb") as fh:
            fh.write(payload)
        done[name] = time.time()
        time.sleep(args.interval)
    deadline = time.time() + 120
    decided: dict[str, float] = {}
    while len(decided) < len(done) and time.time() < deadline:
        for line in log.read_text().splitlines():
            r = json.loads(line)
            decided[r["path"]] = datetime.fromisoformat(r["time"]).timestamp()
        decided.pop("warmup.jpg", None)
        time.sleep(0.5)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    delays = sorted(decided[n] - t for n, t in done.items() if n in decided)
    p95 = delays[int(0.95 * (len(delays) - 1))]
    mode = "polling" if args.polling else "inotify"
    print(
        f"{mode}: {len(delays)}/{len(done)} files decided; completion -> decision: "
        f"median {statistics.median(delays):.2f} s, p95 {p95:.2f} s, max {delays[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
