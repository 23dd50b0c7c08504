"""Uploads built to take a run's time and memory (issue 26, cause 2), timed and measured.

    python bench/hostile_scale.py [--links 4000 8000] [--depth 1400] [--caps 1024 1536]

- ``links``: N hard links of one 1-byte ``.jpg`` (each one a file to decide, all one content);
  the time of ``face-clean run --keep Man`` over them.
- ``depth``: a photo at the bottom of a tree DEPTH folders deep; the time of the run.
- ``caps``: peak RSS (``ru_maxrss`` of the child) of a run over one real photo and each hostile
  upload (an ICO around a 20000x20000 PNG named .jpg, a sparse 8 GB .jpg, a sparse 4 GB .mp4), the
  child's address space capped at each size in MB (RLIMIT_AS, as ``prlimit --as`` sets it), and
  whether the run ended cleanly.

Each run is a new process with the built-in models (bench/presets.py). Run it once with
PYTHONPATH at this tree and once at another commit's to compare, on the same machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import presets

CAPPED = "import resource, sys; c = int(sys.argv.pop(1)); resource.setrlimit(resource.RLIMIT_AS, (c, c)); "
CAPPED += "sys.argv[0] = 'face-clean'; from cleaner.cli import main; main()"


def run(folder: Path, cap_mb: int | None = None) -> tuple[float, int, int]:
    """Seconds, exit code and peak RSS in MB of ``face-clean run --keep Man FOLDER``."""
    cap = [str(cap_mb << 20)] if cap_mb else [str(resource.RLIM_INFINITY)]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CAPPED, *cap, "run", str(folder), "--keep", "Man", "-q"],
        env=presets.builtin_env(),
        cwd=folder.parent,  # not the checkout: PYTHONPATH says which cleaner runs
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, proc.returncode, usage.ru_maxrss >> 10


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def icon_bomb(side: int) -> bytes:
    """An ICO whose directory says 256x256 around a real side x side RGBA PNG (all zeros)."""
    squeeze = zlib.compressobj(9)
    rows = b"".join(squeeze.compress(b"\0" + bytes(4 * side)) for _ in range(side)) + squeeze.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22) + png


def sparse(path: Path, head: bytes, size: int) -> None:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)


def photo(path: Path) -> None:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 300, 3), dtype=np.uint8)).save(path)


JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
MP4_START = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, nargs="*", default=[4000, 8000])
    parser.add_argument("--depth", type=int, default=1400)
    parser.add_argument("--caps", type=int, nargs="*", default=[1024, 1536])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="face-clean-hostile-"))
    print(f"{os.cpu_count()} cores; {presets.load()}; numpy {presets.gflops():.0f} GFLOP/s", flush=True)
    try:
        for n in args.links:
            folder = work / f"links-{n}"
            folder.mkdir()
            (folder / "orig.jpg").write_bytes(b"x")
            for i in range(n):
                os.link(folder / "orig.jpg", folder / f"l{i}.jpg")
            seconds, code, _ = run(folder)
            print(f"{n} hard links of one file: {seconds:.1f} s (exit {code})", flush=True)
        if args.depth:
            folder = work / "deep"
            folder.mkdir()
            fd = os.open(folder, os.O_RDONLY)
            for _ in range(args.depth):
                os.mkdir("d", dir_fd=fd)
                below = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = below
            photo(Path(f"/proc/self/fd/{fd}/bottom.jpg"))
            os.close(fd)
            seconds, code, _ = run(folder)
            print(f"a photo {args.depth} folders deep: {seconds:.1f} s (exit {code})", flush=True)
        uploads = {
            "ICO 256x256 around a 20000x20000 PNG, named .jpg": lambda p: (p / "icon.jpg").write_bytes(
                icon_bomb(20000)
            ),
            "sparse 8 GB .jpg": lambda p: sparse(p / "sparse.jpg", JPEG_START, 8 << 30),
            "sparse 4 GB .mp4": lambda p: sparse(
                p / "clip.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42", 4 << 30
            ),
            "the photo alone": lambda p: None,
        }
        for what, make in uploads.items():
            folder = work / "upload"
            shutil.rmtree(folder, ignore_errors=True)
            photo(folder / "photo.jpg")
            make(folder)
            for cap in args.caps:
                shutil.rmtree(folder / ".face-clean", ignore_errors=True)
                seconds, code, peak = run(folder, cap)
                print(f"{what}, {cap} MB cap: peak RSS {peak} MB, exit {code}, {seconds:.1f} s", flush=True)
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)  # shutil.rmtree recurses: the deep tree


if __name__ == "__main__":
    main()
