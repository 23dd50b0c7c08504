"""Face detection and gender/age analysis: load the models once, then one call per image.

Shaped like insightface's FaceAnalysis: the constructor checks everything that can be checked
without loading (engine, detector name, weight files), so a missing model fails before any file
is touched; the models themselves load on the first image that needs them, so a run answered
entirely from the cache never pays for loading them.  ``analyze()`` is the plain path, one
``DeepFace.analyze`` per image; cleaner.batch is the fast path built on the same models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cleaner import engine as engine_mod
from cleaner import weights
from cleaner.decode import Decoded, OverBudget, Unreadable, decode
from cleaner.hashing import sha256_file
from cleaner.reading import FileBytes, read_file
from cleaner.records import Box, Face, ImageAnalysis, Status

__all__ = ["FaceAnalyzer", "FileBytes", "ModelIdentity", "read_file"]  # read_file: cleaner.reading, re-exported

ANALYSIS_VERSION = 1  # bump when a change here or in cleaner.batch changes what is found


class ModelError(RuntimeError):
    """A model could not be loaded; the message says which and why."""


class UnknownDetector(ModelError):
    """The detector name is not one deepface offers (a usage error, not a broken install)."""


@dataclass(frozen=True)
class ModelIdentity:
    """What produced an analysis; written to every audit record and keys the cache."""

    engine: str
    detector: str
    attributes: tuple[str, ...]
    model_files: tuple[str, ...]
    model_sha256: tuple[str, ...]
    deepface_version: str
    max_pixels: int
    detect_size: int

    @property
    def key(self) -> str:
        parts = (
            ANALYSIS_VERSION,
            self.engine,
            self.detector,
            self.attributes,
            self.model_sha256,
            self.deepface_version,
            self.max_pixels,
            self.detect_size,
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def detectors() -> list[str]:
    from deepface.modules import modeling

    return sorted(modeling.AVAILABLE_MODELS["face_detector"])


def check_detector(name: str) -> None:
    if name not in detectors():
        raise UnknownDetector(f"unknown detector {name!r}; deepface offers: {', '.join(detectors())}")


class FaceAnalyzer:
    def __init__(
        self,
        engine: str = "onnx",
        detector: str = "opencv",
        attributes: frozenset[str] = frozenset({"gender"}),
        max_pixels: int = 200_000_000,
        verbose: bool = False,
        hash_model: Callable[[Path], str] = sha256_file,
        detect_size: int = 800,
    ) -> None:
        engine_mod.select(engine, verbose=verbose)
        import deepface

        if engine == "tensorflow":
            from deepface import DeepFace  # noqa: F401  (sets TF_USE_LEGACY_KERAS before tensorflow loads)

        check_detector(detector)
        self.attributes = frozenset(attributes)
        self.detector = detector
        self.max_pixels = max_pixels
        files = weights.required(detector, self.attributes)
        weights.ensure_present(files)
        self._built: dict[str, Any] | None = None
        self.identity = ModelIdentity(
            engine=engine,
            detector=detector,
            attributes=tuple(sorted(self.attributes)),
            model_files=tuple(str(f.path) for f in files),
            model_sha256=tuple(hash_model(f.path) for f in files),
            deepface_version=str(getattr(deepface, "__version__", "unknown")),
            max_pixels=max_pixels,
            detect_size=detect_size,
        )

    def models(self) -> dict[str, Any]:
        """Load the models once per analyzer: name -> deepface model object."""
        if self._built is not None:
            return self._built
        from deepface.modules import modeling

        from cleaner.onnx_session import lean_model

        wanted = [("face_detector", self.detector)] + [
            ("facial_attribute", weights.ATTRIBUTE_MODELS[a]) for a in sorted(self.attributes)
        ]
        built = {}
        for task, name in wanted:
            try:
                lean = lean_model(name) if task == "facial_attribute" else None
                built[name] = lean or modeling.build_model(task=task, model_name=name)
            except ImportError as err:
                raise ModelError(f"the {name} model needs a package that is not installed: {err}") from None
            except Exception as err:
                cause = f" ({err.__cause__})" if err.__cause__ else ""
                raise ModelError(f"cannot load the {name} model on {self.identity.engine}: {err}{cause}") from None
        self._built = built
        return built

    def decode(self, f: FileBytes, draft_to: int | None = None) -> tuple[ImageAnalysis, Decoded | None]:
        """The file decoded upright (BGR), with the analysis so far; the image is None if unreadable."""
        base = ImageAnalysis(f.path, len(f.data), f.sha256, mtime_ns=f.st.st_mtime_ns)
        try:
            image = decode(f.data, self.max_pixels, draft_to, f.budget)
        except OverBudget as err:  # not looked at, like a link: nothing about the file is known
            return replace(base, status=Status.SKIPPED, error=str(err)), None
        except Unreadable as err:
            return replace(base, status=Status.UNREADABLE, error=str(err)), None
        width, height = image.full_size
        return replace(base, width=width, height=height, notes=image.notes), image

    def analyze(self, path: Path) -> ImageAnalysis:
        """The plain path: one ``DeepFace.analyze`` per image.  Never raises for a bad file."""
        f = read_file(path)
        if isinstance(f, ImageAnalysis):
            return f
        analysis, image = self.decode(f)
        if image is None:
            return analysis
        bgr = image.bgr
        try:
            return replace(analysis, faces=self._faces(bgr))
        except Exception as err:  # a model failing on one image must not stop the run
            return replace(analysis, status=Status.ERROR, error=f"analysis failed: {type(err).__name__}: {err}")

    def _faces(self, bgr: Any) -> tuple[Face, ...]:
        from deepface import DeepFace
        from deepface.modules.exceptions import FaceNotDetected

        try:
            if self.attributes:
                results = DeepFace.analyze(
                    bgr,
                    actions=sorted(self.attributes),
                    detector_backend=self.detector,
                    enforce_detection=True,
                    silent=True,
                )
            else:
                results = DeepFace.extract_faces(bgr, detector_backend=self.detector, enforce_detection=True)
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
