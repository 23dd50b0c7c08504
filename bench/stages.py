"""Each stage of face-clean's analysis alone, then all of them together, in one process.

    python bench/stages.py FOLDER [--repeat N]

Models as a run chooses them (the environment's FACE_CLEAN_* and DEEPFACE_* variables), loaded
before any timing.  Prints one JSON line per measurement:

* ``prepare``: read, decode, detect and cut the faces out (everything before the models), on
  the pipeline's own worker threads; the best of one and two workers is the decode+detect bound;
* ``model``: the gender (and age) models alone on those faces, in the pipeline's batches;
* ``pipeline``: ``BatchAnalyzer.analyze_many`` over the folder (what ``run`` does, without
  decisions, audit log or state), with each stage's busy and idle seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def analyzer() -> object:
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.rules.model_choice import default_detector, default_model

    a = FaceAnalyzer(detector=default_detector(), gender_model=default_model("gender"))
    a.load()
    return a


def prepare_alone(batch: object, files: list[Path], workers: int) -> tuple[float, list[object]]:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        prepared = list(pool.map(batch._prepare, files))  # type: ignore[attr-defined]
    return time.perf_counter() - start, prepared


def model_alone(batch: object, prepared: list[object]) -> float:
    """The models on every face found, in calls of the size the pipeline's tuning picks."""
    with_faces = [p for p in prepared if p.crops]  # type: ignore[attr-defined]
    start = time.perf_counter()
    batch._predict(with_faces)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="decode/detect worker counts to time the prepare stage with")
    args = parser.parse_args()
    from cleaner.analysis.batch import BatchAnalyzer

    files = sorted(p for p in args.folder.rglob("*") if p.is_file())
    a = analyzer()
    for _ in range(args.repeat):
        for workers in [int(w) for w in args.workers.split(",")]:
            batch = BatchAnalyzer(a, workers=workers)  # type: ignore[arg-type]
            seconds, prepared = prepare_alone(batch, files, workers)
            faces = sum(len(p.crops) for p in prepared)  # type: ignore[attr-defined]
            out = {"stage": "prepare", "workers": workers, "seconds": seconds, "images": len(files), "faces": faces}
            print(json.dumps(out), flush=True)
        seconds = model_alone(batch, prepared)
        out = {"stage": "model", "seconds": seconds, "faces": faces, "tuning": batch.tuning.describe()}
        print(json.dumps(out), flush=True)
        batch = BatchAnalyzer(a)  # type: ignore[arg-type]
        start = time.perf_counter()
        results = list(batch.analyze_many(files))
        seconds = time.perf_counter() - start
        found = sum(len(r.faces) for r in results)
        out = {"stage": "pipeline", "seconds": seconds, "images": len(files), "faces": found}
        print(json.dumps({**out, **batch.stats.as_dict(), "tuning": batch.tuning.describe()}), flush=True)
    print(json.dumps({"threads": os.environ.get("OMP_NUM_THREADS")}), flush=True)


if __name__ == "__main__":
    main()
