"""The fast path (downscaled detection, batches, a worker thread) and the analysis cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import photos
import pytest
from conftest import audit_records
from PIL import Image

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.analysis.plain import analyze_plain
from cleaner.rules import loading as rules
from cleaner.rules.deciding import decide

LOG = Path(".face-clean/audit.jsonl")


def big_scene(face: np.ndarray, size: tuple[int, int], scale: float = 1.5) -> np.ndarray:
    """A camera-sized picture: ``face`` enlarged by ``scale`` on a plain background.

    Enlarged by at most 1.5: from 2x up, blown-up detail makes the Haar detector find extra
    "faces" at full resolution (seen here in the astronaut's suit), which the fast path,
    detecting on a smaller copy, does not; that would test the upscaling, not the fast path.
    """
    canvas = np.full((size[1], size[0], 3), 128, dtype=np.uint8)
    scaled = np.asarray(Image.fromarray(face).resize((int(face.shape[1] * scale), int(face.shape[0] * scale))))
    canvas[100 : 100 + scaled.shape[0], 150 : 150 + scaled.shape[1]] = scaled
    return canvas


@pytest.fixture(scope="module")
def varied(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("varied")
    photos.make_folder(root)
    photos.save(photos.small_face(0.5), root / "small.jpg", quality=92)
    photos.save(big_scene(photos.astronaut(), (1600, 1200)), root / "big man.jpg", quality=90)
    photos.save(big_scene(photos.swapped(), (2400, 1800)), root / "big woman.jpg", quality=90)
    photos.save(big_scene(photos.two_faces(), (2400, 1200)), root / "big pair.jpg", quality=90)
    photos.save(np.asarray(Image.fromarray(photos.data.rocket()).resize((1800, 1200))), root / "big rocket.jpg")
    return sorted(p for p in root.rglob("*") if p.is_file())


RULE_SETS = {
    "keep Man": rules.load(None, keep="Man"),
    "keep Woman": rules.load(None, keep="Woman"),
    "keep face": rules.load(None, keep="face"),
    "all faces": rules.load_text(
        "multi_face: all\nrules:\n  - {name: men, when: {gender: Man}, action: keep}\n"
        "  - {name: rest, action: quarantine}\n",
        "all",
    ),
    "age": rules.load_text("rules:\n  - {name: thirties, when: {age: {min: 30, max: 39}}, action: review}\n", "age"),
}


def test_fast_path_makes_the_same_decisions_as_deepface_analyze(varied: list[Path]):
    analyzer = FaceAnalyzer(
        "onnx", "opencv", frozenset({"gender", "age"}), gender_model="deepface", age_model="deepface"
    )
    plain = [analyze_plain(analyzer, p) for p in varied]
    big = [a for a in plain if a.width and max(a.width, a.height) > 800]
    assert len(big) == 5  # the fast path really does detect on downscaled copies here
    fast = list(BatchAnalyzer(analyzer, batch_faces=3).analyze_many(varied))
    full_resolution = list(BatchAnalyzer(analyzer, detect_size=0).analyze_many(varied))
    assert [a.path for a in fast] == [a.path for a in full_resolution] == varied  # in order
    for p, f in [*zip(plain, fast, strict=True), *zip(plain, full_resolution, strict=True)]:
        assert (p.status, p.sha256, p.error) == (f.status, f.sha256, f.error), p.path
        assert len(p.faces) == len(f.faces), p.path

        def by_place(a):
            return sorted(a.faces, key=lambda face: (face.box.x, face.box.y))

        for pf, ff in zip(by_place(p), by_place(f), strict=True):
            assert pf.dominant_gender == ff.dominant_gender and pf.age == ff.age
            assert abs(pf.box.x - ff.box.x) <= 0.05 * pf.box.w + 2 and abs(pf.box.w - ff.box.w) <= 0.1 * pf.box.w + 2
        for name, rs in RULE_SETS.items():
            assert decide(rs, p) == decide(rs, f), (name, p.path)


def test_second_run_is_answered_from_the_cache(cli, tmp_path: Path, monkeypatch):
    root = tmp_path / "p"
    photos.make_folder(root)
    assert cli("run", root, "--keep", "face").exit_code == 1  # three unreadable files
    first = audit_records(root / LOG)
    assert not any(r["cached"] for r in first)

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran again")

    monkeypatch.setattr(FaceAnalyzer, "models", no_model)
    monkeypatch.setattr(BatchAnalyzer, "_detect", no_model)
    left = {r["path"] for r in first if not r["moved"]}
    result = cli("run", root, "--keep", "face")  # decided, unchanged: nothing is read, nothing recorded again
    assert audit_records(root / LOG) == first and f"already decided: {len(left)}" in result.output
    result = cli("run", root, "--keep", "face", "--dry-run")  # decided again, from the cache: the same outcomes
    assert audit_records(root / LOG) == first and f"already decided: {len(left)}" in result.output
    assert "analysed now: 0" in result.output  # (and the model, patched above, never ran)
    # an edit of the rules re-decides every file from the cached analyses; the changed outcomes are recorded
    result = cli("run", root, "--keep", "Woman")
    third = {r["path"]: r for r in audit_records(root / LOG)[len(first) :]}
    assert third["man.jpg"]["action"] == "quarantine" and third["man.jpg"]["rule"] == "not-woman"
    assert third["woman.png"]["action"] == "keep" and all(r["cached"] for r in third.values())
    assert "broken.jpg" not in third  # still unreadable, still kept: no second record
    assert (root / ".face-clean/quarantine/not-woman/man.jpg").exists()


def test_renamed_and_copied_photos_keep_their_analysis(cli, tmp_path: Path, monkeypatch):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    assert cli("run", root, "--keep", "Man").exit_code == 0
    (root / "man.jpg").rename(root / "renamed.jpg")
    (root / "copy.jpg").write_bytes((root / "renamed.jpg").read_bytes())
    monkeypatch.setattr(BatchAnalyzer, "_detect", lambda *a: pytest.fail("analysed again"))
    assert cli("run", root, "--keep", "Man").exit_code == 0
    # one of the two is the photo decided before (same bytes, its old name gone), the other a new file
    [record] = audit_records(root / LOG)[1:]
    assert record["path"] in {"copy.jpg", "renamed.jpg"}
    assert (record["cached"], record["rule"], len(record["faces"])) == (True, "keep-man", 1)
    assert cli("run", root, "--keep", "face").exit_code == 0  # other rules: both decided again, from the cache
    records = audit_records(root / LOG)[2:]
    assert {r["path"]: (r["cached"], r["rule"], len(r["faces"])) for r in records} == {
        "copy.jpg": (True, "keep-faces", 1),
        "renamed.jpg": (True, "keep-faces", 1),
    }


def test_changed_file_is_analysed_again(cli, tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "photo.jpg")
    assert cli("run", root, "--keep", "Man").exit_code == 0
    photos.save(photos.swapped(), root / "photo.jpg")  # same name, new content
    assert cli("run", root, "--keep", "Man").exit_code == 0
    last = audit_records(root / LOG)[-1]
    assert not last["cached"] and last["rule"] == "not-man"
    assert (root / ".face-clean/quarantine/not-man/photo.jpg").exists()


def test_a_different_model_file_invalidates_the_cache(cli, tmp_path: Path, deepface_home: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    assert cli("run", root, "--keep", "Man", "--dry-run").exit_code == 0
    [first] = audit_records(root / LOG)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("detector: yunet\n")  # another detector (its model file is here) is another analysis
    result = cli("run", root, "--keep", "Man", "--dry-run", "--rules", rules_file)
    assert result.exit_code == 0, result.output
    [second] = audit_records(root / LOG)[1:]
    assert second["model_files"] != first["model_files"] and second["detector"] == "yunet"
    assert not second["cached"], "answered from the cache of another model's analysis"
    assert "analysed now: 1   from cache: 0" in result.output


def test_onnx_graph_loads_from_a_light_memory_mapped_copy(deepface_home: Path):
    from deepface.modules import modeling

    from cleaner.analysis.onnx_session import LIGHT_DIR, lean_model

    model = lean_model("Gender")
    # (the tiny test graph's weights are too small to be moved out of it; the 537 MB one's are)
    [copy] = (deepface_home / ".deepface" / "weights" / LIGHT_DIR).glob("gender_model_weights-*/model.onnx")
    faces = np.random.default_rng(0).random((3, 224, 224, 3), dtype=np.float32)
    deepface_own = modeling.build_model(task="facial_attribute", model_name="Gender")
    assert np.allclose(model.predict(faces), deepface_own.predict(faces), atol=1e-6)
    made = copy.stat().st_mtime_ns
    lean_model("Gender")
    assert copy.stat().st_mtime_ns == made  # made once per weight file
    # on the CPU, what runs is onnxruntime's fully optimised graph for this machine, saved beside it once
    [optimised] = copy.parent.glob("optimised-*/model.onnx")
    assert model.face_clean_optimised and model.face_clean_path == str(optimised)


def test_without_an_optimised_copy_the_light_one_runs(deepface_home: Path, monkeypatch, caplog):
    from cleaner.analysis import onnx_session

    def fail(light):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(onnx_session, "optimised_copy", fail)
    model = onnx_session.lean_model("Gender")
    assert not model.face_clean_optimised and model.face_clean_path.endswith("model.onnx")
    assert "No space left on device" in caplog.text
    faces = np.random.default_rng(1).random((2, 224, 224, 3), dtype=np.float32)
    assert model.predict(faces).shape == (2, 2)
