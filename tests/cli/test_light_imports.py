"""Commands that analyse nothing stay quick to start: the command line itself, restore, and the audit
log load neither numpy nor Pillow nor a model library when they are imported (``python -X importtime``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "PIL", "cv2", "deepface", "onnxruntime", "onnx", "tensorflow", "ray", "dlib", "tqdm")


@pytest.mark.parametrize(
    "module",
    [
        "cleaner.commands.restore",
        "cleaner.cli",
        "cleaner.audit.log",
        "cleaner.watch.heartbeat",
        "cleaner.api",  # the Python API: the models load when an Analyzer is built
    ],
)
def test_importing_loads_no_numpy_and_no_model(module: str):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert module in loaded  # the measure sees the module itself
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == [], f"importing {module} loads {heavy[:5]}"
