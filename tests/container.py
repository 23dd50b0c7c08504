"""Building the image and running containers with podman, for test_container.py.

The base comes from docker/make-base.sh (Debian from the apt mirror: Docker Hub is out of
reach), reused while that script is unchanged; the image is built from this checkout with
`podman build --format docker` (podman drops HEALTHCHECK otherwise) and its default
FETCH_WEIGHTS=0: its containers decide with the built-in models the image holds, nothing mounted
at $DEEPFACE_HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/face-clean:test"
MODELS = "/opt/face-clean/models"  # the image's DEEPFACE_HOME
REPORT: list[str] = []  # build time, image size and timings, shown at the end of the test session
PUID, PGID = 4321, 4322  # ids no account has, as on a NAS where the share's owner is unknown here


def podman(*args: str | Path, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["podman", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd="/")
    if check:
        assert proc.returncode == 0, f"podman {' '.join(map(str, args))}: {proc.stdout}{proc.stderr}"
    return proc


def pip_settings() -> dict[str, str]:
    """This machine's pip settings (its config files and PIP_* variables): cert, index-url, ..."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60)
    files: dict[str, str] = {}  # in the order pip reads them: a later file wins
    env: dict[str, str] = {}  # PIP_* variables win over every file
    for line in proc.stdout.splitlines():  # global.cert='/etc/ssl/...', :env:.index-url='...'
        key, _, value = line.partition("=")
        (env if key.startswith(":env:") else files)[key.rpartition(".")[2]] = value.strip("'\"")
    return {**files, **env}


def build_args() -> list[str]:
    """How this machine's pip reaches the package index, handed to the build stages only."""
    pip = pip_settings()
    ca = next((p for p in (pip.get("cert"), "/etc/ssl/certs/ca-certificates.crt") if p and Path(p).is_file()), None)
    args = ["--secret", f"id=ca,src={ca}"] if ca else []
    for key in ("index-url", "extra-index-url", "trusted-host"):
        # file:// indexes of this machine are out of the build's reach
        value = " ".join(v for v in pip.get(key, "").split() if not v.startswith("file:"))
        if value:
            args += ["--build-arg", f"PIP_{key.upper().replace('-', '_')}={value}"]
    return args


@dataclass
class Built:
    base: str
    base_seconds: float
    build_seconds: float
    size_mb: float
    config: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def build() -> Built:
    start = time.monotonic()
    made = subprocess.run(
        ["sh", ROOT / "docker" / "make-base.sh"], capture_output=True, text=True, timeout=900, env={**os.environ}
    )
    assert made.returncode == 0, made.stderr
    base = made.stdout.strip().splitlines()[-1]
    base_seconds = time.monotonic() - start
    start = time.monotonic()
    cmd = ["build", "--format", "docker", "--network", "host", "--build-arg", f"BASE_IMAGE={base}"]
    cmd += [*build_args(), "--tag", IMAGE, ROOT]
    proc = podman(*cmd, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    build_seconds = time.monotonic() - start
    (config,) = json.loads(podman("image", "inspect", IMAGE, check=True).stdout)
    return Built(base, base_seconds, build_seconds, config["Size"] / 1e6, config)


class Volumes:
    """Host folders for /photos, /quarantine, /config and /state, as a NAS user maps them."""

    def __init__(self) -> None:
        # outside pytest's private temp folder, so that PUID can reach it
        self.root = Path(tempfile.mkdtemp(prefix="face-clean-container-"))
        self.root.chmod(0o755)
        for name in ("photos", "quarantine", "config", "state"):
            (self.root / name).mkdir()
        os.chown(self.root / "photos", PUID, PGID)  # the share's owner, who may move photos out

    def __getattr__(self, name: str) -> Path:
        return self.root / name

    def mounts(self, *names: str) -> list[str]:
        return [a for n in names for a in ("--volume", f"{self.root / n}:/{n}")]

    def remove(self) -> None:
        shutil.rmtree(self.root)


def run_args(volumes: Volumes, *names: str) -> list[str]:
    return ["--env", f"PUID={PUID}", "--env", f"PGID={PGID}", *volumes.mounts(*names)]


def state(name: str) -> dict[str, Any]:
    (info,) = json.loads(podman("container", "inspect", name, check=True).stdout)
    return {"status": info["State"]["Status"], "exit": info["State"]["ExitCode"], "restarts": info["RestartCount"]}


def logs(name: str) -> str:
    proc = podman("logs", name, check=True)
    return proc.stdout + proc.stderr


def processes(name: str) -> list[str]:
    """The command names of the container's processes."""
    return podman("top", name, "comm", check=True).stdout.split()[1:]


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.5)


def stop(name: str) -> float:
    """podman stop, as docker stop (SIGTERM, SIGKILL after 10 s); the seconds it took."""
    start = time.monotonic()
    podman("stop", "--time", "10", name, check=True, timeout=60)
    return time.monotonic() - start
