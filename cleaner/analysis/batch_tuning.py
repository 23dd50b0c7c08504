"""What the fast path (cleaner.analysis.batch) tunes as it runs, and where the results are kept.

* **The models**: intra-op threads (1 to the cores there are) and faces per call (1 to the
  models' ``max_batch``, powers of two), by the models' own faces per second.
* **The workers** that read, decode and detect (1 to the cores, at most 4), by the images per
  second the whole pipeline delivers (the caller's work included).  With several workers, each
  gets an equal share of OpenCV's threads: YuNet's network already spreads over every core, and
  two workers each asking for all of them only fight.

Each is fixed instead when the caller or ``FACE_CLEAN_BATCH``, ``FACE_CLEAN_THREADS`` or
``FACE_CLEAN_WORKERS`` say so (for measurements).  The best settings found are kept per model
files and machine (cleaner.store.tuning).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from cleaner import environment
from cleaner.analysis import devices, onnx_session
from cleaner.analysis.machine import tuning_key
from cleaner.analysis.tuning import Tuner

BATCHES = (1, 2, 4, 8, 16, 32, 64)
MAX_WORKERS = 4
GPU_MAX_BATCH = 64  # a GPU's memory holds far more activations than the 1.2 GB a CPU run may take


class TuningStore(Protocol):
    def tuned(self, key: str) -> tuple[int, ...] | None: ...
    def remember_tuning(self, key: str, value: tuple[int, ...]) -> None: ...


def _fixed(name: str) -> int | None:
    """FACE_CLEAN_BATCH, _THREADS or _WORKERS (cleaner.environment: a bad value stops the command)."""
    env = environment.read()
    return {"FACE_CLEAN_BATCH": env.batch, "FACE_CLEAN_THREADS": env.threads, "FACE_CLEAN_WORKERS": env.workers}[name]


class Gate:
    """At most ``limit`` threads inside at once; the limit can change while they wait."""

    def __init__(self, limit: int) -> None:
        self.limit, self._inside = limit, 0
        self._cond = threading.Condition()

    def set(self, limit: int) -> None:
        with self._cond:
            self.limit = limit
            self._cond.notify_all()

    def __enter__(self) -> Gate:
        with self._cond:
            self._cond.wait_for(lambda: self._inside < self.limit)
            self._inside += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._inside -= 1
            self._cond.notify()


class BatchTuning:
    def __init__(self, analyzer: Any, store: TuningStore | None, workers: int | None, batch: int | None) -> None:
        self.store = store
        cores = onnx_session.available_threads()
        classifiers = list(analyzer.classifiers.values())
        gpu = devices.CUDA in devices.providers()
        most = GPU_MAX_BATCH if gpu else min((c.max_batch for c in classifiers), default=8)
        batch = batch or _fixed("FACE_CLEAN_BATCH")
        batches = [batch] if batch else [b for b in BATCHES if b <= most]
        # threads matter to onnxruntime on the CPU only (tensorflow keeps its own pools)
        threads = [cores] if gpu or analyzer.identity.engine != "onnx" else list(range(1, cores + 1))
        threads = [t] if (t := _fixed("FACE_CLEAN_THREADS")) else threads
        identity, device = analyzer.identity, "cuda" if gpu else "cpu"
        self._keys = (
            tuning_key("models", identity.model_sha256, device),
            tuning_key(f"workers {analyzer.detector}", identity.model_sha256, device),
        )
        start = self._stored(0) or (cores, min(4, most))
        self.models = Tuner([threads, batches], start, min_seconds=0.5)
        workers = workers or _fixed("FACE_CLEAN_WORKERS")
        axis = [workers] if workers else list(range(1, min(MAX_WORKERS, cores) + 1))
        self.workers_tuner = Tuner([axis], self._stored(1) or (1,), min_units=16, min_seconds=2.0)
        self.gate = Gate(self.workers)
        self._saved: list[tuple[int, ...] | None] = [None, None]
        self._skip_next = False
        self._apply()

    def _stored(self, i: int) -> tuple[int, ...] | None:
        return self.store.tuned(self._keys[i]) if self.store is not None else None

    @property
    def most_workers(self) -> int:
        return max(self.workers_tuner.axes[0])

    @property
    def workers(self) -> int:
        return self.workers_tuner.value[0]

    @property
    def batch_faces(self) -> int:
        return self.models.value[1]

    def _apply(self) -> None:
        import cv2

        onnx_session.choose_threads(self.models.value[0])
        cv2.setNumThreads(max(1, onnx_session.available_threads() // self.workers))
        self.gate.set(self.workers)

    def model_ran(self, faces: int, seconds: float) -> None:
        threads = self.models.value[0]
        if self._skip_next:  # the first call on a remade session pays for making it: not a fair measure
            self._skip_next = False
        else:
            self.models.record(faces, seconds)
        if self.models.value[0] != threads:
            self._skip_next = True
            self._apply()

    def images_done(self, images: int, seconds: float) -> None:
        workers = self.workers
        self.workers_tuner.record(images, seconds)
        if self.workers != workers:
            self._apply()

    def save(self) -> None:
        """Keep the best settings measured (when they changed) for the next run."""
        if self.store is None:
            return
        for i, tuner in enumerate((self.models, self.workers_tuner)):
            best = tuner.best
            if best is not None and best != self._saved[i]:
                self.store.remember_tuning(self._keys[i], best)
                self._saved[i] = best

    def describe(self) -> str:
        def rates(t: Tuner) -> str:
            return ", ".join(f"{k}: {v:.1f}/s" for k, v in sorted(t.rates().items()))

        return (
            f"models (threads, faces per call) {self.models.value}, measured {rates(self.models)}; "
            f"workers {self.workers}, measured {rates(self.workers_tuner)}"
        )
