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

On the CPU, the copy face-clean loads is one step further: the light copy as onnxruntime's full
optimisation leaves it (fused operators, convolutions in its blocked layout), saved once per
machine beside it (``optimised-<machine>/``) by a child process, since the optimisation itself
peaks at three times the graph's size.  Loaded with nothing left to optimise and no weights
packed twice, it runs the VGG-Face-sized graph 1.2 to 1.3x faster than the light copy in the same
memory (README, "Performance").  A copy that cannot be made or loaded leaves the light copy.
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


def _made_once(final: Path, script: str, src: Path) -> Path:
    """``final``/model.onnx, made by ``script`` (run as ``python -c script SRC OUT``) in a child process
    into a temporary folder beside it, then renamed into place; kept once made."""
    if (final / "model.onnx").is_file():
        return final / "model.onnx"
    final.parent.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".partial-"))
    try:
        cmd = [sys.executable, "-c", script, str(src), str(tmp / "model.onnx")]
        subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "model.onnx").is_file():
                raise
            # another process (a second worker on this node) made the same copy first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / "model.onnx"


def light_copy(src: Path) -> Path:
    """The external-data copy of ``src``, made once per (size, mtime) of the weight file."""
    st = src.stat()
    folder = src.parent / LIGHT_DIR
    final = folder / f"{src.stem}-{st.st_size}-{st.st_mtime_ns}"
    made = _made_once(final, _CONVERT, src)
    for stale in folder.glob(f"{src.stem}-*"):  # our own copies of an older weight file
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    return made


_OPTIMISE = """
import sys, onnxruntime as ort
so = ort.SessionOptions()
so.log_severity_level = 3
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
so.optimized_model_filepath = sys.argv[2]
so.add_session_config_entry("session.optimized_model_external_initializers_file_name", "model.onnx.data")
so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
"""


def optimised_copy(light: Path) -> Path:
    """The light copy as onnxruntime's full optimisation leaves it for this machine's processor,
    made once (in a child process) beside it."""
    from cleaner.analysis.machine import machine_tag

    return _made_once(light.parent / f"optimised-{machine_tag()}", _OPTIMISE, light)


_chosen_threads: int | None = None  # set by the fast path's tuning (cleaner.analysis.batch_tuning)


def threads() -> int:
    """The intra-op threads of face-clean's onnxruntime sessions: what the tuning chose, else
    OMP_NUM_THREADS when set (a Ray worker's share of the CPUs, say), else every core."""
    return _chosen_threads or available_threads()


def available_threads() -> int:
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


def choose_threads(n: int | None) -> None:
    """Sessions made (or remade, cleaner.analysis.classifiers) from now on get ``n`` threads (None: the default)."""
    global _chosen_threads
    _chosen_threads = n


def options() -> Any:
    """Session options for every model face-clean runs itself.  Threads do not spin while they wait
    for work (onnxruntime's default): spinning took the core the detection thread needed, and
    detection on the other core then ran 2.7x slower (README, "Performance")."""
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.log_severity_level = 3
    o.intra_op_num_threads = threads()
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return o


def session(path: str, optimised: bool = False) -> Any:
    """A lean session on deepface's graph (or its light copy): basic optimisation, no arena; an
    ``optimised`` copy has nothing left to optimise and its weights are used as they lie."""
    import onnxruntime as ort

    from cleaner.analysis import devices

    o = options()
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    o.enable_cpu_mem_arena = False
    if optimised:
        o.add_session_config_entry("session.disable_prepacking", "1")  # packed, they would be there twice
    made = ort.InferenceSession(path, sess_options=o, providers=devices.providers())
    devices.check_session(made, "gender and age models")
    return made


def _load(light: str) -> tuple[Any, str, bool]:
    """A session on the optimised copy where the models run on the CPU, else on ``light``."""
    from cleaner.analysis import devices

    if light.endswith("model.onnx") and devices.providers() == [devices.CPU]:
        try:
            path = str(optimised_copy(Path(light)))
            return session(path, optimised=True), path, True
        except Exception as err:  # a copy that cannot be made or loaded: the light one is as good, if slower
            log.warning("face-clean: using the light copy of %s (no optimised copy: %s)", light, err)
    return session(light), light, False


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
    model.model, model.face_clean_path, model.face_clean_optimised = _load(light)  # the path: to remake it
    model.face_clean_threads = threads()
    return model
