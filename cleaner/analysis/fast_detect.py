"""Face detection for the fast path: DeepFace's detectors, on several threads, without work nobody uses.

* **A detector per thread.** DeepFace keeps one instance of each detector per process, and some
  cannot be shared: two threads in YuNet's ``detect`` crash the process (OpenCV's
  ``FaceDetectorYN`` holds the input size between ``setInputSize`` and ``detect``).  The light
  detectors get an instance per worker thread; the others (large networks) are shared behind a
  lock, so a second worker still decodes while the first detects.
* **No alignment nobody uses.** DeepFace's ``detect_faces`` rotates a region twice each face's
  size to align it on the eyes.  Only DeepFace's own models use that image, and only when it
  comes from the very image detection ran on (cleaner.analysis.batch cuts faces from a sharper copy when
  the photo was reduced).  Otherwise the same detector runs on the same black-bordered image and
  the boxes come out of DeepFace's own arithmetic (``extract_face``), minus the rotation.  A
  face without eyes from a detector other than opencv (DeepFace then looks for eyes with opencv's
  cascades) sends the image through DeepFace's own function instead: the results are the same.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

# Detectors that are small and cheap to build: one instance per worker thread.
PER_THREAD = frozenset({"opencv", "yunet", "ssd", "centerface", "dlib"})


@dataclass(frozen=True)
class Found:
    """A face as DeepFace's ``detect_faces`` returns it: its region in the image's own pixels, and
    DeepFace's aligned face image when it was asked for (``aligned=True``)."""

    area: Any  # deepface's FacialAreaRegion
    img: Any = None


class Detectors:
    """One detector by name, safe to call from several threads at once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._local = threading.local()
        self._shared_lock = threading.Lock()  # DeepFace's own instance: one thread at a time

    @property
    def parallel(self) -> bool:
        """Whether several threads detect at the same time (else they take turns)."""
        return self.name in PER_THREAD

    def _own(self) -> Any:
        detector = getattr(self._local, "detector", None)
        if detector is None:
            from deepface.modules import modeling

            detector = modeling.get_model_class(task="face_detector", model_name=self.name)()
            self._local.detector = detector
        return detector

    def detect(self, img: Any, aligned: bool) -> list[Found]:
        """The faces in ``img`` (BGR); with ``aligned``, DeepFace's aligned face image too."""
        if not aligned:
            found = self._lean(img)
            if found is not None:
                return found
        from deepface.modules import detection

        with self._shared_lock:
            faces = detection.detect_faces(detector_backend=self.name, img=img, align=True)
        return [Found(f.facial_area, f.img) for f in faces]

    def _lean(self, img: Any) -> list[Found] | None:
        """detection.detect_faces(img, align=True) without the rotation; None where DeepFace would
        look for eyes with another detector (the caller then asks DeepFace itself)."""
        import cv2
        from deepface.models.Detector import FacialAreaRegion

        height, width = img.shape[:2]
        bh, bw = int(0.5 * height), int(0.5 * width)
        bordered = cv2.copyMakeBorder(img, bh, bh, bw, bw, cv2.BORDER_CONSTANT, value=[0, 0, 0])
        if self.parallel:
            areas = self._own().detect_faces(bordered)
        else:
            from deepface.modules import modeling

            with self._shared_lock:
                areas = modeling.build_model(task="face_detector", model_name=self.name).detect_faces(bordered)
        found = []
        for a in areas:
            if self.name != "opencv" and (a.left_eye is None or a.right_eye is None):
                return None
            # extract_face's arithmetic: clip to the bordered image, then take the border off
            w = max(0, min(bordered.shape[1], a.x + a.w) - max(0, a.x))
            h = max(0, min(bordered.shape[0], a.y + a.h) - max(0, a.y))
            x, y = max(0, a.x), max(0, a.y)

            def back(point: Any) -> Any:
                return None if point is None else (point[0] - bw, point[1] - bh)

            region = FacialAreaRegion(
                x=x - bw,
                y=y - bh,
                h=h,
                w=w,
                confidence=a.confidence,
                left_eye=back(a.left_eye),
                right_eye=back(a.right_eye),
                nose=back(a.nose),
                mouth_left=back(a.mouth_left),
                mouth_right=back(a.mouth_right),
            )
            found.append(Found(region))
        return found
