"""Model weights: a clear message when they are missing, `models status`, and `models fetch`."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import photos
import pytest


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    return home


def test_missing_weights_stop_the_run_with_one_clear_message(cli, tmp_path: Path, empty_home: Path):
    root = tmp_path / "p"
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 3
    assert str(empty_home / ".deepface" / "weights" / "gender_model_weights.onnx") in result.output
    assert f"DEEPFACE_HOME={empty_home}" in result.output
    assert "face-clean models fetch" in result.output and "gender_model_weights.onnx" in result.output
    assert "Traceback" not in result.output
    assert (root / "coffee.jpg").exists() and not (root / ".face-clean").exists()


def test_models_status_lists_what_the_rules_need(cli, deepface_home: Path, tmp_path: Path):
    result = cli("models", "status", "--keep", "Man")
    assert result.exit_code == 0
    assert re.search(
        rf"present +gender \(deepface\) +{deepface_home}/.deepface/weights/gender_model_weights.onnx", result.output
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: adults, when: {age: {min: 18}}, action: keep}\n")
    assert "age (deepface)" in cli("models", "status", "--rules", rules).output


def test_models_status_reports_missing_files(cli, empty_home: Path):
    result = cli("models", "status")
    assert result.exit_code == 3
    assert re.search(r"MISSING +gender \(deepface\)", result.output)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_models_fetch_downloads_through_deepface(cli, deepface_home: Path, empty_home: Path, monkeypatch):
    """A loopback server stands in for the model host; the download code is deepface's own."""
    served = deepface_home / ".deepface" / "weights"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from deepface.models.demography.onnx import Gender

        url = f"http://127.0.0.1:{server.server_port}/gender_model_weights.onnx"
        monkeypatch.setattr(Gender, "WEIGHTS_URL", [url])
        result = cli("models", "fetch", "--keep", "Man")
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    fetched = empty_home / ".deepface" / "weights" / "gender_model_weights.onnx"
    assert fetched.read_bytes() == (served / "gender_model_weights.onnx").read_bytes()
    assert cli("models", "status", "--keep", "Man").exit_code == 0


def test_models_fetch_failure_is_a_message_not_a_traceback(cli, empty_home: Path, monkeypatch):
    from deepface.models.demography.onnx import Gender

    monkeypatch.setattr(Gender, "WEIGHTS_URL", ["http://127.0.0.1:9/gender_model_weights.onnx"])
    result = cli("models", "fetch")
    assert result.exit_code == 3
    assert "download failed" in result.output and "Traceback" not in result.output
    assert not (empty_home / ".deepface" / "weights" / "gender_model_weights.onnx").exists()


def test_python_dash_m_runs_the_same_cli(tmp_path: Path):
    root = tmp_path / "p"
    photos.save(photos.astronaut(), root / "man.jpg")
    photos.save(photos.data.chelsea(), root / "cat.png")
    proc = subprocess.run(
        [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (root / "man.jpg").exists() and (root / ".face-clean/quarantine/no-face/cat.png").exists()
    assert "Done: 2 files" in proc.stdout
    assert "img/s" not in proc.stderr  # no progress bar when not on a terminal
    assert proc.stderr.strip() == ""
