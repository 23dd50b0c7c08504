"""The tensorflow engine, end to end: deepface's own VGG-Face gender model loaded from an .h5 file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import photos
import pytest
import tiny_models
from ci import need_module
from conftest import audit_records

need_module("tensorflow", 'pip install -e ".[test,tensorflow]"')


def run_on_tensorflow(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """In a fresh process: deepface's engine is fixed at import."""
    cmd = [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man", "--engine", "tensorflow"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)


@pytest.mark.slow  # tensorflow loads and runs: 31 s on 2 loaded cores
def test_run_on_tensorflow_engine(tmp_path: Path):
    home = tmp_path / "home"
    tiny_models.tensorflow_gender_h5(home / ".deepface" / "weights" / "gender_model_weights.h5")
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    env = {**os.environ, "DEEPFACE_HOME": str(home)}
    env.pop("DEEPFACE_BACKEND_ENGINE", None)
    proc = run_on_tensorflow(root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (root / "man.jpg").exists()
    assert (root / ".face-clean/quarantine/no-face/coffee.jpg").exists()
    records = {r["path"]: r for r in audit_records(root / ".face-clean/audit.jsonl")}
    man = records["man.jpg"]
    assert man["engine"] == "tensorflow" and man["model_files"][0].endswith("gender_model_weights.h5")
    assert man["faces"][0]["gender"]["Man"] == pytest.approx(0.8808, abs=1e-3)


def test_tensorflow_engine_without_weights_says_so(tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    env = {**os.environ, "DEEPFACE_HOME": str(tmp_path / "empty")}
    proc = run_on_tensorflow(root, env)
    assert proc.returncode == 3
    assert "gender_model_weights.h5" in proc.stderr and "Traceback" not in proc.stderr
