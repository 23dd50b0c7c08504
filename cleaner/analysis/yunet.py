"""OpenCV's YuNet run directly, at the resolution the photo needs, with a second pass where the first finds nobody.

DeepFace's ``detect_faces`` puts a black border of half the image on every side and its YuNet
wrapper then shrinks anything over 640 px to 640: a photo reduced to 800 px was seen at about
320 px, and on the street and news photos of ``../shared/labelled-wild/`` a fifth of the faces a
person sees were missed.  Here ``cv2.FaceDetectorYN`` sees the copy itself (the photo at
``detect_size`` at most), with no border and no shrink, so ``detect_size``, ``min_face_size``
and the threshold mean what they say, in the photo's pixels.

* **First pass**: the copy, at the near-miss floor (``NEAR_MISS``); what scores at least the
  threshold (``yunet_score_threshold``, 0.7) is a face, what scores between the two is a *near
  miss* (a face the detector is not sure of: where counting it would change the decision, the
  rules send the photo to review, never to ``no-face``; cleaner.rules.doubts).
* **Second pass, only on a photo where the first found no face and only when the copy was
  reduced**: the photo at full resolution, whole up to twice ``detect_size``, beyond that in
  overlapping tiles of ``detect_size``.  Its faces join the first pass's.  A photo the first pass
  saw whole gets no second look: upscaling finds faces under about 20 px, which no rule counts
  (``min_face_size``, ``cannot_tell: small_faces``), at four times the cost.

Landmarks come back as DeepFace names them (``left_eye`` is the eye on the image's left); ``yaw``
estimates how far a face is turned from its 5 landmarks.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

NEAR_MISS = 0.6  # the floor below which a detection is nothing at all (docs/ml/accuracy.md says why)
TILED_FROM = 2  # a photo more than this many times the copy's size is seen in tiles by the second pass
TILE_OVERLAP = 0.25  # share of a tile that overlaps its neighbour, so a face on a seam is whole in one
SAME_FACE_IOU = 0.4  # two detections overlapping this much are the same face
THRESHOLD_ENV = "yunet_score_threshold"


def threshold() -> float:
    """The score from which a detection is a face (DeepFace's variable; face-clean sets 0.7)."""
    try:
        return min(1.0, max(NEAR_MISS, float(os.environ.get(THRESHOLD_ENV, "0.7"))))
    except ValueError:
        return 0.7


class YuNet:
    """``cv2.FaceDetectorYN`` on one model file, one instance per thread (it holds its input size)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _model(self) -> Any:
        model = getattr(self._local, "model", None)
        if model is None:
            import cv2

            model = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), NEAR_MISS, 0.3, 5000)
            self._local.model = model
        return model

    def raw(self, img: Any) -> list[Any]:
        """Every detection at the near-miss floor: rows of x, y, w, h, 5 landmarks, score."""
        model = self._model()
        model.setInputSize((img.shape[1], img.shape[0]))
        _, faces = model.detect(img)
        return [] if faces is None else [row for row in faces]

    def detect(self, img: Any, full: Callable[[], Any], scale: float) -> list[Any]:
        """The faces and near misses of ``img`` (the copy, ``scale`` x the photo), as deepface's
        FacialAreaRegion in ``img``'s pixels; ``full()`` is the photo itself (None: over budget)."""
        found = [_region(r, 1.0) for r in self.raw(img)]
        if any(a.confidence >= threshold() for a in found):
            return found
        if scale >= 1.0:
            return found  # the detector saw the photo itself: a second look sees nothing new
        photo = full()
        if photo is None:
            return found
        side = max(img.shape[:2])
        rows = self.raw(photo) if max(photo.shape[:2]) <= TILED_FROM * side else self._tiles(photo, side)
        return _merge(found, [_region(r, scale) for r in rows])

    def _tiles(self, photo: Any, side: int) -> list[Any]:
        """Detections on the photo in overlapping tiles ``side`` px square, in the photo's pixels."""
        h, w = photo.shape[:2]
        step = max(1, int(side * (1 - TILE_OVERLAP)))
        rows: list[Any] = []
        for y0 in _starts(h, side, step):
            for x0 in _starts(w, side, step):
                for r in self.raw(photo[y0 : y0 + side, x0 : x0 + side]):
                    r = r.copy()
                    r[[0, 4, 6, 8, 10, 12]] += x0  # x of the box and of each landmark
                    r[[1, 5, 7, 9, 11, 13]] += y0
                    rows.append(r)
        return rows


def _starts(length: int, side: int, step: int) -> list[int]:
    if length <= side:
        return [0]
    starts = list(range(0, length - side, step))
    return [*starts, length - side]


def _region(row: Any, k: float) -> Any:
    """A YuNet row, its coordinates times ``k``, as DeepFace's FacialAreaRegion (box clipped at 0)."""
    from deepface.models.Detector import FacialAreaRegion

    v = [float(c) * k for c in row[:14]]

    def pt(i: int) -> tuple[int, int]:
        return int(v[i]), int(v[i + 1])

    x, y = max(0.0, v[0]), max(0.0, v[1])
    return FacialAreaRegion(
        x=int(x),
        y=int(y),
        w=int(v[2] + min(0.0, v[0])),
        h=int(v[3] + min(0.0, v[1])),
        confidence=float(row[14]),
        left_eye=pt(4),
        right_eye=pt(6),
        nose=pt(8),
        mouth_left=pt(10),
        mouth_right=pt(12),
    )


def _iou(a: Any, b: Any) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def _merge(first: list[Any], more: list[Any]) -> list[Any]:
    """Both passes' detections, one per face (the better scored), best first."""
    kept: list[Any] = []
    for a in sorted([*first, *more], key=lambda a: -a.confidence):
        if all(_iou(a, k) < SAME_FACE_IOU for k in kept):
            kept.append(a)
    return kept


def yaw(area: Any) -> float | None:
    """How far the face is turned left or right, in degrees (0: facing the camera, 90: profile),
    estimated from where the nose tip lies between the eyes; None without the landmarks."""
    eyes, nose = (area.left_eye, area.right_eye), getattr(area, "nose", None)
    if nose is None or None in eyes:
        return None
    (lx, ly), (rx, ry) = eyes
    distance = math.hypot(rx - lx, ry - ly)
    if distance < 1:
        return 90.0
    # the nose tip's offset from the eyes' midpoint along the line between the eyes, as a share of
    # half that distance: 0 facing the camera, 1 when it lies over an eye (about a profile)
    along = ((nose[0] - (lx + rx) / 2) * (rx - lx) + (nose[1] - (ly + ry) / 2) * (ry - ly)) / distance
    share = min(1.0, abs(along) / (distance / 2))
    return round(math.degrees(math.asin(share)), 1)
