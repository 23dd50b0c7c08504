"""Face detection and gender/age analysis: load the models once, then one call per image.

Shaped like insightface's FaceAnalysis: the constructor checks everything that can be checked
without loading (engine, detector name and packages, every weight file present and not visibly
damaged), and ``load()`` loads every model and runs it once on a blank input, so a missing or
damaged model stops the run before any photo is touched.  Face detection is DeepFace's (its
detector backends); gender and age come from the classifiers the rules choose
(cleaner.analysis.classifiers: the built-in models, DeepFace's own, or a manifest's ONNX file).
cleaner.analysis.batch is the fast path every command uses; cleaner.analysis.plain the plain one
(one ``DeepFace.analyze`` per image), kept to compare with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cleaner.analysis import classifiers, devices, downloads, file_check, weights
from cleaner.analysis import detectors as needs
from cleaner.analysis import engine as engine_mod
from cleaner.analysis.builtin_models import BUILTIN, YUNET_THRESHOLD_ENV, use_yunet_threshold
from cleaner.analysis.classifiers import Classifier, DeepFaceClassifier
from cleaner.analysis.decode import Decoded, NotAnImage, OverBudget, Unreadable, decode
from cleaner.analysis.kinds import claims_image, name_note, not_an_image
from cleaner.analysis.protocol import ModelIdentity
from cleaner.analysis.reading import FileBytes
from cleaner.errors import DamagedModel, ManifestError, MissingWeights, ModelError, UnknownDetector
from cleaner.fs.hashing import sha256_file
from cleaner.records import ImageAnalysis, Status


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
        detector: str = "yunet",
        attributes: frozenset[str] = frozenset({"gender"}),
        max_pixels: int = 200_000_000,
        verbose: bool = False,
        hash_model: Callable[[Path], str] = sha256_file,
        detect_size: int = 800,
        gender_model: str = BUILTIN,
        age_model: str = BUILTIN,
    ) -> None:
        engine_mod.select(engine, verbose=verbose)
        import deepface

        if engine == "tensorflow":
            from deepface import DeepFace  # noqa: F401  (sets TF_USE_LEGACY_KERAS before tensorflow loads)

        check_detector(detector)
        devices.use_for_deepface()  # the device DeepFace's own sessions use; a bad FACE_CLEAN_DEVICE stops here
        settings = (f"{YUNET_THRESHOLD_ENV}={use_yunet_threshold()}",) if detector == "yunet" else ()
        downloads.forbid_downloads()  # a run finds weight files; only `models fetch` downloads
        self.attributes = frozenset(attributes)
        self.detector = detector
        self.max_pixels = max_pixels
        choices = {"gender": gender_model, "age": age_model}
        self.classifiers = {a: classifiers.build(a, choices[a], engine) for a in sorted(self.attributes)}
        self._detector_files = needs.check(detector, engine)
        weights.ensure_present(
            [f for c in self.classifiers.values() if isinstance(c, DeepFaceClassifier) for f in c.weight_files()]
        )
        files: list[tuple[Path, str | None]] = [(f.path, None) for f in self._detector_files]
        files += [f for c in self.classifiers.values() for f in c.files()]
        files = list(dict.fromkeys(files))  # the landmark model once, when two models share it
        absent = [path for path, _ in files if not path.is_file()]
        if absent:
            raise MissingWeights("Model file missing: " + ", ".join(map(str, absent)))
        hash_once = functools.cache(hash_model)  # each file read once: checked, then named in the identity
        for path, wanted in files:
            problem = file_check.damage(path, wanted, hash_once)
            if problem:
                raise DamagedModel(self._role(path), path, problem, file_check.fix_hint(path))
        self._loaded = False
        self.identity = ModelIdentity(
            engine=engine,
            detector=detector,
            attributes=tuple(sorted(self.attributes)),
            model_files=tuple(str(path) for path, _ in files),
            model_sha256=tuple(hash_once(path) for path, _ in files),
            deepface_version=str(getattr(deepface, "__version__", "unknown")),
            max_pixels=max_pixels,
            detect_size=detect_size,
            gender_model=gender_model if "gender" in self.attributes else None,
            age_model=age_model if "age" in self.attributes else None,
            detector_settings=settings,
        )

    @property
    def yunet_file(self) -> Path | None:
        """The YuNet model file the yunet detector runs (cleaner.analysis.yunet); None for another detector."""
        return self._detector_files[0].path if self.detector == "yunet" and self._detector_files else None

    def _role(self, path: Path) -> str:
        for task, c in self.classifiers.items():
            if path in (p for p, _ in c.files()):
                return f"{task} ({c.name})"
        return f"{self.detector} detector"

    def load(self) -> None:
        """Load every model and run it once on a blank input, before the first photo: a damaged
        file stops the run here (DamagedModel), never halfway through a folder."""
        if self._loaded:
            return
        self._load_detector()
        for task, c in self.classifiers.items():
            try:
                c.load()
                c.check()
            except (ManifestError, MissingWeights, DamagedModel):
                raise
            except Exception as err:  # any failure to load or run a file we checked is there
                path = c.main_file()
                problem = f"cannot be loaded or run ({err})"
                raise DamagedModel(f"{task} ({c.name})", path, problem, file_check.fix_hint(path)) from None
        self._loaded = True

    def _load_detector(self) -> None:
        import numpy as np
        from deepface.modules import detection

        blank = np.full((96, 96, 3), 128, dtype=np.uint8)
        try:
            detection.detect_faces(detector_backend=self.detector, img=blank, align=True)
        except MissingWeights:
            raise
        except ImportError as err:
            raise ModelError(f"the {self.detector} detector needs a package that is not installed: {err}") from None
        except Exception as err:  # deepface and the detectors' own packages raise many kinds
            cause = f" ({err.__cause__})" if err.__cause__ else ""
            if self._detector_files:
                path = self._detector_files[0].path
                problem = f"cannot be loaded ({err}{cause})"
                raise DamagedModel(f"{self.detector} detector", path, problem, file_check.fix_hint(path)) from None
            raise ModelError(f"cannot load the {self.detector} detector: {err}{cause}") from None

    def models(self) -> dict[str, Classifier]:
        """The classifiers by task, loaded (and checked) once per analyzer."""
        self.load()
        return self.classifiers

    def decode(self, f: FileBytes, draft_to: int | None = None) -> tuple[ImageAnalysis, Decoded | None]:
        """The file decoded upright (BGR), with the analysis so far; the image is None if unreadable."""
        base = ImageAnalysis(f.path, len(f.data), f.sha256, mtime_ns=f.st.st_mtime_ns)
        try:
            image = decode(f.data, self.max_pixels, draft_to, f.budget)
        except OverBudget as err:  # not looked at, like a link: nothing about the file is known
            return replace(base, status=Status.SKIPPED, error=str(err)), None
        except NotAnImage as err:  # a note, a sidecar: skipped; a "photo" that holds none: unreadable
            if claims_image(f.path.name):
                return replace(base, status=Status.UNREADABLE, error=str(err)), None
            return replace(base, status=Status.SKIPPED, error=not_an_image(f.path.name, f.data[:65536])), None
        except Unreadable as err:
            return replace(base, status=Status.UNREADABLE, error=str(err)), None
        width, height = image.full_size
        note = name_note(f.path.name, image.format)
        notes = image.notes if note is None else (*image.notes, note)
        return replace(base, width=width, height=height, notes=notes), image
