"""face-clean as a library: one class and three functions for a notebook or a script.

Shaped like insightface's ``FaceAnalysis``: build an ``Analyzer`` once (it checks and loads every
model, so a missing or damaged one fails here, not on the first photo), then one call per image::

    from cleaner.api import Analyzer, decide, load_rules

    analyzer = Analyzer(detector="yunet", gender_model="builtin")
    analysis = analyzer.analyze("photo.jpg")        # a path, the file's bytes, or a BGR numpy array
    rules = load_rules(keep="Man")                   # or load_rules(Path("rules.yaml")), or YAML text
    decision = decide(rules, analysis)               # Decision(action=Action.KEEP, rule=..., ...)

The records are the ones the commands use (cleaner.records): an ``ImageAnalysis`` with its
``Face``s, and a ``Decision``. Nothing here moves, writes or caches anything: that is what
``face-clean run`` does with the same analyses and decisions. The heavy libraries (numpy, OpenCV,
the model runtimes) load when an ``Analyzer`` is built, not when this module is imported.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Union

from cleaner.analysis.protocol import ModelIdentity
from cleaner.records import Action, Decision, Face, ImageAnalysis, Status
from cleaner.rules import deciding, loading
from cleaner.rules.model import RuleSet

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.analysis.reading import FileBytes

    Image = Union[str, os.PathLike[str], bytes, npt.NDArray[np.uint8]]  # noqa: UP007  (what analyze takes)

__all__ = ["Action", "Analyzer", "Decision", "Face", "ImageAnalysis", "RuleSet", "Status", "decide", "load_rules"]

IN_MEMORY = "<memory>"  # the path an analysis of bytes or an array carries (suffixed with its number)


def load_rules(source: str | os.PathLike[str] | None = None, keep: str | None = None) -> RuleSet:
    """Rules, checked as ``face-clean check`` checks them (a ``RulesError`` names the field and why).

    ``source``: a ``Path`` (or any path-like) is a rules file; a ``str`` is the rules' YAML text
    itself; None, the documented default rules. ``keep="Man"`` (or Woman, or both: "Man,Woman") is
    the command line's ``--keep``: the policy that keeps photos of that gender.
    """
    if source is None:
        return loading.load(None, keep)
    if isinstance(source, str):
        return loading.load_text(source, "<text>", keep)
    return loading.load(Path(source), keep)


def decide(rules: RuleSet, analysis: ImageAnalysis) -> Decision:
    """What the rules want done with one analysed image: keep, quarantine or review, and which rule
    said so. A person's verdict outranks this in the commands; here there is none."""
    return deciding.decide(rules, analysis)


class Analyzer:
    """Faces, and each face's gender (and age), in one image at a time or many.

    ``detector``: a DeepFace detector backend (``yunet``, ``opencv``, ``retinaface``, ...);
    ``gender_model`` and ``age_model``: ``builtin``, ``deepface`` or a model manifest's path;
    ``age``: analyse ages too (so does naming an ``age_model``). Each left out comes from ``rules``
    (the default rules when none is given, which take ``FACE_CLEAN_DETECTOR`` and the like from the
    environment), exactly as a run of ``face-clean`` with those rules would. Every model is loaded
    and run once here.
    """

    def __init__(
        self,
        detector: str | None = None,
        gender_model: str | None = None,
        age_model: str | None = None,
        *,
        age: bool = False,
        engine: str | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        from cleaner.analysis.batch import BatchAnalyzer
        from cleaner.analysis.face_analyzer import FaceAnalyzer

        rs = loading.with_overrides(
            rules or loading.load(None), engine, detector, gender_model=gender_model, age_model=age_model
        )
        attributes = rs.attributes | ({"age"} if age or age_model is not None else set())
        self.rules = rs
        models = FaceAnalyzer(
            rs.engine,
            rs.detector,
            attributes,
            rs.max_pixels,
            detect_size=rs.detect_size,
            gender_model=rs.gender_model,
            age_model=rs.age_model,
        )
        models.load()
        self._budget = rs.memory_budget << 20
        self._memory: dict[Path, bytes] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._batch: BatchAnalyzer = BatchAnalyzer(models, read=self._read)

    @property
    def identity(self) -> ModelIdentity:
        """The models and settings that analyse (what every audit record of a run names)."""
        return self._batch.identity

    def analyze(self, image: Image) -> ImageAnalysis:
        """One image: a path, the bytes of an image file, or a decoded image as a numpy array
        (height x width x 3, uint8, OpenCV's BGR order; or height x width grey). A bad image is
        never an exception: its analysis says why (``status``, ``error``)."""
        return next(self.analyze_many([image]))

    def analyze_many(self, images: Iterable[Image]) -> Iterator[ImageAnalysis]:
        """One analysis per image, in order: several times faster than one ``analyze`` each (the
        models see the faces of several images at once, and files are read ahead)."""
        placed: list[Path] = []
        try:
            yield from self._batch.analyze_many(self._place(image, placed) for image in images)
        finally:
            with self._lock:
                for path in placed:
                    self._memory.pop(path, None)

    def _place(self, image: Image, placed: list[Path]) -> Path:
        if isinstance(image, (str, os.PathLike)):
            return Path(image)
        data = image if isinstance(image, bytes) else _encoded(image)
        with self._lock:
            self._count += 1
            path = Path(f"{IN_MEMORY}{self._count}")
            self._memory[path] = data
        placed.append(path)
        return path

    def _read(self, path: Path) -> FileBytes | ImageAnalysis:
        from cleaner.analysis.reading import FileBytes, read_file  # numpy comes with it: loaded late

        with self._lock:
            data = self._memory.get(path)
        if data is None:
            # the caller's own path: its links are followed (a photo folder's are not, in a run),
            # and the analysis carries the path as given
            real = path.resolve()
            found = read_file(real, real.parent, self._budget)
            return replace(found, path=path)
        st = os.stat_result((stat.S_IFREG | 0o600, 0, 0, 1, 0, 0, len(data), 0, 0, 0))
        return FileBytes(path, st, data, hashlib.sha256(data).hexdigest(), self._budget)


def _encoded(array: object) -> bytes:
    """A decoded image as PNG (lossless): it then takes the path every file takes, same results."""
    import cv2
    import numpy as np

    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError("an image array must be uint8, height x width (grey) or height x width x 3 (BGR)")
    if array.ndim == 3 and array.shape[2] != 3:
        raise ValueError(f"an image array must have 3 channels (BGR), not {array.shape[2]}")
    done, png = cv2.imencode(".png", array)
    if not done:
        raise ValueError("this array cannot be encoded as an image")
    return bytes(png.tobytes())
