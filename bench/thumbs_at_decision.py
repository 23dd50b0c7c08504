"""What making the review page's thumbnails as photos are decided costs ``run`` (cleaner.pipeline.thumbs).

    python bench/thumbs_at_decision.py [FOLDER] [--copies N]

Two copies of the same folder are swept with ``--keep Woman`` (the labelled men: every photo is moved,
to the quarantine or to review, so every one gets a thumbnail), one as face-clean does it, one with the
thumbnails switched off, side by side in one process after a warm-up (the models loaded once). Prints
the seconds of each and the cost per moved photo. The default folder is ../shared/labelled/Man.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from cleaner.cli import main as cli
from cleaner.pipeline import thumbs


def sweep(folder: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared machine the CPU time is the steadier figure."""
    started, cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(cli, ["run", str(folder), "--keep", "Woman", "-q"], catch_exceptions=False)
    took = time.perf_counter() - started, time.process_time() - cpu
    if result.exit_code not in (0, 1):
        raise SystemExit(result.output)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.path.realpath(Path(__file__).resolve().parents[2] / "shared" / "labelled" / "Man"))
    parser.add_argument("folder", nargs="?", type=Path, default=default)
    parser.add_argument("--copies", type=int, default=2, help="copies of FOLDER's photos in each swept folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="face-clean-bench-thumbs-"))
    photos = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for name in ("warm", "with", "without"):
        for i in range(1 if name == "warm" else args.copies):
            for p in photos[: 2 if name == "warm" else None]:
                (work / name / str(i)).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, work / name / str(i) / p.name)
    sweep(work / "warm")
    made_with = sweep(work / "with")
    moved = thumbs.DecisionThumbs.moved
    thumbs.DecisionThumbs.moved = lambda self, path: None  # type: ignore[method-assign]
    try:
        made_without = sweep(work / "without")
    finally:
        thumbs.DecisionThumbs.moved = moved  # type: ignore[method-assign]
    n = len(photos) * args.copies
    for what, i in (("wall", 0), ("CPU", 1)):
        extra = made_with[i] - made_without[i]
        print(
            f"{n} photos ({args.folder}), every one moved, {what} time: run {made_with[i]:.2f} s with thumbnails, "
            f"{made_without[i]:.2f} s without; {1000 * extra / n:.1f} ms per moved photo "
            f"({100 * extra / made_without[i]:.1f} %)"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
