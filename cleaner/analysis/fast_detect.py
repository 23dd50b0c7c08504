"""Face detection for the fast path: DeepFace's detectors, on several threads, without work nobody uses.

* **yunet is OpenCV's own** (cleaner.analysis.yunet): no border, no shrink, near misses kept apart.
* **A detector per thread.** DeepFace keeps one instance of each detector per process, and some
  cannot be shared: two threads in YuNet's ``detect`` crash the process (OpenCV's
  ``FaceDetectorYN`` holds the input size between ``setInputSize`` and ``detect``).  The light
  detectors get an instance per worker thread; the others (large networks) are shared behind a
  lock, so a second worker still decodes while the first detects.
* **DeepFace's steps, on this thread's detector.** ``detect_faces`` is: a black border round the
  image, the detector on it, then DeepFace's ``extract_face`` for each face.  The same steps run
  here with the worker's own detector, so workers never take turns (a lock on DeepFace's shared
  instance made two workers detect one at a time on small photos).  A face without eyes from a
  detector other than opencv (DeepFace then looks for the eyes with its shared opencv detector)
  sends the image through DeepFace's own function, behind the lock: the results are the same.
* **No alignment nobody uses.** ``extract_face`` rotates a region twice each face's size to
  align it on the eyes.  Only DeepFace's own models use that image, and only when it comes from
  the very image detection ran on (cleaner.analysis.batch cuts faces from a sharper copy when the
  photo was reduced).  Otherwise the boxes come out of ``extract_face``'s own arithmetic, minus
  the rotation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.analysis.yunet import YuNet
from cleaner.analysis.yunet import threshold as yunet_threshold

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

    def __init__(self, name: str, yunet_file: Path | None = None) -> None:
        self.name = name
        # yunet: OpenCV's own, at the copy's resolution, without DeepFace's border and shrink
        self._yunet = YuNet(yunet_file) if name == "yunet" and yunet_file is not None else None
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

    def detect(
        self, img: Any, aligned: bool, photo: Callable[[], Any] | None = None, scale: float = 1.0
    ) -> tuple[list[Found], list[Found]]:
        """The faces in ``img`` (BGR, ``scale`` x the photo ``photo()`` returns) and the near misses
        (yunet's, cleaner.analysis.yunet).  Other detectors: with ``aligned``, DeepFace's aligned face
        image too, what ``detection.detect_faces(img, align=True)`` returns, from this thread's detector."""
        if self._yunet is not None:
            found = self._yunet.detect(img, photo or (lambda: None), scale)
            accept = yunet_threshold()
            return [Found(a) for a in found if a.confidence >= accept], [
                Found(a) for a in found if a.confidence < accept
            ]
        return self._deepface(img, aligned), []

    def _deepface(self, img: Any, aligned: bool) -> list[Found]:
        import cv2
        from deepface.modules import detection

        height, width = img.shape[:2]
        bh, bw = int(0.5 * height), int(0.5 * width)
        bordered = cv2.copyMakeBorder(img, bh, bh, bw, bw, cv2.BORDER_CONSTANT, value=[0, 0, 0])
        areas = self._areas(bordered)
        if any(self.name != "opencv" and (a.left_eye is None or a.right_eye is None) for a in areas):
            # DeepFace looks for the eyes with its shared opencv detector: its own function, in turn
            with self._shared_lock:
                faces = detection.detect_faces(detector_backend=self.name, img=img, align=True)
            return [Found(f.facial_area, f.img) for f in faces]
        if aligned:
            return [Found(f.facial_area, f.img) for f in (self._extract(detection, a, bordered, bw, bh) for a in areas)]
        return [Found(_unbordered(a, bordered, bw, bh)) for a in areas]

    def _areas(self, bordered: Any) -> list[Any]:
        if self.parallel:
            return list(self._own().detect_faces(bordered))
        from deepface.modules import modeling

        with self._shared_lock:
            return list(modeling.build_model(task="face_detector", model_name=self.name).detect_faces(bordered))

    def _extract(self, detection: Any, area: Any, bordered: Any, bw: int, bh: int) -> Any:
        """DeepFace's own ``extract_face``: the face aligned on its eyes, and its region without the border."""
        return detection.extract_face(
            facial_area=area,
            img=bordered,
            align=True,
            expand_percentage=0,
            width_border=bw,
            height_border=bh,
            detector_backend=self.name,
        )


def _unbordered(a: Any, bordered: Any, bw: int, bh: int) -> Any:
    """extract_face's arithmetic without the rotation: clip to the bordered image, take the border off."""
    from deepface.models.Detector import FacialAreaRegion

    w = max(0, min(bordered.shape[1], a.x + a.w) - max(0, a.x))
    h = max(0, min(bordered.shape[0], a.y + a.h) - max(0, a.y))
    x, y = max(0, a.x), max(0, a.y)

    def back(point: Any) -> Any:
        return None if point is None else (point[0] - bw, point[1] - bh)

    return FacialAreaRegion(
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
