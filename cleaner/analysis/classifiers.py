"""The gender and age classifiers a run can use, behind one small interface.

* ``OnnxClassifier`` runs any ONNX graph described by a ``ClassifierSpec`` (cleaner.analysis.manifest):
  the built-in models (cleaner.analysis.builtin_models) and bring-your-own ones alike, on one
  onnxruntime session per process, in batches.
* ``DeepFaceClassifier`` is DeepFace's own VGG-Face gender or age model, loaded and fed exactly
  as ``DeepFace.analyze`` does (on the onnx engine through the light memory-mapped copy of
  cleaner.analysis.onnx_session).

Every classifier says which files it reads (hashed into the cache key and the audit log),
cuts its own crop from a ``FaceView``, and returns for a batch either probabilities
``(n, 2)`` in the order (Woman, Man), or ages in years ``(n,)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cleaner.analysis import builtin_models, face_crops, weights
from cleaner.analysis.face_crops import FaceView
from cleaner.analysis.manifest import ClassifierSpec
from cleaner.errors import ManifestError, ModelError

GENDER_ORDER = ("Woman", "Man")
MAX_BATCH = 64  # dynamic-batch graphs get at most this many faces per call


class Classifier(Protocol):
    task: str
    name: str  # builtin, deepface or the manifest's name: written to the audit log
    side: int  # face pixels worth decoding for its crop
    max_batch: int  # the most faces per call worth trying (cleaner.tuning), on the CPU

    def files(self) -> list[tuple[Path, str | None]]: ...  # (path, sha256 it must have, if known)
    def main_file(self) -> Path: ...  # the model's own weights
    def load(self) -> None: ...
    def prepare(self, view: FaceView) -> Any: ...  # None: no usable crop
    def predict(self, batch: Any) -> Any: ...
    def check(self) -> None: ...  # run once on a blank input: the model answers sensibly


_aligners: dict[Path, face_crops.Aligner] = {}


def aligner() -> face_crops.Aligner:
    """dlib's 5-point model, once per process (the weights folder's copy, else the bundled one)."""
    path = weights.locate(builtin_models.SHAPE_PREDICTOR.file_name) or builtin_models.SHAPE_PREDICTOR.path
    if path not in _aligners:
        _aligners[path] = face_crops.Aligner(path)
    return _aligners[path]


def _softmax(x: Any) -> Any:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class OnnxClassifier:
    def __init__(self, spec: ClassifierSpec) -> None:
        self.spec = spec
        self.task = spec.task
        self.name = spec.name
        self.side = spec.side
        self.max_batch = spec.input.batch or MAX_BATCH
        self._session: Any = None
        self._threads = 0
        self._input = ""
        self._one_at_a_time = False

    def files(self) -> list[tuple[Path, str | None]]:
        found: list[tuple[Path, str | None]] = []
        if self.spec.manifest is not None:
            found.append((self.spec.manifest, None))
        found.append((self.spec.file, self.spec.sha256))
        if self.spec.crop.method == "align5":
            predictor = builtin_models.SHAPE_PREDICTOR
            found.append((weights.locate(predictor.file_name) or predictor.path, predictor.sha256))
        return found

    def main_file(self) -> Path:
        return self.spec.file

    def _where(self) -> str:
        return str(self.spec.manifest) if self.spec.manifest else f"the built-in {self.task} model"

    def load(self) -> None:
        from cleaner.analysis.onnx_session import threads

        if self._session is not None and self._threads == threads():
            return
        if self.spec.crop.method == "align5":
            aligner()
        self._session = None  # remade with the threads the tuning chose (cleaner.batch)
        session = self._new_session()
        self._check_graph(session)
        self._session, self._threads = session, threads()

    def _new_session(self) -> Any:
        import onnxruntime as ort

        from cleaner.analysis import devices
        from cleaner.analysis.onnx_session import options

        try:
            session = ort.InferenceSession(str(self.spec.file), sess_options=options(), providers=devices.providers())
        except Exception as err:  # onnxruntime raises its own kinds for a file it cannot parse
            raise ModelError(f"cannot load the {self.task} model {self.spec.file}: {err}") from None
        devices.check_session(session, f"{self.task} model")
        return session

    def _check_graph(self, session: Any) -> None:
        spec, i = self.spec.input, session.get_inputs()[0]
        shape = list(i.shape)
        dims = [3, spec.height, spec.width] if spec.layout == "NCHW" else [spec.height, spec.width, 3]
        wrong = len(shape) != 4 or any(
            isinstance(d, int) and d > 0 and d != w for d, w in zip(shape[1:], dims, strict=False)
        )
        batch = shape[0] if shape and isinstance(shape[0], int) and shape[0] > 0 else None
        if batch is not None and batch != (spec.batch or 1):
            wrong = True
        if wrong:
            raise ManifestError(
                f"{self._where()}: the graph's input {i.name!r} has shape {shape}, but the manifest describes "
                f"{spec.layout} {spec.height}x{spec.width} with batch {spec.batch or 'dynamic'}"
            )
        # a graph fixed at batch 1 but described as dynamic still works, one face at a time
        self._one_at_a_time = spec.batch is None and batch == 1
        self._input = i.name
        out = session.get_outputs()[0].shape
        columns = out[-1] if out else 1
        if isinstance(columns, int) and columns > 0 and columns != self.spec.output.columns and len(out) > 1:
            raise ManifestError(
                f"{self._where()}: the graph's output has {columns} columns, but the manifest's output "
                f"({self.spec.output.type}) has {self.spec.output.columns}"
            )

    def prepare(self, view: FaceView) -> Any:
        spec = self.spec
        if spec.crop.method == "align5":
            chip = aligner().chip(view, spec.input.height, spec.crop.padding)
        else:
            chip = face_crops.enlarged(view, spec.crop.factor, spec.input.height, spec.input.width)
        if spec.input.colour == "BGR":
            chip = chip[:, :, ::-1]
        # byte -> float32 is exact; then scale, subtract, divide, in this order (the built-in
        # models' own pipeline does (pixel - mean) / 256 and is matched bit for bit)
        x = chip.astype(np.float32)
        if spec.input.scale != 1.0:
            x *= np.float32(spec.input.scale)
        x -= np.asarray(spec.input.mean, dtype=np.float32)
        x /= np.asarray(spec.input.std, dtype=np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1) if spec.input.layout == "NCHW" else x)

    def _run(self, batch: Any) -> Any:
        self.load()
        n = len(batch)
        size = self.spec.input.batch or (1 if self._one_at_a_time else MAX_BATCH)
        parts = []
        for start in range(0, n, size):
            chunk = batch[start : start + size]
            if self.spec.input.batch and len(chunk) < size:  # a fixed batch: pad, then drop the padding
                pad = np.zeros((size - len(chunk), *chunk.shape[1:]), dtype=np.float32)
                chunk = np.concatenate([chunk, pad])
            out = np.asarray(self._session.run(None, {self._input: np.ascontiguousarray(chunk, dtype=np.float32)})[0])
            parts.append(out.reshape(len(chunk), -1)[: min(size, n - start)])
        return np.concatenate(parts).astype(np.float64)

    def predict(self, batch: Any) -> Any:
        out, spec = self._run(batch), self.spec.output
        if spec.type == "sigmoid":
            v = out[:, 0]
            p = 1.0 / (1.0 + np.exp(-v)) if spec.logits else v
            man = p if spec.labels[0] == "Man" else 1.0 - p
            return np.stack([1.0 - man, man], axis=1)
        if spec.type == "regression":
            return np.floor(out[:, 0] + 0.5)
        probs = _softmax(out) if spec.logits else out
        if spec.type == "softmax":
            return probs[:, [spec.labels.index(g) for g in GENDER_ORDER]]
        # expectation, summed class by class in float32 as the built-in age model's own code does
        p32, values = probs.astype(np.float32), np.asarray(spec.values, dtype=np.float32)
        estimate = np.multiply(values[0], p32[:, 0], dtype=np.float32)
        for k in range(1, len(values)):
            estimate += np.multiply(values[k], p32[:, k], dtype=np.float32)
        return np.floor(estimate.astype(np.float64) + 0.5)

    def check(self) -> None:
        """Run once on a blank face and on noise: the graph must answer with sensible numbers."""
        spec = self.spec.input
        shape = (3, spec.height, spec.width) if spec.layout == "NCHW" else (spec.height, spec.width, 3)
        noise = np.random.default_rng(0).normal(0.0, 2.0, shape)
        dummy = np.stack([np.zeros(shape), noise]).astype(np.float32)
        try:
            raw = self._run(dummy)
        except Exception as err:  # onnxruntime's error for a graph that cannot run on this input
            raise ManifestError(f"{self._where()}: the graph does not run on a {spec.layout} input: {err}") from None
        if raw.shape[0] != 2 or not np.isfinite(raw).all():
            raise ManifestError(
                f"{self._where()}: the graph's output {raw.shape} is not a row of finite numbers per face"
            )
        out = self.spec.output
        if not out.logits and out.type != "regression":
            sums = raw.sum(axis=1)
            if raw.min() < -1e-4 or raw.max() > 1 + 1e-4 or (out.type != "sigmoid" and abs(sums - 1).max() > 1e-3):
                raise ManifestError(
                    f"{self._where()}: the graph returns values that are not probabilities (set logits: true?)"
                )


class DeepFaceClassifier:
    """DeepFace's own demography model (VGG-Face based), as ``DeepFace.analyze`` runs it."""

    side = 224
    # VGG-Face's activations: 8 faces held about 200 MB more than 4 (a run's peak went past 1.2 GB) and ran
    # no faster on the CPU (4.6 against 5.0 faces/s here)
    max_batch = 4

    def __init__(self, task: str, engine: str) -> None:
        self.task = task
        self.name = builtin_models.DEEPFACE
        self.engine = engine
        self.model_name = weights.ATTRIBUTE_MODELS[task]
        self.model: Any = None

    def weight_files(self) -> list[weights.WeightFile]:
        return weights.files_for("facial_attribute", self.model_name)

    def files(self) -> list[tuple[Path, str | None]]:
        return [(f.path, None) for f in self.weight_files()]

    def main_file(self) -> Path:
        return self.weight_files()[0].path

    def load(self) -> None:
        from deepface.modules import modeling

        from cleaner.analysis.onnx_session import lean_model

        if self.model is not None:
            self._rethread()
            return
        try:
            self.model = lean_model(self.model_name) or modeling.build_model(
                task="facial_attribute", model_name=self.model_name
            )
        except ImportError as err:
            raise ModelError(f"the {self.model_name} model needs a package that is not installed: {err}") from None
        except Exception as err:
            cause = f" ({err.__cause__})" if err.__cause__ else ""
            raise ModelError(f"cannot load the {self.model_name} model on {self.engine}: {err}{cause}") from None

    def _rethread(self) -> None:
        """The light session remade when the tuning chose another thread count (a memory-mapped
        graph: 0.01 s here for the VGG-Face-sized one, and no more memory)."""
        from cleaner.analysis.onnx_session import session, threads

        light = getattr(self.model, "face_clean_path", None)
        if light is not None and self.model.face_clean_threads != threads():
            self.model.model = None
            self.model.model = session(light, optimised=self.model.face_clean_optimised)
            self.model.face_clean_threads = threads()

    def prepare(self, view: FaceView) -> Any:
        return face_crops.deepface_crop(view)

    def predict(self, batch: Any) -> Any:
        from deepface.models.demography.DemographyUtils import GENDER_LABELS

        self.load()
        if self.task == "gender":
            probs = np.atleast_2d(np.asarray(self.model.predict(batch)))
            return probs[:, [GENDER_LABELS.index(g) for g in GENDER_ORDER]]
        ages = np.atleast_1d(np.asarray(self.model.predict(batch), dtype=np.float64))
        return np.array([float(int(a)) for a in ages])  # DeepFace.analyze's int()

    def check(self) -> None:
        out = np.asarray(self.predict(np.zeros((1, 224, 224, 3), dtype=np.float32)), dtype=np.float64)
        if not np.isfinite(out).all():
            raise ModelError(f"the {self.model_name} model answers a blank face with {out!r}")


def build(task: str, choice: str, engine: str) -> Classifier:
    """The classifier a rules file's ``gender_model`` / ``age_model`` names."""
    from cleaner.analysis.manifest import load as load_manifest

    if choice == builtin_models.DEEPFACE:
        return DeepFaceClassifier(task, engine)
    if choice == builtin_models.BUILTIN:
        return OnnxClassifier(builtin_models.gender_spec() if task == "gender" else builtin_models.age_spec())
    return OnnxClassifier(load_manifest(Path(choice), task))
