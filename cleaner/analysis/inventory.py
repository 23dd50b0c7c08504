"""Which model files a choice of detector and models needs, and whether each is there and intact
(``face-clean models status``), and what DeepFace could download of them (``models fetch``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cleaner.analysis import builtin_models, classifiers, detectors, file_check
from cleaner.analysis import engine as engine_mod
from cleaner.analysis.face_analyzer import check_detector
from cleaner.analysis.weights import WeightFile


@dataclass(frozen=True)
class Needed:
    role: str  # "yunet detector", "gender (builtin)", ...
    path: Path
    sha256: str | None  # what it must hash to, where known
    download: WeightFile | None = None  # the file as DeepFace downloads it; None: nothing to download
    bundled: bool = False  # shipped with face-clean or its dependencies

    def problem(self) -> str | None:
        if not self.path.is_file():
            return "missing"
        return file_check.damage(self.path, self.sha256)


def needed(
    detector: str, engine: str, attributes: frozenset[str], models: Mapping[str, str]
) -> tuple[list[Needed], list[str]]:
    """The files ``detector`` and the models of ``attributes`` (by task: builtin, deepface or a manifest's
    path) need, and the pip packages they need that are not installed. An unknown detector is an error."""
    engine_mod.select(engine)
    check_detector(detector)
    found = [Needed(f"{detector} detector", f.path, None, f, f.bundled) for f in detectors.files(detector, engine)]
    known = builtin_models.KNOWN
    for task in sorted(attributes):
        c = classifiers.build(task, models[task], engine)
        if isinstance(c, classifiers.DeepFaceClassifier):
            found += [Needed(f"{task} ({c.name})", f.path, None, f) for f in c.weight_files()]
            continue
        for path, sha in c.files():
            bundled = path.name in known and path.resolve() == known[path.name].path.resolve()
            found.append(Needed(f"{task} ({c.name})", path, sha, None, bundled))
    return list(dict.fromkeys(found)), detectors.missing_packages(detector, engine)
