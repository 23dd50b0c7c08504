"""Grouping faces into people as run and watch decide: each face that matters gets its embedding
(cleaner.analysis.embedding) once per content, and joins the nearest person under the threshold, or
starts a new one.

Which faces matter (``FACE_CLEAN_PEOPLE``): ``review`` (the default, when the embedding model is
installed) the faces of every photo sent to review or given a person's verdict; ``all`` every face;
``off`` none. An embedding that cannot be made (the model missing, the photo unreadable now) leaves
the photo without a person: it is decided as before, never stopped.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cleaner import environment
from cleaner.analysis.decode import Unreadable
from cleaner.analysis.embedding import Embedder, NoEmbedder, NotInstalled
from cleaner.analysis.reading import FileBytes, read_file
from cleaner.records import Action, Decision, ImageAnalysis
from cleaner.store.db import StateDB
from cleaner.store.people import StoredFace

log = logging.getLogger("face-clean")
OFF, REVIEW, ALL = "off", "review", "all"
MODES = (OFF, REVIEW, ALL)
THRESHOLD = 0.5  # Euclidean distance to a person's centroid under which a face joins them (bench/people.py)
MAX_PIXELS = 200_000_000


def mode_from_env() -> str:
    """``FACE_CLEAN_PEOPLE`` (cleaner.environment: a value other than review, all or off stops the command)."""
    return environment.read().people


@dataclass
class Grouper:
    """Embeds and groups the faces of the photos that matter; one per job (one thread)."""

    state: StateDB
    root: Path | None
    mode: str = REVIEW
    threshold: float = THRESHOLD
    embedder: Embedder | None = None
    _unavailable: bool = False
    seconds: list[float] = field(default_factory=list)

    def matters(self, decision: Decision, has_verdict: bool) -> bool:
        if self.mode == ALL:
            return True
        return self.mode == REVIEW and (decision.action is Action.REVIEW or has_verdict)

    def faces(self, analysis: ImageAnalysis, embed: bool) -> list[StoredFace]:
        """The photo's faces with their persons; with ``embed``, those not yet grouped are grouped now."""
        try:
            stored = self.state.faces_of(analysis.sha256)
            if embed and analysis.sha256 and analysis.faces and len(stored) < len(analysis.faces):
                self._group(analysis, {f.idx for f in stored})
                stored = self.state.faces_of(analysis.sha256)
        except sqlite3.Error as err:
            log.warning("%s: its faces were not grouped into people: %s", analysis.path, err)
            return []
        return [f for f in stored if f.idx < len(analysis.faces) and analysis.faces[f.idx].box == f.box]

    def _model(self) -> Embedder | None:
        if self.embedder is None and not self._unavailable:
            try:
                self.embedder = Embedder()
            except (NoEmbedder, ImportError) as err:
                quiet = isinstance(err, NotInstalled)  # an optional extra, not a fault
                (log.info if quiet else log.warning)("faces are not grouped into people: %s", err)
                self._unavailable = True
        return self.embedder

    def _group(self, analysis: ImageAnalysis, done: set[int]) -> None:
        model = self._model()
        sha = analysis.sha256
        if model is None or sha is None:
            return
        read = read_file(analysis.path, self.root)
        if not isinstance(read, FileBytes) or read.sha256 != sha:
            return  # gone, or other bytes now: grouped when these are decided
        todo = [i for i in range(len(analysis.faces)) if i not in done]
        try:
            vectors = model.embed_bytes(read.data, [analysis.faces[i].box for i in todo], MAX_PIXELS)
        except (Unreadable, RuntimeError, ValueError) as err:
            log.warning("%s: its faces were not grouped into people: %s", analysis.path, err)
            return
        for i, vector in zip(todo, vectors, strict=True):
            face = analysis.faces[i]
            man = None if not face.gender else float(face.gender.get("Man", 0.0))
            self.state.add_face(sha, i, model.key, face.box, vector, man, self._nearest(vector))

    def _nearest(self, vector: NDArray[np.float32]) -> int:
        """The person whose centroid is nearest under the threshold; 0 (a new person) if none is."""
        ids, centroids = self.state.centroids()
        if not ids:
            return 0
        distances = np.linalg.norm(centroids - vector, axis=1)
        best = int(np.argmin(distances))
        return ids[best] if float(distances[best]) < self.threshold else 0
