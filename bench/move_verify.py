"""What verifying a move costs on one filesystem: ``move_file`` (descriptor-based, the linked file's
sha256 compared with the analysed one) against a bare ``link`` + ``unlink`` of the same files.

    python bench/move_verify.py [N] [MB]      # default 300 files of 4 MB, in a temporary folder

Both are timed side by side in one run, alternating, over files whose bytes are in the page cache
(as right after their analysis): the figure is the hashing's share, not the disk's.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from cleaner.fs.move import move_file


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    size = int(float(sys.argv[2]) * 2**20) if len(sys.argv) > 2 else 4 << 20
    with tempfile.TemporaryDirectory(prefix="face-clean-bench-") as tmp:
        src, dst = Path(tmp) / "photos", Path(tmp) / "quarantine"
        src.mkdir()
        digests = {}
        for i in range(n):
            data = os.urandom(size)
            (src / f"{i:05d}.jpg").write_bytes(data)
            digests[f"{i:05d}.jpg"] = hashlib.sha256(data).hexdigest()
        timings = {"bare link + unlink": 0.0, "move_file (verified)": 0.0}
        for i, name in enumerate(sorted(digests)):
            target = dst / ("bare" if i % 2 else "verified") / name
            start = time.perf_counter()
            if i % 2:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(src / name, target)
                os.unlink(src / name)
                timings["bare link + unlink"] += time.perf_counter() - start
            else:
                move_file(src / name, target, digests[name], src_base=src, dst_base=dst)
                timings["move_file (verified)"] += time.perf_counter() - start
        half = n / 2
        for what, seconds in timings.items():
            print(f"{what:22} {1000 * seconds / half:7.2f} ms per {size >> 20} MB file ({half:.0f} files)")


if __name__ == "__main__":
    main()
