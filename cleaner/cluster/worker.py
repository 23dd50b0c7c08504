"""What runs inside each Ray worker: the models loaded once, then a batch of paths per call.

Kept apart from cleaner.cluster.analyzer (the driver's side) so that a worker imports only the
analysis code, never the job, the audit log or the state database: those have one writer,
the driver.  Rows cross the cluster as plain columns (path bytes, a pickled ImageAnalysis,
a fatal message, the host), so a file name that is not UTF-8 survives the trip.
"""

from __future__ import annotations

import os
import pickle
import socket
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.analysis.protocol import ModelIdentity
from cleaner.analysis.reading import FileBytes, read_file
from cleaner.errors import ModelError
from cleaner.records import ImageAnalysis


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker needs to analyse exactly as the driver would."""

    identity: ModelIdentity
    threads: int  # onnxruntime threads: the CPUs Ray gives each worker
    read: Callable[[Path], FileBytes | ImageAnalysis] = read_file  # the driver's: its folder and memory budget

    @property
    def analyzer_args(self) -> dict[str, Any]:
        i = self.identity
        return {
            "engine": i.engine,
            "detector": i.detector,
            "attributes": frozenset(i.attributes),
            "max_pixels": i.max_pixels,
            "detect_size": i.detect_size,
            "gender_model": i.gender_model or "builtin",
            "age_model": i.age_model or "builtin",
        }


def differences(mine: ModelIdentity, theirs: ModelIdentity) -> str:
    """Which parts of two identities differ, for the message that stops a mismatched cluster."""
    return ", ".join(
        f"{f.name} {getattr(mine, f.name)!r} here, {getattr(theirs, f.name)!r} on the driver"
        for f in fields(ModelIdentity)
        if f.name != "model_files" and getattr(mine, f.name) != getattr(theirs, f.name)
    )


class AnalyzeFiles:
    """Ray Data's callable class: one instance per worker process, for the whole job.

    A worker that cannot analyse (weights missing on its node, different model files, another
    face-clean or deepface version) does not raise: Ray would retry it and then fail the job
    with a traceback.  It answers every row with the reason, and the driver stops the run
    with that message.
    """

    def __init__(self, settings: WorkerSettings) -> None:
        os.environ["OMP_NUM_THREADS"] = str(settings.threads)  # read by cleaner.analysis.onnx_session
        for setting in settings.identity.detector_settings:  # the driver's (yunet's threshold, say)
            name, _, value = setting.partition("=")
            os.environ[name] = value
        self.host = socket.gethostname()
        self.fatal = ""
        self.batch: BatchAnalyzer | None = None
        try:
            analyzer = FaceAnalyzer(**settings.analyzer_args)
            if analyzer.identity.key != settings.identity.key:
                self.fatal = "its models differ from the driver's: " + differences(analyzer.identity, settings.identity)
                return
            analyzer.load()  # once per worker, before the first batch
            self.batch = BatchAnalyzer(analyzer, read=settings.read)
        except Exception as err:  # reported per row, see the class docstring
            self.fatal = str(err) or type(err).__name__

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        raw = [bytes(p) for p in batch["path"]]
        blobs = [b""] * len(raw)
        if self.batch is not None and not self.fatal:
            try:
                analyses = self.batch.analyze_many(Path(os.fsdecode(p)) for p in raw)
                blobs = [pickle.dumps(a, protocol=pickle.HIGHEST_PROTOCOL) for a in analyses]
            except ModelError as err:
                self.fatal = str(err)
        return {"path": raw, "analysis": blobs, "fatal": [self.fatal] * len(raw), "host": [self.host] * len(raw)}


def decode_analysis(blob: bytes, path: Path) -> ImageAnalysis:
    """A worker's analysis, filed under the driver's own path object for the file."""
    analysis = pickle.loads(blob)  # from the user's own cluster: trusted like the code it runs
    if not isinstance(analysis, ImageAnalysis):
        raise TypeError(f"a worker sent {type(analysis).__name__}, not an analysis")
    return replace(analysis, path=path)
