"""Face detection and gender/age analysis: load the models once, then one call per image.

Shaped like insightface's FaceAnalysis: the constructor loads everything (so a missing or
broken model fails before any file is touched) and ``analyze()`` returns a plain
``ImageAnalysis`` with ``Face`` records, never deepface's dicts of numpy scalars.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cleaner import engine as engine_mod
from cleaner import weights
from cleaner.decode import Unreadable, decode
from cleaner.records import Box, Face, ImageAnalysis, Status


class ModelError(RuntimeError):
    """A model could not be loaded; the message says which and why."""


class UnknownDetector(ModelError):
    """The detector name is not one deepface offers (a usage error, not a broken install)."""


@dataclass(frozen=True)
class ModelIdentity:
    """What produced an analysis; written to every audit record."""

    engine: str
    detector: str
    model_files: tuple[str, ...]
    model_sha256: tuple[str, ...]
    deepface_version: str


def detectors() -> list[str]:
    from deepface.modules import modeling

    return sorted(modeling.AVAILABLE_MODELS["face_detector"])


class FaceAnalyzer:
    def __init__(
        self,
        engine: str = "onnx",
        detector: str = "opencv",
        attributes: frozenset[str] = frozenset({"gender"}),
        max_pixels: int = 200_000_000,
        verbose: bool = False,
    ) -> None:
        engine_mod.select(engine, verbose=verbose)
        import deepface
        from deepface import DeepFace
        from deepface.modules import modeling

        if detector not in detectors():
            raise UnknownDetector(f"unknown detector {detector!r}; deepface offers: {', '.join(detectors())}")
        self._deepface = DeepFace
        self.attributes = frozenset(attributes)
        self.detector = detector
        self.max_pixels = max_pixels
        files = weights.required(detector, self.attributes)
        weights.ensure_present(files)
        wanted = [("face_detector", detector)] + [
            ("facial_attribute", name) for a, name in sorted(weights.ATTRIBUTE_MODELS.items()) if a in self.attributes
        ]
        for task, name in wanted:
            try:
                modeling.build_model(task=task, model_name=name)
            except ImportError as err:
                raise ModelError(f"the {name} model needs a package that is not installed: {err}") from None
            except Exception as err:
                cause = f" ({err.__cause__})" if err.__cause__ else ""
                raise ModelError(f"cannot load the {name} model on {engine}: {err}{cause}") from None
        self.identity = ModelIdentity(
            engine=engine,
            detector=detector,
            model_files=tuple(str(f.path) for f in files),
            model_sha256=tuple(weights.sha256_of(f.path) for f in files),
            deepface_version=str(getattr(deepface, "__version__", "unknown")),
        )

    def analyze(self, path: Path) -> ImageAnalysis:
        """Never raises for a bad file: the returned status and error say what went wrong."""
        try:
            st = os.lstat(path)
        except OSError as err:
            return ImageAnalysis(path, 0, None, Status.UNREADABLE, f"cannot stat file: {err.strerror}")
        if stat.S_ISLNK(st.st_mode):
            return ImageAnalysis(path, st.st_size, None, Status.SKIPPED, "symbolic link (not followed)")
        if not stat.S_ISREG(st.st_mode):
            return ImageAnalysis(path, st.st_size, None, Status.SKIPPED, "not a regular file")
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return ImageAnalysis(path, st.st_size, None, Status.UNREADABLE, "file vanished before it could be read")
        except OSError as err:
            return ImageAnalysis(path, st.st_size, None, Status.UNREADABLE, f"cannot read file: {err.strerror}")
        base = ImageAnalysis(path, len(data), hashlib.sha256(data).hexdigest(), mtime_ns=st.st_mtime_ns)
        try:
            image = decode(data, self.max_pixels)
        except Unreadable as err:
            return _with(base, status=Status.UNREADABLE, error=str(err))
        del data
        try:
            faces = self._faces(image.bgr)
        except Exception as err:  # a model failing on one image must not stop the run
            return _with(
                base,
                status=Status.ERROR,
                error=f"analysis failed: {type(err).__name__}: {err}",
                width=image.width,
                height=image.height,
            )
        return _with(base, width=image.width, height=image.height, faces=faces, notes=image.notes)

    def _faces(self, bgr: Any) -> tuple[Face, ...]:
        from deepface.modules.exceptions import FaceNotDetected

        try:
            if self.attributes:
                results = self._deepface.analyze(
                    bgr,
                    actions=sorted(self.attributes),
                    detector_backend=self.detector,
                    enforce_detection=True,
                    silent=True,
                )
            else:
                results = self._deepface.extract_faces(bgr, detector_backend=self.detector, enforce_detection=True)
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


def _with(a: ImageAnalysis, **changes: Any) -> ImageAnalysis:
    return replace(a, **changes)
