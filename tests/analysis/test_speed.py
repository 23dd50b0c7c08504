"""What the speed work must not change, and the settings it chooses by measuring.

* The lean detection (cleaner.analysis.fast_detect) finds exactly the boxes and eyes DeepFace's own
  ``detect_faces`` finds (yunet run directly: at least its faces, in the same places); several
  workers, each with its own detector, give the same analyses as one (two threads in DeepFace's
  shared YuNet crashed the process).
* The tuner (cleaner.analysis.tuning) settles on the fastest setting and follows a change of load; what it
  learnt is kept in state.db for the next run, and a planted value cannot break a run.
* FACE_CLEAN_DEVICE: a GPU asked for where there is none runs on the CPU, saying why.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import photos
import pytest
from ci import unavailable
from conftest import audit_records
from test_builtin import SENATORS, fresh_env

from cleaner.analysis.tuning import Tuner


def real_photos(root: Path) -> list[Path]:
    """The committed senator portraits, the astronaut, a pair and a photo without a face, at 800 px or less."""
    root.mkdir(parents=True, exist_ok=True)
    for p in sorted(SENATORS.glob("*.jpg")):
        shutil.copy2(p, root / p.name)
    photos.save(photos.astronaut(), root / "astronaut.jpg", quality=92)
    photos.save(photos.two_faces(), root / "pair.jpg", quality=92)
    photos.save(photos.data.rocket(), root / "rocket.jpg", quality=92)
    return sorted(root.iterdir())


@pytest.mark.parametrize("detector", ["yunet", "opencv"])
def test_lean_detection_finds_what_deepface_finds(tmp_path: Path, detector: str):
    from deepface.modules import detection

    from cleaner.analysis.builtin_models import use_yunet_threshold
    from cleaner.analysis.downloads import forbid_downloads
    from cleaner.analysis.fast_detect import Detectors

    use_yunet_threshold()
    forbid_downloads()
    lean, found = Detectors(detector), 0
    for path in real_photos(tmp_path):
        img = cv2.imread(str(path))
        faces = detection.detect_faces(detector_backend=detector, img=img, align=True)
        theirs = sorted(((repr(f.facial_area), f.img) for f in faces), key=lambda t: t[0])
        ours, weak = lean.detect(img, aligned=False)
        assert weak == []  # near misses are yunet's own (cleaner.analysis.yunet), never DeepFace's
        # the same faces (opencv's cascade may list them in another order from one call to the next)
        assert sorted(repr(f.area) for f in ours) == [area for area, _ in theirs], path.name
        assert all(f.img is None for f in ours)  # no rotation paid for
        aligned = sorted(((repr(f.area), f.img) for f in lean.detect(img, aligned=True)[0]), key=lambda t: t[0])
        assert [a for a, _ in aligned] == [a for a, _ in theirs], path.name
        assert all(np.array_equal(mine, deepface) for (_, mine), (_, deepface) in zip(aligned, theirs, strict=True))
        found += len(ours)
    assert found >= 10  # the portraits' faces, the astronaut's, the pair's


def test_yunet_on_its_own_finds_every_face_deepface_finds(tmp_path: Path):
    """OpenCV's YuNet run directly (no border, no shrink to 640 px) finds at least the faces DeepFace's
    YuNet finds on the same photos, each in about the same place."""
    from deepface.modules import detection

    from cleaner.analysis.builtin_models import YUNET, use_yunet_threshold
    from cleaner.analysis.downloads import forbid_downloads
    from cleaner.analysis.fast_detect import Detectors

    use_yunet_threshold()
    forbid_downloads()
    direct, found = Detectors("yunet", YUNET.path), 0
    for path in real_photos(tmp_path):
        img = cv2.imread(str(path))
        theirs = [f.facial_area for f in detection.detect_faces(detector_backend="yunet", img=img, align=False)]
        ours, _ = direct.detect(img, aligned=False)
        for t in theirs:
            best = max((_iou(t, o.area) for o in ours), default=0.0)
            assert best >= 0.5, (path.name, t, [o.area for o in ours])
        found += len(ours)
    assert found >= 10


def _iou(a, b) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy / (a.w * a.h + b.w * b.h - ix * iy)


def test_two_workers_give_the_same_analyses_as_one(tmp_path: Path):
    """In a process of its own: the crash this guards against would take pytest down with it."""
    files = real_photos(tmp_path / "photos") * 3
    script = """
import sys
from pathlib import Path
from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
files = [Path(p) for p in sys.argv[1:]]
analyzer = FaceAnalyzer(detector="yunet", gender_model="builtin")
analyzer.load()
one = list(BatchAnalyzer(analyzer, workers=1, batch_faces=1).analyze_many(files))
two = list(BatchAnalyzer(analyzer, workers=2, batch_faces=5).analyze_many(files))
assert [a.path for a in two] == files
assert one == two, [(a.path.name, a.faces, b.faces) for a, b in zip(one, two) if a != b]
print(sum(len(a.faces) for a in two))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        env=fresh_env(tmp_path / "home"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert int(proc.stdout.split()[-1]) >= 30


def test_tuner_settles_on_the_fastest_setting_and_follows_the_load():
    cost = {1: 3.0, 2: 2.0, 4: 1.0, 8: 1.5}  # seconds per unit; 4 is best
    tuner = Tuner([[1, 2, 4, 8]], start=(1,))
    used = []
    for _ in range(60):
        used.append(tuner.value[0])
        tuner.record(1, cost[tuner.value[0]])
    assert tuner.best == (4,)
    assert used[-30:].count(4) >= 25  # now and then a look at a neighbour, no more
    cost.update({4: 4.0, 8: 1.0})  # the machine changed: now 8 is best
    for _ in range(100):
        tuner.record(1, cost[tuner.value[0]])
    assert tuner.best == (8,) and tuner.value in ((8,), (4,))


def test_tuner_on_a_grid_measures_few_settings():
    """Threads x faces per call: the walk measures neighbours, not the whole grid."""
    cost = {(t, b): 1.0 / t + abs(b - 4) * 0.1 for t in (1, 2) for b in (1, 2, 4, 8, 16, 32, 64)}
    tuner = Tuner([[1, 2], [1, 2, 4, 8, 16, 32, 64]], start=(2, 4))
    for _ in range(30):
        tuner.record(1, cost[tuner.value])
    assert tuner.value == (2, 4)
    assert len(tuner.rates()) <= 5


def test_a_planted_tuning_row_cannot_break_a_run(cli, tmp_path: Path, monkeypatch):
    """state.db may sit in a shared folder: what its tuning table holds is a hint, checked."""
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.analysis.machine import tuning_key

    monkeypatch.setenv("FACE_CLEAN_DETECTOR", "yunet")
    monkeypatch.setenv("FACE_CLEAN_GENDER_MODEL", "builtin")
    root = tmp_path / "photos"
    real_photos(root)
    assert cli("run", root, "--keep", "all", "--dry-run").exit_code == 0
    identity = FaceAnalyzer(detector="yunet", gender_model="builtin").identity
    keys = [tuning_key(kind, identity.model_sha256, "cpu") for kind in ("models", "workers yunet")]
    with sqlite3.connect(root / ".face-clean" / "state.db") as conn:
        for key, value in zip(keys, ('{"threads": 10000000}', "[0, -4]"), strict=True):
            conn.execute("INSERT OR REPLACE INTO tuning VALUES (?, ?)", (key, value))
    result = cli("run", root, "--keep", "Man", "--dry-run")
    assert result.exit_code == 0, result.output
    assert len(audit_records(root / ".face-clean" / "audit.jsonl")) == 2 * len(list(root.glob("*.jpg")))


def test_stored_tuning_is_where_the_next_run_starts(tmp_path: Path):
    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.analysis.face_analyzer import FaceAnalyzer
    from cleaner.store.db import StateDB

    analyzer = FaceAnalyzer(detector="yunet", gender_model="builtin")
    with StateDB(tmp_path / "state.db") as state:
        first = BatchAnalyzer(analyzer, tuning_store=state)
        first.tuning.models.record(1, 1.0)  # one window measured at (threads, 4)
        first.tuning.save()
        key = first.tuning._keys[0]
        state.remember_tuning(key, (1, 2))
        assert BatchAnalyzer(analyzer, tuning_store=state).tuning.models.value == (1, 2)
        state.remember_tuning(key, (1, 3))  # not on the grid: the nearest setting
        assert BatchAnalyzer(analyzer, tuning_store=state).tuning.models.value[1] in (2, 4)


def run_with_device(tmp_path: Path, device: str) -> subprocess.CompletedProcess[str]:
    root = tmp_path / "photos"
    if not root.exists():
        real_photos(root)
    env = {**fresh_env(tmp_path / "home"), "FACE_CLEAN_DEVICE": device}
    env.pop("DEEPFACE_ONNX_PROVIDERS", None)
    cmd = [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "all", "--dry-run", "-q"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def test_cuda_asked_for_without_a_gpu_runs_on_the_cpu_and_says_why(tmp_path: Path):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():  # CI installs the CPU-only onnxruntime
        unavailable("onnxruntime-gpu is installed here: without a GPU its fallback is onnxruntime's (docs/ml/gpu.md)")
    proc = run_with_device(tmp_path, "cuda")
    assert proc.returncode == 0, proc.stderr
    assert "FACE_CLEAN_DEVICE=cuda, but the models run on the CPU" in proc.stderr
    assert "pip install" in proc.stderr or "face-clean[gpu]" in proc.stderr or "gpu extra" in proc.stderr
    records = audit_records(tmp_path / "photos" / ".face-clean" / "audit.jsonl")
    assert len(records) == len(list((tmp_path / "photos").glob("*.jpg")))
    assert sum(len(r["faces"]) for r in records) >= 10


def test_an_unknown_device_is_a_usage_error(tmp_path: Path):
    proc = run_with_device(tmp_path, "tpu")
    assert proc.returncode == 2
    assert "FACE_CLEAN_DEVICE" in proc.stderr and "auto, cpu, cuda" in proc.stderr
    assert not (tmp_path / "photos" / ".face-clean" / "audit.jsonl").exists()
