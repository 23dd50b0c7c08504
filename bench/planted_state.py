"""Peak memory and time of ``face-clean run`` over a photo folder whose state holds a huge audit log of tiny
records (issue 26: a 300 MB planted log took 10.5 GB and 3 min 46 s before anything was checked).

    python bench/planted_state.py [--mb 300]

Three runs of the same two photos, each a child process measured by ``wait4`` (peak RSS) and the clock:
the folder with no log (the baseline), the folder with its own log of ``--mb`` MB of tiny records (ours,
in a private ``.face-clean``: read one record at a time now), and a group-writable folder (``0777``)
with the same log planted in its ``.face-clean`` (never read: the state lives outside).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import photos
import tiny_models

RECORD = b'{"path": "x.jpg", "root": "/elsewhere", "run_id": "r", "action": "keep"}\n'


def scene(base: Path, name: str, mb: int, mode: int) -> Path:
    root = base / name
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    root.chmod(mode)
    if mb:
        state = root / ".face-clean"
        state.mkdir(mode=0o700)
        block = RECORD * ((1 << 20) // len(RECORD))
        with open(state / "audit.jsonl", "wb") as fh:
            for _ in range(mb):
                fh.write(block)
    return root


def measure(root: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024, time.perf_counter() - start, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=300, help="size of the audit log, in MB of tiny records")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="face-clean-bench-state-"))
    try:
        home = base / "home"
        tiny_models.install(home)
        env = {
            **os.environ,
            "DEEPFACE_HOME": str(home),
            "DEEPFACE_BACKEND_ENGINE": "onnx",
            "FACE_CLEAN_DETECTOR": "opencv",
            "FACE_CLEAN_GENDER_MODEL": "deepface",
            "FACE_CLEAN_AGE_MODEL": "deepface",
            "XDG_STATE_HOME": str(base / "state"),
            "XDG_CONFIG_HOME": str(base / "config"),
        }
        cases = (
            ("no audit log", "plain", 0, 0o755),
            (f"its own {args.mb} MB log", "own", args.mb, 0o755),
            (f"a {args.mb} MB log planted in a group share", "shared", args.mb, 0o777),
        )
        print(f"{os.cpu_count()} cores; {args.mb} MB = {args.mb * (1 << 20) // len(RECORD):,} records")
        for what, name, mb, mode in cases:
            rss, took, code = measure(scene(base, name, mb, mode), env)
            print(f"{what:<45} peak RSS {rss:8.0f} MB   {took:6.1f} s   exit {code}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
