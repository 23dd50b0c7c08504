"""Face embeddings: dlib's 128-d ResNet face descriptor of each face, for grouping faces into people.

The weights are dlib's (Davis King, CC0): ``dlib_face_recognition_resnet_model_v1.dat`` and the 5-point
landmark model ``shape_predictor_5_face_landmarks.dat`` (CC0; the 68-point one is not permissive and is
never used), from the PyPI package ``face_recognition_models`` (``pip install "face-clean[people]"``).
A face is aligned on its 5 landmarks into dlib's 150 px chip and described by 128 numbers; two faces of
one person lie about 0.6 apart or less (Euclidean). About 0.2 s a face on 2 cores (bench/people.py), so
this runs only on the faces that matter (cleaner.pipeline.people), never on every face by default.
"""

from __future__ import annotations

import threading
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.analysis.decode import decode
from cleaner.analysis.face_crops import FaceView
from cleaner.records import Box

DIMENSIONS = 128
RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS = "shape_predictor_5_face_landmarks.dat"
PACKAGE = "face_recognition_models"
CHIP, PADDING = 150, 0.25  # dlib's own chip for its descriptor


class NoEmbedder(Exception):
    """The embedding model is not installed (``pip install "face-clean[people]"``) or cannot be loaded."""


class NotInstalled(NoEmbedder):
    """The optional package is not installed: people are simply not grouped."""


def models_folder() -> Path:
    """Where ``face_recognition_models`` keeps its weights (NoEmbedder when it is not installed)."""
    spec = util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NotInstalled(f'grouping faces into people needs {PACKAGE}: pip install "face-clean[people]"')
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class Embedder:
    """dlib's landmark and descriptor models, loaded once; one face at a time (dlib's models are not
    shared between threads)."""

    def __init__(self, folder: Path | None = None) -> None:
        import dlib

        folder = folder or models_folder()
        try:
            self._landmarks = dlib.shape_predictor(str(folder / LANDMARKS))
            self._net = dlib.face_recognition_model_v1(str(folder / RECOGNITION))
        except Exception as err:  # dlib raises RuntimeError for a file it cannot read or parse
            raise NoEmbedder(f"cannot load dlib's face models from {folder}: {err}") from None
        self._dlib = dlib
        self._lock = threading.Lock()
        self.key = f"dlib-resnet-v1/{LANDMARKS}"  # what made a vector: vectors of another model never mix

    def embed_bytes(self, data: bytes, boxes: list[Box], max_pixels: int) -> list[NDArray[np.float32]]:
        """The embedding of each face box of the photo ``data`` (boxes in its upright pixels)."""
        return self.embed(decode(data, max_pixels).bgr, boxes)

    def embed(self, bgr: NDArray[np.uint8], boxes: list[Box]) -> list[NDArray[np.float32]]:
        return [self._one(FaceView(bgr, b, None, "")) for b in boxes]

    def _one(self, view: FaceView) -> NDArray[np.float32]:
        dlib, b = self._dlib, view.box
        m = max(int(b.w), int(b.h))  # a margin of the face's size on each side holds the chip
        rgb, ox, oy = view.rgb(int(b.x) - m, int(b.y) - m, int(b.x + b.w) + m, int(b.y + b.h) + m)
        rect = dlib.rectangle(int(b.x) - ox, int(b.y) - oy, int(b.x + b.w - 1) - ox, int(b.y + b.h - 1) - oy)
        with self._lock:
            shape = self._landmarks(rgb, rect)
            chip = dlib.get_face_chip(rgb, shape, CHIP, PADDING)
            vector: Any = self._net.compute_face_descriptor(chip)
        return np.asarray(vector, dtype=np.float32)
