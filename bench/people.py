"""People: how well faces group into persons, and how many clicks a person needs, against photo by photo.

    python bench/people.py LFW_IMAGES [--strangers ../shared/labelled] [--thresholds 0.4,0.45,0.5,0.55,0.6]

LFW_IMAGES: a folder of LFW identities, one folder each (``Name/Name_0001.jpg``; e.g. the 10 identities x
10 photos in krasserm/face-recognition's ``images/``, Apache-2.0 repository, LFW photos); strangers: one
photo each of other people (the senators' portraits of ../shared/labelled, one per person; the photos
of people seen twice there are left out). All are men in LFW, so genders come from ``--genders`` (Man
for LFW) and from ../shared/labelled's labels.csv.

Every photo is analysed as ``run`` does (BatchAnalyzer: detector and gender model), its largest face
is described by dlib's ResNet (cleaner.analysis.embedding) and grouped incrementally in file order
(cleaner.pipeline.people.grouping: nearest centroid under the threshold, else a new person), once per
threshold. Printed, one JSON line each: cost per face (the descriptor alone) and per photo (read, decode
and describe, as the job does it), then per threshold: purity (faces in their cluster's majority
identity), merged (clusters holding more than one identity; identities in such a cluster), split (LFW
identities over more than one cluster), and clicks: photo by photo, a person needs one click per photo
to place 99 % right; by people, one verdict per person (man/woman as the majority of that person),
then taking wrongly placed faces out (a click per face plus one to take out and one verdict) only
while fewer than 99 % of photos are right. A baseline descriptor (the aligned chip's 16x8 grey
pixels) shows what a descriptor not trained on identities gives.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def gflops() -> float:
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    start = time.perf_counter()
    for _ in range(5):
        a @ a
    return 5 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9


def photos(lfw: Path, strangers: Path) -> list[tuple[Path, str, str]]:
    """(photo, identity, gender) for each photo: LFW's identities, then one photo per stranger."""
    out = [(p, p.parent.name, "Man") for p in sorted(lfw.glob("*/*.jpg"))]
    with (strangers / "labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["label"] in ("Man", "Woman") and "senate_" in row["path"]:
                out.append((strangers / row["path"], "stranger:" + Path(row["path"]).stem, row["label"]))
    return out


def cluster(vectors: list[np.ndarray], threshold: float) -> list[int]:
    """Incremental grouping as the job does it, in a state database of its own."""
    from cleaner.pipeline.people.grouping import Grouper
    from cleaner.records import Box
    from cleaner.store.db import StateDB

    with tempfile.TemporaryDirectory() as tmp, StateDB(Path(tmp) / "state.db") as state:
        g = Grouper(state, None, threshold=threshold)
        people = []
        for i, v in enumerate(vectors):
            person = g._nearest(v)
            state.add_face(f"{i:064x}", 0, "bench", Box(0, 0, 1, 1), v, None, person)
            people.append(state.faces_of(f"{i:064x}")[0].person)
    return people


def scores(people: list[int], identities: list[str], genders: list[str]) -> dict[str, object]:
    n = len(people)
    members: dict[int, list[int]] = {}
    for i, p in enumerate(people):
        members.setdefault(p, []).append(i)
    majority = {p: Counter(identities[i] for i in m).most_common(1)[0] for p, m in members.items()}
    purity = sum(c for _, c in majority.values()) / n
    mixed = [p for p, m in members.items() if len({identities[i] for i in m}) > 1]
    merged_identities = {identities[i] for p in mixed for i in members[p]}
    lfw = {x for x in identities if not x.startswith("stranger:")}
    split = sum(1 for x in lfw if len({people[i] for i in range(n) if identities[i] == x}) > 1)
    # clicks by people: one verdict per person, largest first, as the majority gender of that person
    need = math.ceil(0.99 * n)
    right, clicks, fixes = 0, 0, []
    for _, m in sorted(members.items(), key=lambda kv: -len(kv[1])):
        gender = Counter(genders[i] for i in m).most_common(1)[0][0]
        wrong = [i for i in m if genders[i] != gender]
        clicks += 1
        right += len(m) - len(wrong)
        if wrong:
            fixes.append(len(wrong))
        if right >= need:
            break
    for k in sorted(fixes, reverse=True):  # take the wrongly placed faces out: k picks, take out, a verdict
        if right >= need:
            break
        clicks += k + 2
        right += k
    return {
        "people": len(members),
        "purity": round(purity, 4),
        "mixed_clusters": len(mixed),
        "identities_merged": len(merged_identities),
        "lfw_identities_split": split,
        "clicks_by_people": clicks,
        "clicks_photo_by_photo": need,
        "right_after": round(right / n, 4),
    }


def analysed(files: list[Path]) -> tuple[list[object], float]:
    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.rules.model_choice import default_detector, default_model

    a = FaceAnalyzer(detector=default_detector(), gender_model=default_model("gender"))
    a.load()
    start = time.perf_counter()
    results = list(BatchAnalyzer(a).analyze_many(files))  # type: ignore[arg-type]
    return results, time.perf_counter() - start


def pixels(embedder: object, data: bytes, box: object) -> np.ndarray:
    """The baseline: the aligned chip as 16x8 grey pixels (128 numbers, as the descriptor), normalised."""
    import cv2
    import dlib

    from cleaner.analysis.decode import decode
    from cleaner.analysis.face_crops import FaceView

    view = FaceView(decode(data, 200_000_000).bgr, box, None, "")  # type: ignore[arg-type]
    b = view.box
    m = max(b.w, b.h)
    rgb, ox, oy = view.rgb(b.x - m, b.y - m, b.x + b.w + m, b.y + b.h + m)
    shape = embedder._landmarks(rgb, dlib.rectangle(b.x - ox, b.y - oy, b.x + b.w - 1 - ox, b.y + b.h - 1 - oy))  # type: ignore[attr-defined]
    grey = cv2.cvtColor(dlib.get_face_chip(rgb, shape, 150, 0.25), cv2.COLOR_RGB2GRAY)
    v = cv2.resize(grey, (8, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    v = (v - v.mean()) / (v.std() + 1e-6)
    return (v / np.linalg.norm(v)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lfw", type=Path)
    parser.add_argument("--strangers", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "labelled")
    parser.add_argument("--thresholds", default="0.4,0.45,0.5,0.55,0.6")
    args = parser.parse_args()
    from cleaner.analysis.embedding import Embedder

    listed = photos(args.lfw.resolve(), args.strangers.resolve())  # face-clean follows no link: nor here
    print(
        json.dumps(
            {"machine": {"cores": len(__import__("os").sched_getaffinity(0)), "numpy_gflops": round(gflops(), 1)}}
        )
    )
    results, analyse_s = analysed([p for p, _, _ in listed])
    embedder = Embedder()
    vectors, base, identities, genders, face_s, photo_s, missed = [], [], [], [], [], [], 0
    for (path, identity, gender), r in zip(listed, results, strict=True):
        if not r.faces:  # type: ignore[attr-defined]
            missed += 1
            continue
        face = max(r.faces, key=lambda f: f.box.w * f.box.h)  # type: ignore[attr-defined]
        data = path.read_bytes()
        start = time.perf_counter()
        vectors.append(embedder.embed_bytes(data, [face.box], 200_000_000)[0])  # read bytes in hand: decode + describe
        photo_s.append(time.perf_counter() - start)
        from cleaner.analysis.decode import decode

        bgr = decode(data, 200_000_000).bgr
        start = time.perf_counter()
        embedder.embed(bgr, [face.box])
        face_s.append(time.perf_counter() - start)
        base.append(pixels(embedder, data, face.box))
        identities.append(identity)
        genders.append(gender)
    lfw = sum(1 for x in identities if not x.startswith("stranger:"))
    print(
        json.dumps(
            {
                "photos": len(listed),
                "no_face_found": missed,
                "faces": len(vectors),
                "lfw_faces": lfw,
                "lfw_identities": len({x for x in identities if not x.startswith("stranger:")}),
                "strangers": len(vectors) - lfw,
                "analysis_ms_per_photo": round(1000 * analyse_s / len(listed), 1),
                "descriptor_ms_per_face": round(1000 * statistics.median(face_s), 1),
                "decode_and_descriptor_ms_per_photo": round(1000 * statistics.median(photo_s), 1),
            }
        )
    )
    for t in [float(x) for x in args.thresholds.split(",")]:
        people = cluster(vectors, t)
        print(json.dumps({"descriptor": "dlib-resnet", "threshold": t, **scores(people, identities, genders)}))
        lfw = [i for i, x in enumerate(identities) if not x.startswith("stranger:")]  # the 10 identities alone
        only = scores([people[i] for i in lfw], [identities[i] for i in lfw], [genders[i] for i in lfw])
        print(json.dumps({"descriptor": "dlib-resnet", "threshold": t, "lfw_only": only}))
    for t in (0.2, 0.3, 0.4):
        print(
            json.dumps({"descriptor": "pixels-16x8", "threshold": t, **scores(cluster(base, t), identities, genders)})
        )


if __name__ == "__main__":
    main()
