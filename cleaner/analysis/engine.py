"""Fix deepface's backend engine before deepface is imported, and say clearly when it can't be.

deepface reads DEEPFACE_BACKEND_ENGINE once, when it is first imported, and keeps that
engine for the life of the process; everything that imports deepface goes through here.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys

from cleaner.errors import EngineError

ENGINE_ENV = "DEEPFACE_BACKEND_ENGINE"
_PACKAGES = {"onnx": ("onnxruntime",), "tensorflow": ("tensorflow", "tf_keras")}


def select(engine: str, verbose: bool = False) -> None:
    if engine not in _PACKAGES:
        raise EngineError(f"unknown engine {engine!r}; choose onnx or tensorflow")
    missing = [p for p in _PACKAGES[engine] if importlib.util.find_spec(p) is None]
    if missing:
        extra = ' (pip install "face-clean[tensorflow]")' if engine == "tensorflow" else ""
        raise EngineError(f"the {engine} engine needs {', '.join(missing)}, which is not installed{extra}")
    os.environ[ENGINE_ENV] = engine
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ["DEEPFACE_LOG_LEVEL"] = str(logging.INFO if verbose else logging.ERROR)
    if "deepface.commons.backend_utils" in sys.modules:
        from deepface.commons import backend_utils

        actual = backend_utils.get_backend_engine()
        if actual != engine:
            raise EngineError(
                f"deepface already runs on {actual} in this process; the engine is fixed when deepface "
                f"is first imported, so run face-clean again with --engine {engine}"
            )
