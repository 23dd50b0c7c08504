"""``face-clean watch`` under a steady stream of photos, or a burst: rate kept, delay, backlog, memory.

    python bench/watch_latency.py LABELLED [--rate 10] [--seconds 60] [--burst N] [--busy K]
                                           [--home DIR] [--polling] [--keep-state]

Starts the daemon on an empty folder (built-in models unless ``--home`` gives a DEEPFACE_HOME
with DeepFace's gender model), then writes typical photos into it (bench/presets.py's typical
preset from the labelled folder, each one made distinct by one pixel so nothing is answered from
the cache) on a fixed schedule of ``--rate`` per second for ``--seconds``, or ``--burst`` of them
at once.  Reads each decision's time from the audit log and prints: the rate the daemon kept, the
delay from a file's completion to its decision (median, p95, max), the largest backlog (files
written, not yet decided), and the daemon's memory.  ``--busy K`` runs K processes that keep a
core busy meanwhile, as another program on a NAS would.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import presets


def payloads(labelled: Path, n: int) -> list[bytes]:
    sources = presets.typical_sources(labelled)
    out = []
    for i in range(n):
        img = sources[i % len(sources)][1].copy()
        img.putpixel((0, 0), (i % 251, (i // 251) % 251, 7))  # distinct bytes, the same photo
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def spin() -> None:
    while True:
        pass


def decisions(log: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            r = json.loads(line)
            found[r["path"]] = datetime.fromisoformat(r["time"]).timestamp()
    return found


def memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labelled", type=Path, help="the labelled photos (../shared/labelled/)")
    parser.add_argument("--rate", type=float, default=10.0, help="photos per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=0, help="write this many at once instead")
    parser.add_argument("--busy", type=int, default=0, help="processes keeping a core busy meanwhile")
    parser.add_argument("--polling", action="store_true")
    parser.add_argument("--keep", default="Man", help="the rule (default Man: the others are moved to quarantine)")
    parser.add_argument("--home", type=Path, help="DEEPFACE_HOME with DeepFace's gender model (default: built-in)")
    args = parser.parse_args()

    count = args.burst or int(args.rate * args.seconds)
    data = payloads(args.labelled, count + 1)
    work = Path(tempfile.mkdtemp(prefix="face-clean-latency-"))
    root = work / "photos"
    root.mkdir()
    env = {**os.environ, "DEEPFACE_LOG_LEVEL": "40"}
    if args.home:
        env.update(DEEPFACE_HOME=str(args.home), DEEPFACE_BACKEND_ENGINE="onnx", FACE_CLEAN_GENDER_MODEL="deepface")
    cmd = [sys.executable, "-m", "cleaner", "watch", str(root), "--keep", args.keep, "-q"]
    daemon = subprocess.Popen([*cmd, *(["--polling"] if args.polling else [])], env=env)
    log = root / ".face-clean" / "audit.jsonl"
    while not (root / ".face-clean" / "heartbeat").exists():
        time.sleep(0.1)
    (root / "warmup.jpg").write_bytes(data[-1])  # the first file: models warm
    while "warmup.jpg" not in decisions(log):
        time.sleep(0.1)
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for p in busy:
        p.start()
    print(f"{presets.load()}, numpy {presets.gflops():.0f} GFLOP/s; {count} photos", flush=True)

    done: dict[str, float] = {}
    backlog, start = 0, time.time()
    for i, payload in enumerate(data[:count]):
        due = start + (0 if args.burst else i / args.rate)
        while time.time() < due:
            time.sleep(max(0.0, min(0.01, due - time.time())))  # the clock moves between the two reads
        name = f"{i:05d}.jpg"
        with open(root / name, "wb") as fh:
            fh.write(payload)
        done[name] = time.time()
        if i % 20 == 0:
            backlog = max(backlog, len(done) - len(decisions(log)) + 1)
    written = time.time() - start
    deadline = time.time() + max(120.0, count / 2)
    decided = decisions(log)
    while len(decided) < len(done) + 1 and time.time() < deadline:
        backlog = max(backlog, len(done) - len(decided) + 1)
        time.sleep(0.5)
        decided = decisions(log)
    for p in busy:
        p.kill()
    mem = memory(daemon.pid)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)
    delays = sorted(decided[n] - t for n, t in done.items() if n in decided)
    times = sorted(decided[n] for n in done if n in decided)
    p95 = delays[int(0.95 * (len(delays) - 1))]
    kept = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    mode = "polling" if args.polling else "inotify"
    print(
        f"{mode}: {len(delays)}/{len(done)} decided; written at {len(done) / written:.1f}/s, decided at {kept:.1f}/s; "
        f"completion -> decision: median {statistics.median(delays):.2f} s, p95 {p95:.2f} s, max {delays[-1]:.2f} s; "
        f"largest backlog {backlog}; daemon memory {mem.get('VmRSS')} MB (peak {mem.get('VmHWM')} MB)"
    )


if __name__ == "__main__":
    main()
