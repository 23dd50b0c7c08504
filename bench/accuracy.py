"""What the policies do on labelled photos, today's main against this tree, side by side.

    python bench/accuracy.py --baseline /work/main --labels ../shared/labelled-wild/meta.csv
    python bench/accuracy.py --baseline /work/main --labels ../shared/labelled/labels.csv

Each tree's code analyses every labelled photo (its own process, ``PYTHONPATH`` set to the tree;
the photos are copied to a temporary folder first: the shared folder may be reached through a link,
which face-clean never follows).  Then, in this process, each analysis is decided by this tree's
rules engine: the baseline with the ``cannot_tell`` checks off (what today's main decides: its
engine is this one without them), this tree with its defaults.  Printed, for each: placed right /
silently misplaced / sent to review under ``--keep Man`` and ``--keep Woman``; the annotated faces
found (``face_box_xywh`` of meta.csv, IoU >= 0.3, single-face WIDER photos); the no-face photos with
a counted face; the risk-coverage table (cleaner.eval.risk).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ANALYSE = """
import csv, json, sys
from dataclasses import asdict
from pathlib import Path
from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
root = Path(sys.argv[1]).parent
batch = BatchAnalyzer(FaceAnalyzer(attributes=frozenset({"gender", "age"})))
with open(sys.argv[2], "w") as out:
    for row, a in zip(rows, batch.analyze_many([root / r["path"] for r in rows])):
        faces = [asdict(f) for f in a.faces]
        near = [asdict(f) for f in getattr(a, "near_misses", ())]
        out.write(json.dumps({"path": row["path"], "status": a.status.value, "faces": faces, "near": near}) + "\\n")
"""


def analyse(tree: Path, labels: Path, out: Path) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # run in the tree itself: ``python -c`` puts the working folder first on the path
    subprocess.run([sys.executable, "-c", ANALYSE, str(labels), str(out)], env=env, check=True, cwd=tree)
    return [json.loads(line) for line in out.read_text().splitlines()]


def rebuild(d: dict):
    from cleaner.records import Box, Face, ImageAnalysis, Status

    def face(f: dict) -> Face:
        known = {k: v for k, v in f.items() if k in Face.__dataclass_fields__}
        return Face(**{**known, "box": Box(**f["box"])})

    return ImageAnalysis(
        Path(d["path"]),
        0,
        None,
        Status(d["status"]),
        faces=tuple(map(face, d["faces"])),
        near_misses=tuple(map(face, d["near"])),
    )


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def found_in(r: dict, faces: tuple) -> bool:
    box = tuple(map(float, r["face_box_xywh"].split()))
    return any(iou(box, (f.box.x, f.box.y, f.box.w, f.box.h)) >= 0.3 for f in faces)


def report(name: str, rows: list[dict], analyses: list, doubts: bool) -> None:
    from cleaner.eval import risk
    from cleaner.rules import loading
    from cleaner.rules.model import CannotTell

    base = loading.load(None, keep="Man")
    if not doubts:
        base = replace(base, cannot_tell=CannotTell(near_miss=False, small_faces=0, child_age=0))
    pairs = list(zip(rows, analyses, strict=True))
    print(f"== {name}")
    for policy in risk.POLICIES:
        rs = risk.policy_rules(base, policy, 0.8)
        got = [risk.outcome(rs, policy, r["label"], a) for r, a in pairs]
        n = len(got)
        shares = [f"{o} {got.count(o)}/{n} ({100 * got.count(o) / n:.1f} %)" for o in risk.OUTCOMES]
        print(f"  --keep {policy:<6} " + "   ".join(shares))
    single = [(r, a) for r, a in pairs if r.get("face_box_xywh") and "single" in r.get("dataset", "")]
    if single:
        found = sum(found_in(r, a.faces) for r, a in single)
        near = sum(found_in(r, a.near_misses) and not found_in(r, a.faces) for r, a in single)
        share = 100 * found / len(single)
        print(f"  annotated single faces found: {found}/{len(single)} ({share:.1f} %); as a near miss only: {near}")
    noface = [a for r, a in pairs if r["label"] == "none"]
    false = sum(any(f.box.size >= base.min_face_size for f in a.faces) for a in noface)
    print(f"  no-face photos with a counted face (>= {base.min_face_size} px): {false}/{len(noface)}")
    labelled = [(r["label"], tuple((k, r[k]) for k in ("age", "dataset") if r.get(k)), a) for r, a in pairs]
    print("\n".join("  " + line for line in risk.render(risk.table(base, labelled)).splitlines()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of today's main")
    parser.add_argument("--labels", type=Path, required=True, help="labels.csv or meta.csv of a labelled set")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "set"
        shutil.copytree(args.labels.resolve().parent, copy, symlinks=False)
        labels = copy / args.labels.name
        rows = list(csv.DictReader(open(labels, encoding="utf-8")))
        sys.path.insert(0, str(here))
        for name, tree, doubts in (("today's main", args.baseline, False), ("this tree", here, True)):
            analyses = [rebuild(d) for d in analyse(tree, labels, Path(tmp) / "out.jsonl")]
            report(f"{name} ({tree})", rows, analyses, doubts)


if __name__ == "__main__":
    main()
