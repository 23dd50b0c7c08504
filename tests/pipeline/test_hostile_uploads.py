"""Uploads built to take the memory a run has: under the address-space cap of a 1 GB container,
``face-clean run`` records each with its reason and decides the real photo beside it.

The caps are set with RLIMIT_AS in the child (``prlimit --as`` does the same): a process that
would need more gets MemoryError, which the run must never meet, since the size of every upload
is known from its header or its ``stat`` before anything is decoded or read whole.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
from pathlib import Path

import hostile
import photos
import pytest

CAPS = (1 << 30, 3 << 29)  # the 1 GB and 1.5 GB containers of the issue
SCRIPT = """
import resource, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from cleaner.cli import main
sys.argv = ["face-clean", *sys.argv[2:]]
main()
"""


def icon(frame: bytes, kind: int = 1) -> bytes:
    """An icon file (1: ICO, 2: CUR) whose one-entry directory says 256x256 around ``frame``."""
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(frame), 22)
    return struct.pack("<HHH", 0, kind, 1) + entry + frame


def sparse(path: Path, head: bytes, size: int) -> Path:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)  # holes: no disk taken, but gigabytes to whoever reads it whole
    return path


def capped_run(root: Path, cap: int) -> tuple[subprocess.CompletedProcess[str], dict[str, dict], int]:
    """``face-clean run --keep Man`` under ``cap`` bytes of address space; its records and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cap), "run", str(root), "--keep", "Man"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB: the largest child so far
    log = root / ".face-clean" / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    records = {r["path"]: r for r in map(json.loads, lines)}
    return proc, records, max(peak, before)


@pytest.mark.parametrize("cap", CAPS, ids=["1GB", "1.5GB"])
def test_uploads_that_would_take_the_memory_are_refused_from_their_size(tmp_path: Path, cap: int):
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg")
    # an ICO named .jpg whose directory says 256x256, around a PNG of 20000x20000 RGBA
    (root / "icon.jpg").write_bytes(icon(hostile.png_bomb(20_000, 20_000)))
    # a cursor around one within max_pixels (144 MP) but not within the memory budget
    (root / "cursor.jpg").write_bytes(icon(hostile.png_bomb(12_000, 12_000), kind=2))
    sparse(root / "sparse.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", 8 << 30)  # a JPEG's start, then 8 GB of holes
    sparse(root / "clip.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", 1 << 30)

    proc, records, _ = capped_run(root, cap)

    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 1, proc.stderr[-3000:]  # done; some files could not be read
    assert records["man.jpg"]["faces"][0]["dominant_gender"] == "Man"
    assert records["icon.jpg"]["status"] == "unreadable"
    assert records["icon.jpg"]["error"].startswith("image too large: it holds an image of 20000x20000")
    assert records["cursor.jpg"]["status"] == "skipped"
    assert "over the memory budget" in records["cursor.jpg"]["error"]
    assert records["sparse.jpg"]["status"] == "skipped"
    assert records["sparse.jpg"]["error"].startswith("a 8192 MB file, over the memory budget")
    assert records["clip.mp4"]["status"] == "skipped" and "video" in records["clip.mp4"]["error"]
    assert all(not r["moved"] for r in records.values())
    assert sorted(p.name for p in root.iterdir() if p.name != ".face-clean") == sorted(records)


def chained_tiff(pages: int) -> bytes:
    """A 1x1 grey TIFF whose page is repeated ``pages`` times, each IFD pointing at the next: 114
    bytes a page, so a few megabytes hold tens of thousands."""
    size = 2 + 9 * 12 + 4
    pixel = 8 + pages * size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    tags = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1)]
    tags += [(273, 4, 1, pixel), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    entries = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags)
    for i in range(pages):
        out += entries + struct.pack("<I", 8 + (i + 1) * size if i < pages - 1 else 0)
    return bytes(out + b"\x80")


def test_a_tiff_of_countless_pages_is_counted_only_so_far():
    """Pillow's n_frames walked all 20,000 pages of this 2 MB file (17 s); 3 million fit the budget."""
    from cleaner.analysis.decode import decode

    decoded = decode(chained_tiff(20_000), max_pixels=10**8)
    assert decoded.notes == ("first of 1000 or more frames analysed",)
    assert decode(chained_tiff(3), max_pixels=10**8).notes == ("first of 3 frames analysed",)
