"""The plain path: one ``DeepFace.analyze`` per image, as a user of DeepFace would write it. Kept to
compare the fast path with (tests, benchmarks): the same models must make the same decisions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.classifiers import DeepFaceClassifier
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.analysis.reading import read_file
from cleaner.records import Box, Face, ImageAnalysis, Status


def analyze_plain(analyzer: FaceAnalyzer, path: Path) -> ImageAnalysis:
    """One image through ``DeepFace.analyze``; never raises for a bad file. DeepFace.analyze knows only
    DeepFace's models: with others, the fast path on one file."""
    if not all(isinstance(c, DeepFaceClassifier) for c in analyzer.classifiers.values()):
        return next(iter(BatchAnalyzer(analyzer).analyze_many([path])))
    f = read_file(path)
    if isinstance(f, ImageAnalysis):
        return f
    analysis, image = analyzer.decode(f)
    if image is None:
        return analysis
    try:
        return replace(analysis, faces=_faces(analyzer, image.bgr))
    except Exception as err:  # a model failing on one image must not stop the run
        return replace(analysis, status=Status.ERROR, error=f"analysis failed: {type(err).__name__}: {err}")


def _faces(analyzer: FaceAnalyzer, bgr: Any) -> tuple[Face, ...]:
    from deepface import DeepFace
    from deepface.modules.exceptions import FaceNotDetected

    try:
        if analyzer.attributes:
            results = DeepFace.analyze(
                bgr,
                actions=sorted(analyzer.attributes),
                detector_backend=analyzer.detector,
                enforce_detection=True,
                silent=True,
            )
        else:
            results = DeepFace.extract_faces(bgr, detector_backend=analyzer.detector, enforce_detection=True)
    except FaceNotDetected:
        return ()
    return tuple(_face(r) for r in results)


def _face(result: dict[str, Any]) -> Face:
    region = result.get("region") or result.get("facial_area") or {}
    gender = result.get("gender")
    return Face(
        box=Box(int(region["x"]), int(region["y"]), int(region["w"]), int(region["h"])),
        detector_confidence=float(result.get("face_confidence", result.get("confidence", 0.0))),
        gender={str(k): float(v) / 100.0 for k, v in gender.items()} if gender else None,
        dominant_gender=str(result["dominant_gender"]) if "dominant_gender" in result else None,
        age=float(result["age"]) if "age" in result else None,
    )
