"""The seam between the analysis and whatever uses it: what analysed a file, and the one call.

``Analyzer`` is what the job needs: analyses in input order (a cached analysis handed in passes
straight through), and the identity of the models that made them. The local batch analyzer
(cleaner.analysis.batch) and the Ray cluster's (cleaner.cluster.analyzer) both are one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cleaner.records import ImageAnalysis

ANALYSIS_VERSION = 4  # bump when a change in cleaner.analysis changes what is found


@dataclass(frozen=True)
class ModelIdentity:
    """What produced an analysis; written to every audit record and keys the cache."""

    engine: str
    detector: str
    attributes: tuple[str, ...]
    model_files: tuple[str, ...]
    model_sha256: tuple[str, ...]
    deepface_version: str
    max_pixels: int
    detect_size: int
    gender_model: str | None = None  # builtin, deepface, or a manifest's path (None: gender not analysed)
    age_model: str | None = None
    detector_settings: tuple[str, ...] = ()  # e.g. yunet's score threshold

    @property
    def key(self) -> str:
        parts = (
            ANALYSIS_VERSION,
            self.engine,
            self.detector,
            self.attributes,
            self.model_sha256,
            self.deepface_version,
            self.max_pixels,
            self.detect_size,
            self.gender_model,
            self.age_model,
            self.detector_settings,
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


class Analyzer(Protocol):
    """Analyses files with one set of models, loaded once."""

    @property
    def identity(self) -> ModelIdentity:
        """What analyses: written to every audit record, and the cache's key."""
        ...

    def analyze_many(self, items: Iterable[Path | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """One analysis per item, in order; never raises for a bad file (its analysis says why)."""
        ...
