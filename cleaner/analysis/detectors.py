"""What each of DeepFace's face detectors needs, checked before any photo is touched.

DeepFace builds a detector on first use and downloads whatever weight file is missing, and some
detectors need a Python package DeepFace does not install: without these checks a run would
fail on every photo (or try, for each one, to download from the internet).  face-clean checks
each detector's packages and files up front (exit code 3, naming the pip package or the file);
during a run nothing is downloaded (cleaner.analysis.downloads).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from cleaner.analysis import weights
from cleaner.analysis.weights import WeightFile
from cleaner.errors import MissingPackage

_CV2 = ("cv2", "opencv-contrib-python-headless")
_TENSORFLOW = ("tensorflow", "tensorflow")
# detector -> (import name, pip package) it needs beyond face-clean's own dependencies
PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "opencv": (_CV2,),
    "ssd": (_CV2,),
    "yunet": (_CV2,),
    "centerface": (_CV2,),
    "dlib": (("dlib", "dlib-bin"),),
    "mtcnn": (("mtcnn", "mtcnn"), _TENSORFLOW, ("lz4", "lz4")),
    "retinaface": (("retinaface", "retina-face"),),
    "mediapipe": (("mediapipe", "mediapipe"),),
    "fastmtcnn": (("facenet_pytorch", "facenet-pytorch"), ("torch", "torch")),
}
_YOLO = (("ultralytics", "ultralytics"),)
_RETINAFACE_MODULES = {
    "onnx": "retinaface.model.retinaface_onnx_model",
    "tensorflow": "retinaface.model.retinaface_model",
}
_RETINAFACE_FILES = {"onnx": "retinaface.onnx", "tensorflow": "retinaface.h5"}


def packages(detector: str) -> tuple[tuple[str, str], ...]:
    return _YOLO if detector.startswith("yolo") else PACKAGES.get(detector, ())


def missing_packages(detector: str, engine: str) -> list[str]:
    needed = list(packages(detector))
    if detector == "retinaface" and engine == "tensorflow":
        needed.append(_TENSORFLOW)
    return [pip for module, pip in needed if importlib.util.find_spec(module) is None]


def files(detector: str, engine: str) -> list[WeightFile]:
    """The weight files DeepFace's ``detector`` reads from its weights folder."""
    if detector.startswith("yolo"):
        from deepface.models.face_detection.Yolo import YoloModel

        member = YoloModel[detector.removeprefix("yolo").upper()]
        return [WeightFile(detector, member.file_name, (member.url,))]
    if detector == "retinaface":
        urls: tuple[str, ...] = ()
        if importlib.util.find_spec("retinaface") is not None:
            urls = tuple(getattr(importlib.import_module(_RETINAFACE_MODULES[engine]), "WEIGHTS_URLS", ()))
        return [WeightFile(detector, _RETINAFACE_FILES[engine], urls)]
    if detector == "opencv":
        return _haar_cascades()
    return weights.files_for("face_detector", detector)


def _haar_cascades() -> list[WeightFile]:
    """The 4.x OpenCV wheels ship the cascades; DeepFace downloads them only when cv2 has none."""
    import cv2
    from deepface.models.face_detection import OpenCv

    folder = Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or "/nonexistent")
    names = ("haarcascade_frontalface_default.xml", "haarcascade_eye.xml")
    return [
        WeightFile("opencv", n, (OpenCv.HAARCASCADE_URL.format(file_name=n),))
        for n in names
        if not (folder / n).is_file()
    ]


def check(detector: str, engine: str) -> list[WeightFile]:
    """Raise MissingPackage or MissingWeights for what ``detector`` lacks; return its files."""
    absent = missing_packages(detector, engine)
    if absent:
        raise MissingPackage(
            f"the {detector} detector needs the Python package{'s' if len(absent) > 1 else ''} "
            f"{', '.join(absent)}, which {'are' if len(absent) > 1 else 'is'} not installed: "
            f"pip install {' '.join(absent)} (or choose another detector, e.g. --detector yunet)"
        )
    needed = files(detector, engine)
    weights.ensure_present(needed)
    return needed
