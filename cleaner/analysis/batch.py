"""The fast path: many images through the same models, several times faster than one
``DeepFace.analyze`` per file, with the same decisions.

* Detection runs on a copy no larger than ``detect_size`` pixels (full-resolution detection
  dominates the plain path); JPEGs are decoded straight at reduced scale.  Boxes and eyes are
  mapped back and each classifier cuts its faces (cleaner.analysis.face_crops) from an image sharp
  enough for it (DeepFace's models: 224 px per face; full resolution if need be).
* Faces from several images go through the gender and age models in one batch.  If a batch
  fails, its images are tried one at a time, so only an image the model fails on is an error.
* Reading, decoding and detecting run on worker threads (each with its own detector, see
  cleaner.analysis.fast_detect) while the caller's thread runs the models (OpenCV, Pillow and
  onnxruntime release the GIL), and results come back in order.  How many workers, how many
  threads the models get and how many faces go into one model call are measured as the run goes
  (cleaner.analysis.tuning); ``stats`` says where the time went (cleaner.analysis.stage_clock).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.analysis.batch_tuning import BatchTuning, TuningStore
from cleaner.analysis.classifiers import GENDER_ORDER, DeepFaceClassifier
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.analysis.face_crops import FaceView, photo_box, sharpness
from cleaner.analysis.fast_detect import Detectors
from cleaner.analysis.protocol import ModelIdentity
from cleaner.analysis.reading import FileBytes, read_file
from cleaner.analysis.stage_clock import StageClock
from cleaner.analysis.yunet import yaw
from cleaner.records import Box, Face, ImageAnalysis, Status

PREFETCH = 4  # images read and detected ahead of the model
log = logging.getLogger("face-clean")


@dataclass
class Prepared:
    """An image up to, not including, the demography models."""

    analysis: ImageAnalysis
    boxes: list[tuple[Box, float, float | None, float | None]] = field(default_factory=list)  # and yaw, sharpness
    crops: list[dict[str, Any]] = field(default_factory=list)  # per box: each classifier's input, by task


class BatchAnalyzer:
    def __init__(
        self,
        analyzer: FaceAnalyzer,
        detect_size: int | None = None,
        batch_faces: int | None = None,
        workers: int | None = None,
        lookup: Callable[[FileBytes], ImageAnalysis | None] | None = None,
        read: Callable[[Path], FileBytes | ImageAnalysis] = read_file,
        tuning_store: TuningStore | None = None,
    ) -> None:
        """``lookup`` finds a cached analysis by content once a file is read (a renamed photo, say);
        it is called from the worker threads. ``read`` reads a file (cleaner.analysis.reading: below which
        folder no link is followed, and the memory budget).  ``batch_faces`` and ``workers`` fix
        what is otherwise tuned (cleaner.analysis.batch_tuning); ``tuning_store`` keeps what was learnt."""
        self.analyzer = analyzer
        self.detect_size = analyzer.identity.detect_size if detect_size is None else detect_size
        self.tuning = BatchTuning(analyzer, tuning_store, workers, batch_faces)
        self.lookup = lookup
        self.read = read
        self.detectors = Detectors(analyzer.detector, analyzer.yunet_file)
        self._deepface_models = any(isinstance(c, DeepFaceClassifier) for c in analyzer.classifiers.values())
        # kept between calls (the watch daemon's batches): each worker keeps its own detector
        self._pool = ThreadPoolExecutor(self.tuning.most_workers, thread_name_prefix="face-clean-detect")
        weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        self.stats = StageClock()

    @property
    def identity(self) -> ModelIdentity:
        return self.analyzer.identity

    def analyze_many(self, items: Iterable[Path | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """Analyses in input order; an ImageAnalysis given in (a cache hit) passes straight through."""
        window: deque[Future[Prepared] | ImageAnalysis] = deque()
        started = self._mark = time.perf_counter()
        try:
            for item in items:
                if isinstance(item, ImageAnalysis):
                    window.append(item)
                else:
                    window.append(self._pool.submit(self._prepare, item))
                if len(window) >= self._ahead():
                    yield from self._drain(window)
            while window:
                yield from self._drain(window)
        finally:
            # Interrupted: do not wait for images read ahead, they were never decided.
            for head in window:
                if isinstance(head, Future):
                    head.cancel()
            self.stats.wall += time.perf_counter() - started
            self.tuning.save()

    def _ahead(self) -> int:
        """Images in flight: a batch for the models, and as many more being prepared meanwhile (a
        window of one batch left the workers idle while the models ran, and the models while they
        worked)."""
        return 2 * self.tuning.batch_faces + PREFETCH + self.tuning.workers

    def _drain(self, window: deque[Future[Prepared] | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """Take images off the front until a batch of faces is full, run the models, yield them."""
        taken: list[Prepared | ImageAnalysis] = []
        faces = 0
        while window and faces < self.tuning.batch_faces:
            head = window.popleft()
            if isinstance(head, ImageAnalysis):
                item: Prepared | ImageAnalysis = head
            else:
                waited = time.perf_counter()
                item = head.result()
                self.stats.waiting_for_prepare += time.perf_counter() - waited
            taken.append(item)
            if isinstance(item, Prepared):
                faces += len(item.crops)
        yield from self._finish(taken)
        # the pipeline's pace, the caller's work on these images included: what the workers are tuned by
        now = time.perf_counter()
        analysed = sum(1 for t in taken if isinstance(t, Prepared))
        if analysed:
            self.tuning.images_done(analysed, now - self._mark)
        self._mark = now

    def _prepare(self, path: Path) -> Prepared:
        with self.tuning.gate:
            started = time.perf_counter()
            try:
                return self._prepare_one(path)
            finally:
                self.stats.prepared(time.perf_counter() - started, self.tuning.workers)

    def _prepare_one(self, path: Path) -> Prepared:
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

        analysis, drafted = self.analyzer.decode(f, draft_to=self.detect_size or None)
        if drafted is None:
            return Prepared(analysis)
        width, height = drafted.full_size
        scale = min(1.0, self.detect_size / max(width, height)) if self.detect_size else 1.0
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
        small: Any = drafted.bgr
        if (small.shape[1], small.shape[0]) != target:
            small = cv2.resize(small, target, interpolation=cv2.INTER_AREA)
        prepared = Prepared(analysis)
        # DeepFace's aligned face image is used only by its own models, and only when the faces are
        # cut from the very image detection ran on (cleaner.analysis.fast_detect)
        aligned = scale >= 1.0 and self._deepface_models

        def photo() -> Any:  # the photo at full resolution, for a second pass (None: over the memory budget)
            if max(drafted.bgr.shape[:2]) >= max(width, height):
                return drafted.bgr
            full = self.analyzer.decode(f)[1]
            return None if full is None else full.bgr

        found_faces, weak = self.detectors.detect(small, aligned, photo, scale)
        if weak:
            near = tuple(
                Face(photo_box(w.area, scale, width, height), round(float(w.area.confidence), 2)) for w in weak
            )
            prepared.analysis = replace(analysis, near_misses=near)
        source, ratio = drafted.bgr, 1.0  # where faces are cut from; its scale relative to ``small``
        side = max((c.side for c in self.analyzer.classifiers.values()), default=0)
        if found_faces and scale < 1.0 and side:
            # Cut faces from an image just sharp enough that the smallest face keeps the pixels
            # its model uses (224 for DeepFace's; from the full resolution if need be): the model
            # sees no difference, and a 12-megapixel JPEG with a big face need not be decoded whole.
            smallest = min(max(1, face.area.w) for face in found_faces) / scale
            needed = min(1.0, side / smallest) * max(width, height)
            if max(drafted.width, drafted.height) < needed:
                sharper = self.analyzer.decode(f, draft_to=int(needed) + 1)[1]
                source = drafted.bgr if sharper is None else sharper.bgr  # None: over the memory budget
            ratio = source.shape[1] / small.shape[1]
        for found in found_faces:
            area, region = (found.area, found.area) if scale >= 1.0 else scaled_areas(found.area, scale, ratio)
            view = FaceView(
                source, Box(region.x, region.y, region.w, region.h), region, self.analyzer.detector, found.img
            )
            inputs = {task: c.prepare(view) for task, c in self.analyzer.classifiers.items()}
            if any(v is None for v in inputs.values()):
                continue  # an empty crop: deepface drops such a face too
            box = photo_box(area, 1.0, width, height)
            prepared.boxes.append((box, round(float(area.confidence or 0), 2), yaw(found.area), sharpness(view)))
            prepared.crops.append(inputs)
        return prepared

    def _finish(self, taken: list[Prepared | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        prepared = [t for t in taken if isinstance(t, Prepared) and t.crops]
        predictions: dict[int, Any] = {}
        if prepared:
            self.analyzer.models()  # loaded before the first file (cleaner.cli); a ModelError stops the run
            try:
                predictions = self._predict(prepared)
            except Exception:
                # One image can make a whole batch fail: try each alone, so only that one is an error.
                log.debug("a batch of %d images failed; trying them one by one", len(prepared), exc_info=True)
                for t in prepared:
                    try:
                        predictions.update(self._predict([t]))
                    except Exception as err:
                        log.debug("analysis of %s failed", t.analysis.path, exc_info=True)
                        predictions[id(t)] = f"analysis failed: {type(err).__name__}: {err}"
        self.stats.images += len(taken)
        self.stats.faces += sum(len(t.crops) for t in prepared)
        for item in taken:
            if isinstance(item, ImageAnalysis):
                yield item
            elif not item.crops:  # no face, unreadable, or found in the cache: complete as it is
                yield item.analysis
            elif isinstance(predictions[id(item)], str):
                yield replace(item.analysis, status=Status.ERROR, error=predictions[id(item)])
            else:
                yield replace(item.analysis, faces=tuple(predictions[id(item)]))

    def _predict(self, prepared: list[Prepared]) -> dict[int, list[Face]]:
        """Every face of these images through each classifier, in calls of the tuned size; faces by image."""
        classifiers = self.analyzer.models()
        crops = [crop for t in prepared for crop in t.crops]
        parts: dict[str, list[Any]] = {task: [] for task in classifiers}
        at = 0
        while at < len(crops):
            chunk = crops[at : at + self.tuning.batch_faces]
            started = time.perf_counter()
            for task, c in classifiers.items():
                parts[task].append(c.predict(np.stack([crop[task] for crop in chunk])))
            seconds = time.perf_counter() - started
            self.stats.model_busy += seconds
            self.tuning.model_ran(len(chunk), seconds)
            at += len(chunk)
        outputs = {task: np.concatenate(p) for task, p in parts.items()}
        faces: dict[int, list[Face]] = {}
        at = 0
        for t in prepared:
            faces[id(t)] = [self._face(t.boxes[i], outputs, at + i) for i in range(len(t.crops))]
            at += len(t.crops)
        return faces

    @staticmethod
    def _face(box: tuple[Box, float, float | None, float | None], outputs: dict[str, Any], i: int) -> Face:
        gender = dominant = age = None
        if "gender" in outputs:
            probs = outputs["gender"][i]
            # the same float -> percent -> fraction round trip as DeepFace.analyze
            gender = {label: float(100 * probs[j]) / 100.0 for j, label in enumerate(GENDER_ORDER)}
            dominant = GENDER_ORDER[int(np.argmax(probs))]
        if "age" in outputs:
            age = float(outputs["age"][i])
        return Face(box[0], box[1], gender, dominant, age, yaw=box[2], sharpness=box[3])


def scaled_areas(area: Any, scale: float, ratio: float) -> tuple[Any, Any]:
    """A face found on the reduced copy: its box in the full photo's pixels (without the eyes), and
    its region (box and eyes) in the pixels of the image the face is cut from (``ratio`` x the copy)."""
    from deepface.models.Detector import FacialAreaRegion

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
    full = FacialAreaRegion(
        x=int(area.x / scale),
        y=int(area.y / scale),
        w=int(area.w / scale),
        h=int(area.h / scale),
        confidence=area.confidence,
    )
    return full, region
