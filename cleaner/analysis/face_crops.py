"""Cutting a detected face out of a photo the way each kind of classifier was trained to see it.

* ``deepface``: what ``DeepFace.analyze`` feeds its demography models, exactly: the face
  extracted and aligned on the eyes by DeepFace's own ``extract_face``, BGR in [0, 1], padded
  to 224x224.
* ``align5``: dlib's 5-point alignment (the built-in models, and manifests that ask for it):
  dlib's landmark model on the detector's box, then ``get_face_chip_details`` and
  ``extract_image_chip``, as the built-in models' own pipeline does.
* ``enlarge``: the detector's box grown on every side by a share of its longer side, black
  where it leaves the photo, resized to the model's input.

A ``FaceView`` holds one face and the image it is cut from; crops are memoised per view, so
a gender and an age model that want the same crop cut it once.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.records import Box


@dataclass
class FaceView:
    """One face in the image it is cut from (BGR uint8, possibly a reduced copy of the photo)."""

    source: Any  # BGR uint8 array
    box: Box  # in ``source`` pixels
    region: Any  # deepface's FacialAreaRegion in ``source`` pixels (eyes for its alignment)
    detector: str
    deepface_img: Any = None  # deepface's own aligned face, when it was detected on ``source`` itself
    memo: dict[Any, Any] = field(default_factory=dict)

    def rgb(self, x0: int, y0: int, x1: int, y1: int) -> tuple[Any, int, int]:
        """The part of the photo from (x0, y0) to (x1, y1), clipped to the photo, in RGB, and where it
        starts: the whole photo turned to RGB for each face cost more than the rest of the crop."""
        h, w = self.source.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        return np.ascontiguousarray(self.source[y0:y1, x0:x1, ::-1]), x0, y0


def deepface_crop(view: FaceView) -> Any:
    """(224, 224, 3) float32 BGR in [0, 1], as DeepFace.analyze prepares a face."""
    if "deepface" in view.memo:
        return view.memo["deepface"]
    from deepface.modules import detection, preprocessing

    face_img = view.deepface_img
    if face_img is None:
        face_img = detection.extract_face(
            facial_area=view.region,
            img=view.source,
            align=True,
            expand_percentage=0,
            width_border=0,
            height_border=0,
            detector_backend=view.detector,
        ).img
    crop = None
    if face_img.shape[0] and face_img.shape[1]:
        face_rgb = face_img[:, :, ::-1]
        if face_rgb.max() > 1:
            face_rgb = face_rgb / 255
        crop = preprocessing.resize_image(img=face_rgb[:, :, ::-1], target_size=(224, 224))[0]
    view.memo["deepface"] = crop
    return crop


def enlarged(view: FaceView, factor: float, height: int, width: int) -> Any:
    """The box grown by ``factor`` x its longer side on every side, resized: RGB uint8."""
    import cv2

    key = ("enlarge", factor, height, width)
    if key in view.memo:
        return view.memo[key]
    b = view.box
    margin = factor * max(b.w, b.h)
    x0, y0 = math.floor(b.x - margin), math.floor(b.y - margin)
    x1, y1 = math.ceil(b.x + b.w + margin), math.ceil(b.y + b.h + margin)
    src, sx0, sy0 = view.rgb(x0, y0, x1, y1)
    canvas = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)  # black beyond the photo's edges
    if src.size:
        canvas[sy0 - y0 : sy0 - y0 + src.shape[0], sx0 - x0 : sx0 - x0 + src.shape[1]] = src
    shrink = canvas.shape[0] > height or canvas.shape[1] > width
    crop = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    view.memo[key] = crop
    return crop


class Aligner:
    """dlib's 5-point landmark model, loaded once; thread-safe (one predictor call at a time)."""

    def __init__(self, path: Path) -> None:
        import dlib

        self._dlib = dlib
        self.path = path
        try:
            self._predictor = dlib.shape_predictor(str(path))
        except Exception as err:  # dlib raises RuntimeError for a file it cannot parse
            raise ValueError(f"{path} cannot be loaded as dlib's landmark model: {err}") from None
        self._lock = threading.Lock()

    def chip(self, view: FaceView, size: int, padding: float) -> Any:
        """The face aligned on its 5 landmarks, ``size`` x ``size``, RGB uint8."""
        key = ("align5", size, padding)
        if key in view.memo:
            return view.memo[key]
        dlib, b = self._dlib, view.box
        if "align5" not in view.memo:
            # the landmarks and the chip come from around the face: a margin of the face's size on
            # each side holds every pixel either reads (the same chip as from the whole photo)
            m = max(int(b.w), int(b.h))
            rgb, ox, oy = view.rgb(int(b.x) - m, int(b.y) - m, int(b.x + b.w) + m, int(b.y + b.h) + m)
            rect = dlib.rectangle(int(b.x) - ox, int(b.y) - oy, int(b.x + b.w - 1) - ox, int(b.y + b.h - 1) - oy)
            with self._lock:
                view.memo["align5"] = rgb, self._predictor(rgb, rect)  # once for the gender and the age model
        rgb, shape = view.memo["align5"]
        details = dlib.get_face_chip_details(shape, size, padding)
        chip = np.ascontiguousarray(dlib.extract_image_chip(rgb, details))
        view.memo[key] = chip
        return chip


SHARPNESS_SIDE = 64  # the chip's side for the sharpness measure: one scale for every face


def sharpness(view: FaceView) -> float:
    """How sharp the face is: the variance of the Laplacian of its box, grey, resized to 64 x 64
    (a blurred or tiny face scores low: under about 50 the gender net is guessing)."""
    import cv2

    b = view.box
    src, _, _ = view.rgb(int(b.x), int(b.y), int(b.x + b.w), int(b.y + b.h))
    if not src.size:
        return 0.0
    grey = cv2.cvtColor(src, cv2.COLOR_RGB2GRAY)
    chip = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return round(float(cv2.Laplacian(chip, cv2.CV_64F).var()), 1)


def photo_box(area: Any, scale: float, width: int, height: int) -> Box:
    """A detected region (in pixels of a copy ``scale`` x the photo) as a box in the photo, inside it."""
    x, y = max(0, int(area.x / scale)), max(0, int(area.y / scale))
    return Box(x, y, min(width - x - 1, int(area.w / scale)), min(height - y - 1, int(area.h / scale)))
