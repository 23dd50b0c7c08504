"""Lighter onnxruntime sessions for deepface's demography graphs (the onnx engine).

deepface builds its sessions with onnxruntime's defaults: full graph optimisation, which
holds several copies of the weights while the 537 MB VGG-Face gender graph loads (2.3 GB peak
measured here), and a memory arena that keeps the largest batch's activations for good.
Basic optimisation without the arena loads the same file, found by deepface's own code, in
under 1 GB and about twice as fast, and runs it as fast.  The returned object is deepface's
own model class, so ``predict`` is deepface's.
"""

from __future__ import annotations

import os
from typing import Any

from cleaner import weights


def _session(path: str) -> Any:
    import onnxruntime as ort
    from deepface.commons import onnx_utils

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.enable_cpu_mem_arena = False
    options.intra_op_num_threads = os.cpu_count() or 1
    providers = onnx_utils.resolve_providers(ort.get_available_providers())
    return ort.InferenceSession(path, sess_options=options, providers=providers)


def lean_model(model_name: str) -> Any | None:
    """deepface's demography model ``model_name`` on a lean session; None if it is not an onnx one."""
    from deepface.commons import weight_utils
    from deepface.models.demography.onnx.OnnxDemography import OnnxDemography
    from deepface.modules import modeling

    cls = modeling.get_model_class(task="facial_attribute", model_name=model_name)
    files = weights.files_for("facial_attribute", model_name)
    if not issubclass(cls, OnnxDemography) or len(files) != 1:
        return None
    path = weight_utils.download_weights_if_necessary(file_name=files[0].file_name, source_url=list(files[0].urls))
    model = cls.__new__(cls)  # deepface's class and predict(), without its default session
    model.model_name = model_name
    model.model = _session(path)
    return model
