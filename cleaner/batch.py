"""The fast path: many images through the same models, several times faster than one
``DeepFace.analyze`` per file, with the same decisions.

* Detection runs on a copy no larger than ``detect_size`` pixels (full-resolution detection
  dominates the plain path); JPEGs are decoded straight at reduced scale.  Boxes and eyes are
  mapped back and the faces cut out and aligned with deepface's own ``extract_face`` from an
  image sharp enough that each face keeps the model's 224 px (full resolution if need be).
* Faces from several images go through the demography models in one batch.
* Reading, decoding and detecting run in a worker thread while the main thread runs the
  models (OpenCV, Pillow and onnxruntime release the GIL), and results come back in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.analyze import FaceAnalyzer, FileBytes, ModelIdentity, read_file
from cleaner.records import Box, Face, ImageAnalysis, Status

BATCH_FACES = 8  # faces per model call (16 gains little and holds 200 MB more activations)
PREFETCH = 4  # images read and detected ahead of the model
MODEL_SIDE = 224  # the demography models' input: faces are never cut out sharper than this needs


@dataclass
class Prepared:
    """An image up to, not including, the demography models."""

    analysis: ImageAnalysis
    boxes: list[tuple[Box, float]] = field(default_factory=list)
    crops: list[Any] = field(default_factory=list)  # (224, 224, 3) float32 BGR in [0, 1], one per box


class BatchAnalyzer:
    def __init__(
        self,
        analyzer: FaceAnalyzer,
        detect_size: int | None = None,
        batch_faces: int = BATCH_FACES,
        workers: int = 1,
        lookup: Callable[[FileBytes], ImageAnalysis | None] | None = None,
        read: Callable[[Path], FileBytes | ImageAnalysis] = read_file,
    ) -> None:
        """``lookup`` finds a cached analysis by content once a file is read (a renamed photo, say);
        it is called from the worker thread. ``read`` reads a file (cleaner.reading: below which
        folder no link is followed, and the memory budget)."""
        self.analyzer = analyzer
        self.detect_size = analyzer.identity.detect_size if detect_size is None else detect_size
        self.batch_faces = batch_faces
        self.workers = workers
        self.lookup = lookup
        self.read = read

    @property
    def identity(self) -> ModelIdentity:
        return self.analyzer.identity

    def analyze_many(self, items: Iterable[Path | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """Analyses in input order; an ImageAnalysis given in (a cache hit) passes straight through."""
        window: deque[Future[Prepared] | ImageAnalysis] = deque()
        ahead = max(PREFETCH, self.batch_faces)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="face-clean-detect")
        try:
            for item in items:
                if isinstance(item, ImageAnalysis):
                    window.append(item)
                else:
                    window.append(pool.submit(self._prepare, item))
                if len(window) >= ahead:
                    yield from self._drain(window)
            while window:
                yield from self._drain(window)
        finally:
            # Interrupted: do not wait for images read ahead, they were never decided.
            pool.shutdown(wait=False, cancel_futures=True)

    def _drain(self, window: deque[Future[Prepared] | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """Take images off the front until a batch of faces is full, run the models, yield them."""
        taken: list[Prepared | ImageAnalysis] = []
        faces = 0
        while window and faces < self.batch_faces:
            head = window.popleft()
            item = head if isinstance(head, ImageAnalysis) else head.result()
            taken.append(item)
            if isinstance(item, Prepared):
                faces += len(item.crops)
        yield from self._finish(taken)

    def _prepare(self, path: Path) -> Prepared:
        f = self.read(path)
        if isinstance(f, ImageAnalysis):
            return Prepared(f)
        hit = self.lookup(f) if self.lookup else None
        if hit is not None:
            return Prepared(hit)
        try:
            return self._detect(f)
        except Exception as err:  # a detector failing on one image must not stop the run
            analysis = ImageAnalysis(path, len(f.data), f.sha256, mtime_ns=f.st.st_mtime_ns)
            return Prepared(
                replace(analysis, status=Status.ERROR, error=f"detection failed: {type(err).__name__}: {err}")
            )

    def _detect(self, f: FileBytes) -> Prepared:
        import cv2
        from deepface.models.Detector import FacialAreaRegion
        from deepface.modules import detection, preprocessing

        analysis, drafted = self.analyzer.decode(f, draft_to=self.detect_size or None)
        if drafted is None:
            return Prepared(analysis)
        width, height = drafted.full_size
        scale = min(1.0, self.detect_size / max(width, height)) if self.detect_size else 1.0
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = drafted.bgr
        if (small.shape[1], small.shape[0]) != target:
            small = cv2.resize(small, target, interpolation=cv2.INTER_AREA)
        prepared = Prepared(analysis)
        found_faces = detection.detect_faces(detector_backend=self.analyzer.detector, img=small, align=True)
        source, ratio = drafted.bgr, 1.0  # where faces are cut from; its scale relative to ``small``
        if found_faces and scale < 1.0:
            # Cut faces from an image just sharp enough that the smallest face keeps the model's
            # 224 px (from the full resolution if need be): the model sees no difference, and a
            # 12-megapixel JPEG with a big face need not be decoded whole.
            smallest = min(max(1, face.facial_area.w) for face in found_faces) / scale
            needed = min(1.0, MODEL_SIDE / smallest) * max(width, height)
            if max(drafted.width, drafted.height) < needed:
                sharper = self.analyzer.decode(f, draft_to=int(needed) + 1)[1]
                source = drafted.bgr if sharper is None else sharper.bgr  # None: over the memory budget
            ratio = source.shape[1] / small.shape[1]
        for found in found_faces:
            face_img, area = found.img, found.facial_area
            if scale < 1.0:

                def up(point: Any, k: float) -> Any:
                    return None if point is None else (int(point[0] * k), int(point[1] * k))

                region = FacialAreaRegion(
                    x=int(area.x * ratio),
                    y=int(area.y * ratio),
                    w=int(area.w * ratio),
                    h=int(area.h * ratio),
                    left_eye=up(area.left_eye, ratio),
                    right_eye=up(area.right_eye, ratio),
                    confidence=area.confidence,
                )
                face_img = detection.extract_face(
                    facial_area=region,
                    img=source,
                    align=True,
                    expand_percentage=0,
                    width_border=0,
                    height_border=0,
                    detector_backend=self.analyzer.detector,
                ).img
                area = FacialAreaRegion(
                    x=int(area.x / scale),
                    y=int(area.y / scale),
                    w=int(area.w / scale),
                    h=int(area.h / scale),
                    confidence=area.confidence,
                )
            if face_img.shape[0] == 0 or face_img.shape[1] == 0:
                continue
            # exactly what DeepFace.analyze feeds the models: BGR scaled to [0, 1], padded to 224
            face_rgb = face_img[:, :, ::-1]
            if face_rgb.max() > 1:
                face_rgb = face_rgb / 255
            crop = preprocessing.resize_image(img=face_rgb[:, :, ::-1], target_size=(224, 224))[0]
            x, y = max(0, int(area.x)), max(0, int(area.y))
            box = Box(x, y, min(width - x - 1, int(area.w)), min(height - y - 1, int(area.h)))
            prepared.boxes.append((box, round(float(area.confidence or 0), 2)))
            prepared.crops.append(crop)
        return prepared

    def _finish(self, taken: list[Prepared | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        crops = [c for t in taken if isinstance(t, Prepared) for c in t.crops]
        predictions: dict[str, Any] = {}
        error: str | None = None
        if crops:
            models = self.analyzer.models()  # loaded on the first face; a ModelError stops the run
            try:
                predictions = self._predict(models, np.stack(crops))
            except Exception as err:
                error = f"analysis failed: {type(err).__name__}: {err}"
        at = 0
        for t in taken:
            if isinstance(t, ImageAnalysis):
                yield t
                continue
            n = len(t.crops)
            if not n:  # no face, unreadable, or found in the cache: the analysis is complete as it is
                yield t.analysis
            elif error:
                yield replace(t.analysis, status=Status.ERROR, error=error)
            else:
                yield replace(t.analysis, faces=tuple(self._face(t.boxes[i], predictions, at + i) for i in range(n)))
            at += n

    def _predict(self, models: dict[str, Any], batch: Any) -> dict[str, Any]:
        from deepface.models.demography.DemographyUtils import GENDER_LABELS

        out: dict[str, Any] = {}
        if "gender" in self.analyzer.attributes:
            probs = np.atleast_2d(np.asarray(models["Gender"].predict(batch)))
            out["gender"] = (probs, GENDER_LABELS)
        if "age" in self.analyzer.attributes:
            out["age"] = np.atleast_1d(np.asarray(models["Age"].predict(batch), dtype=np.float64))
        return out

    @staticmethod
    def _face(box: tuple[Box, float], predictions: dict[str, Any], i: int) -> Face:
        gender = dominant = age = None
        if "gender" in predictions:
            probs, labels = predictions["gender"]
            # the same float32 -> percent -> fraction round trip as the plain path
            gender = {label: float(100 * probs[i][j]) / 100.0 for j, label in enumerate(labels)}
            dominant = str(labels[int(np.argmax(probs[i]))])
        if "age" in predictions:
            age = float(int(predictions["age"][i]))
        return Face(box[0], box[1], gender, dominant, age)
