"""Images per second of ``face-clean run --cluster ray`` with 1 and 2 workers, beside one process.

    python bench/cluster.py [FOLDER] [--home DIR] [--copies N] [--cpus N]

Every run starts with an empty cache (its own --audit-log folder) and is a dry run, so all of
them analyse the same files.  Two figures per setting: the whole command (Ray's start-up and
each worker's model loading included), and the steady rate, (N - 1) / (time for the N-image
folder - time for a folder of one photo with a face), the start-up and model loading taken out: what a long
job sees, and what the README's sizing uses.
The model is the VGG-Face-sized stand-in (bench/vgg_model.py); the default folder is
bench/throughput.py's mix of 640 px to 12-megapixel photos with and without faces.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--home", type=Path, help="DEEPFACE_HOME to use (the model is built there if absent)")
    parser.add_argument("--copies", type=int, default=2, help="copies of the default folder (24 images each)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray instance")
    parser.add_argument("--batch-size", type=int, default=4, help="files per worker call")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-bench-cluster-"))
    _, env = throughput.model_env(args.home or work / "home")
    folder = args.folder or throughput.make_folder(work / "photos", args.copies)
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"{files} images in {folder}; {args.cpus} CPUs", flush=True)

    base = [sys.executable, "-m", "cleaner", "run", str(folder), "--keep", "Man", "--dry-run", "-q"]
    # one photo with a face, so every timed run loads the gender model (a Ray worker always
    # does) and the light model copy is made before the timed runs
    one = work / "warm-up"
    one.mkdir()
    photos = sorted(p for p in folder.rglob("*") if p.is_file())
    first = next((p for p in photos if p.name.startswith("man-")), photos[0])
    (one / first.name).write_bytes(first.read_bytes())
    throughput.timed([*base[:4], str(one), *base[5:], *audit(work / "warm-up-state")], env)
    runs = {
        "one process (no Ray)": [],
        "Ray, 1 worker": ["--workers", "1"],
        "Ray, 2 workers": ["--workers", "2"],
    }
    ray = ["--cluster", "ray", "--local-cpus", str(args.cpus), "--batch-size", str(args.batch_size)]
    print(f"{'':24} {'one image':>10} {'whole run':>10} {'images/s':>9} {'steady images/s':>16}")
    for i, (name, extra) in enumerate(runs.items()):
        options = [*ray, *extra] if extra else []
        alone, _, _ = throughput.timed([*base[:4], str(one), *base[5:], *audit(work / f"one{i}"), *options], env)
        seconds, _, _ = throughput.timed([*base, *audit(work / f"all{i}"), *options], env)
        records = len((work / f"all{i}" / "audit.jsonl").read_text().splitlines())
        assert records == files, f"{name}: {records} records for {files} files"
        steady = (files - 1) / (seconds - alone)
        print(f"{name:24} {alone:9.1f}s {seconds:9.1f}s {files / seconds:9.2f} {steady:16.2f}", flush=True)


def audit(folder: Path) -> list[str]:
    return ["--audit-log", str(folder / "audit.jsonl")]


if __name__ == "__main__":
    main()
