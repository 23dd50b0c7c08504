"""Lighter onnxruntime sessions for deepface's demography graphs (the onnx engine).

deepface builds its sessions with onnxruntime's defaults from the single .onnx file: the
537 MB VGG-Face gender graph is parsed whole, copied into tensors and optimised, a 2.3 GB peak
measured here, and a memory arena keeps the largest batch's activations for good.

face-clean loads, instead, a copy of the same graph with its weights in a separate file
("external data", made once per weight file, beside it in ``face-clean-light/``), which
onnxruntime maps into memory rather than copying: it loads in a fraction of a second and the
weights cost their 537 MB and no more.  Basic graph optimisation and no arena keep it so.  The
weight file is the one deepface's own code finds, and the returned object is deepface's own
model class, so ``predict`` is deepface's.  If the copy cannot be made, the original file is
loaded with the same options.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from cleaner.analysis import weights

LIGHT_DIR = "face-clean-light"
log = logging.getLogger("face-clean")

# Run in a child process: parsing the graph peaks at twice its size, and that memory should
# go back to the system at once rather than stay in the long-running process.
_CONVERT = """
import sys, onnx
model = onnx.load(sys.argv[1])
onnx.save_model(model, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="model.onnx.data", size_threshold=1024)
"""


def light_copy(src: Path) -> Path:
    """The external-data copy of ``src``, made once per (size, mtime) of the weight file."""
    st = src.stat()
    folder = src.parent / LIGHT_DIR
    final = folder / f"{src.stem}-{st.st_size}-{st.st_mtime_ns}"
    if (final / "model.onnx").is_file():
        return final / "model.onnx"
    folder.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".partial-"))
    try:
        subprocess.run(
            [sys.executable, "-c", _CONVERT, str(src), str(tmp / "model.onnx")],
            check=True,
            capture_output=True,
            timeout=1800,
        )
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "model.onnx").is_file():
                raise
            # another process (a second worker on this node) made the same copy first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for stale in folder.glob(f"{src.stem}-*"):  # our own copies of an older weight file
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    return final / "model.onnx"


def threads() -> int:
    """OMP_NUM_THREADS when set (a Ray worker's share of the CPUs, say), else every core."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


def _session(path: str) -> Any:
    import onnxruntime as ort
    from deepface.commons import onnx_utils

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.enable_cpu_mem_arena = False
    options.intra_op_num_threads = threads()
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
    try:
        light = str(light_copy(Path(path)))
    except (OSError, subprocess.SubprocessError) as err:
        log.warning("face-clean: loading %s whole (could not make its light copy: %s)", path, err)
        light = path
    model.model = _session(light)
    return model
