"""Models are ready before the first photo, and one bad image cannot spoil a batch.

* A failing model batch falls back to one image at a time: only the image the model fails on
  is an error, with its traceback at -vv.
* A damaged weight file (a saved error page, a truncated graph) stops the run with exit code 3
  before any photo is touched, naming the file and how to fetch it again; `models status`
  says DAMAGED, `models fetch` puts it aside and downloads it again.
* Each detector's Python package and weight files are checked first: a missing one is exit
  code 3 naming the pip package or the file; no download is ever attempted during a run;
  `models fetch` fetches detector weights too.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import photos
import pytest
import tiny_models
from conftest import audit_records

from cleaner.analysis.classifiers import DeepFaceClassifier


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A DEEPFACE_HOME of its own, with the tiny stand-in models."""
    home = tmp_path / "home"
    tiny_models.install(home)
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    return home / ".deepface" / "weights"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg", quality=92)
    photos.save(photos.swapped(), root / "woman.png")
    photos.save(photos.grey(), root / "grey.jpg", quality=92)
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    return root


def untouched(root: Path) -> bool:
    """Every photo in place, nothing decided: no audit record, no quarantine or review folder."""
    photos_left = {p.name for p in root.iterdir() if p.is_file()} == {"man.jpg", "woman.png", "grey.jpg", "coffee.jpg"}
    own = root / ".face-clean"
    return photos_left and not any((own / name).exists() for name in ("audit.jsonl", "quarantine", "review"))


def test_one_failing_image_does_not_fail_its_batch(cli, folder: Path, monkeypatch):
    """The model raises on the grey face (a stand-in for a face it cannot take): the man and the
    woman of the same batch are decided, only grey.jpg is an error."""
    real = DeepFaceClassifier.predict

    def predict(self, batch):
        means, spread = batch.mean(axis=(1, 2)), batch.std(axis=(1, 2, 3))
        if np.any((np.abs(means[:, 0] - means[:, 2]) < 1e-3) & (spread > 0.05)):  # a grey face in the batch
            raise ValueError("cannot take this face")
        return real(self, batch)

    monkeypatch.setattr(DeepFaceClassifier, "predict", predict)
    result = cli("run", folder, "--keep", "Man", "-vv")
    assert result.exit_code == 1, result.output
    records = {r["path"]: r for r in audit_records(folder / ".face-clean/audit.jsonl")}
    assert records["grey.jpg"]["status"] == "error"
    assert records["grey.jpg"]["error"] == "analysis failed: ValueError: cannot take this face"
    assert (records["man.jpg"]["rule"], records["woman.png"]["rule"]) == ("keep-man", "not-man")
    assert (folder / ".face-clean/quarantine/not-man/woman.png").exists() and (folder / "grey.jpg").exists()
    assert "Traceback" in result.output and "ValueError: cannot take this face" in result.output
    quiet = cli("run", folder, "--keep", "Man")  # without -vv: no traceback
    assert "Traceback" not in quiet.output


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda p: p.write_bytes(b"<html>Not Found\n"), "is a web page or an error message (16 bytes)"),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "is cut short: its ONNX structure runs past its 200 bytes"),
        (lambda p: p.write_bytes(b"\x08\x08\x3a\x03\xff\xff\xff"), "cannot be loaded or run"),  # well formed, no model
    ],
)
def test_damaged_gender_weights_stop_before_any_photo(cli, home: Path, folder: Path, damage, problem):
    weights = home / "gender_model_weights.onnx"
    damage(weights)
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 3, result.output
    assert f"the gender (deepface) model file {weights} is damaged: it {problem}" in result.output
    assert "face-clean models fetch" in result.output and "Traceback" not in result.output
    assert untouched(folder)
    status = cli("models", "status", "--keep", "Man")
    if problem.startswith("cannot be loaded"):
        return
    assert status.exit_code == 3 and "DAMAGED" in status.output
    if not problem.startswith("cannot be loaded"):  # status checks the file; only loading it tells more
        assert problem in status.output


def test_models_fetch_replaces_a_damaged_file(cli, home: Path, tmp_path: Path, monkeypatch):
    served = tmp_path / "served"
    tiny_models.gender_graph(served / "gender_model_weights.onnx")
    (home / "gender_model_weights.onnx").write_bytes(b"<!DOCTYPE html>\n<p>")
    with _server(served) as url:
        from deepface.models.demography.onnx import Gender

        monkeypatch.setattr(Gender, "WEIGHTS_URL", [f"{url}/gender_model_weights.onnx"])
        result = cli("models", "fetch", "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert (home / "gender_model_weights.onnx.damaged").read_bytes() == b"<!DOCTYPE html>\n<p>"
    assert (home / "gender_model_weights.onnx").read_bytes() == (served / "gender_model_weights.onnx").read_bytes()
    assert cli("models", "status", "--keep", "Man").exit_code == 0


def test_damaged_detector_file_is_caught_too(cli, home: Path, folder: Path):
    """YuNet's file in the weights folder wins over the bundled one, so it is checked like it."""
    (home / "face_detection_yunet_2023mar.onnx").write_bytes(b"\x08\x07" + b"\0" * 100)
    result = cli("run", folder, "--keep", "Man", "--detector", "yunet")
    assert result.exit_code == 3 and "yunet detector model file" in result.output, result.output
    assert "has 102 bytes where it should have 232,589" in result.output and untouched(folder)


@pytest.mark.parametrize(
    ("detector", "needs"),
    [
        ("mediapipe", "pip install mediapipe"),
        ("fastmtcnn", "pip install facenet-pytorch torch"),
        ("yolov8n", "pip install ultralytics"),
        ("mtcnn", "pip install mtcnn"),
        ("retinaface", "retinaface.onnx"),
        ("ssd", "res10_300x300_ssd_iter_140000.caffemodel"),
        ("centerface", "centerface.onnx"),
    ],
)
def test_detectors_are_checked_before_any_photo(cli, home: Path, folder: Path, monkeypatch, detector, needs):
    import gdown

    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted during a run")

    monkeypatch.setattr(gdown, "download", no_download)
    result = cli("run", folder, "--keep", "Man", "--detector", detector)
    assert result.exit_code == 3, result.output
    assert needs in result.output and "Traceback" not in result.output
    assert untouched(folder)
    status = cli("models", "status", "--keep", "Man", "--detector", detector)
    assert status.exit_code == 3 and "MISSING" in status.output


def test_models_fetch_fetches_detector_weights(cli, home: Path, tmp_path: Path, monkeypatch):
    from deepface.models.face_detection import Ssd

    served = tmp_path / "served"
    served.mkdir()
    (served / "deploy.prototxt").write_text('name: "stand-in"\n')
    (served / "res10_300x300_ssd_iter_140000.caffemodel").write_bytes(b"\x0a\x05stand")
    with _server(served) as url:
        monkeypatch.setattr(Ssd, "MODEL_URL", f"{url}/deploy.prototxt")
        monkeypatch.setattr(Ssd, "WEIGHTS_URL", f"{url}/res10_300x300_ssd_iter_140000.caffemodel")
        result = cli("models", "fetch", "--keep", "Man", "--detector", "ssd")
    assert result.exit_code == 0, result.output
    assert (home / "deploy.prototxt").read_text() == 'name: "stand-in"\n'
    assert (home / "res10_300x300_ssd_iter_140000.caffemodel").exists()


def test_bundled_detector_files_need_no_fetch(cli, home: Path):
    result = cli("models", "status", "--keep", "Man", "--detector", "yunet")
    assert result.exit_code == 0, result.output
    assert "face_detection_yunet_2023mar.onnx (comes with face-clean)" in result.output
    assert not (home / "face_detection_yunet_2023mar.onnx").exists()
    shutil.rmtree(home)  # DeepFace's gender model gone: status says so, the detector is still fine
    result = cli("models", "status", "--keep", "Man", "--detector", "dlib")
    assert "shape_predictor_5_face_landmarks.dat (comes with face-clean)" in result.output
    assert result.exit_code == 3 and "MISSING" in result.output


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _server:
    """A loopback HTTP server over ``folder`` (the model host's stand-in); yields its base URL."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
