"""The image's pieces without a container engine, for test_docker.py and test_entrypoint.py.

The Dockerfile is read as instruction -> arguments; the build context is what .dockerignore lets
through; docker/install.sh runs its build steps into a fresh virtual environment, as the image's
stages run them, so that docker/entrypoint.sh can be run on a temporary folder laid out like the
container's volumes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiny_models
from conftest import STAND_IN_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
VOLUMES = ["/photos", "/quarantine", "/config", "/state"]
WATCH = ["face-clean", "watch", "/photos", "--rules", "/config/rules.yaml", "--quarantine", "/quarantine"]
WATCH += ["--review-dir", "/quarantine/review", "--audit-log", "/state/audit.jsonl", "--heartbeat", "/state/heartbeat"]
HEALTH = ["face-clean", "health", "/state/heartbeat", "--max-age", "120"]


def dockerfile() -> dict[str, list[str]]:
    """Instruction -> its arguments, one entry per occurrence (continuation lines joined)."""
    found: dict[str, list[str]] = {}
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, args = line.strip().partition(" ")
            found.setdefault(instruction.upper(), []).append(" ".join(args.split()))
    return found


def run(*args: str | Path, cwd: str | Path = "/", **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command in /, as a container's command runs (no WORKDIR), never in the checkout."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd, **kwargs)


def _glob(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus **) as a regular expression."""
    parts = re.split(r"(\*\*/|\*|\?)", pattern)
    special = {"**/": "(.*/)?", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(special.get(p, re.escape(p)) for p in parts))


def build_context(dest: Path) -> list[str]:
    """Copy the files `docker build .` would send to dest: the last .dockerignore pattern that matches
    a path, or a folder above it, decides; "!" lets it through again."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            glob = line.lstrip("!").strip().strip("/")
            rules.append((line.startswith("!"), glob, _glob(glob)))

    def ignored(path: str) -> bool:
        parts = path.split("/")
        above = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for negated, _, regex in rules:
            if any(regex.fullmatch(p) for p in above):
                verdict = not negated
        return verdict

    sent = []
    for folder, dirs, files in os.walk(ROOT):
        rel = Path(folder).relative_to(ROOT)
        # An ignored folder no "!" pattern reaches into (.git, .venv) is not walked at all.
        dirs[:] = [
            d
            for d in dirs
            if not ignored((rel / d).as_posix())
            or any(neg and glob.startswith(f"{(rel / d).as_posix()}/") for neg, glob, _ in rules)
        ]
        for name in files:
            path = (rel / name).as_posix()
            if not ignored(path):
                (dest / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / path, dest / path)
                sent.append(path)
    return sorted(sent)


@dataclass
class Image:
    """A fresh virtual environment set up by docker/install.sh's steps, as the image is."""

    venv: Path
    env: dict[str, str]
    context: Path
    sent: list[str]
    steps: dict[str, subprocess.CompletedProcess[str]]
    seconds: float

    def install(self, step: str, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run("sh", self.context / "docker" / "install.sh", step, *args, env={**self.env, **env})

    def entrypoint(self, volumes: Path, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run(self.venv / "bin" / "face-clean-entrypoint", *args, env={**self.env, **layout(volumes), **env})


def layout(volumes: Path) -> dict[str, str]:
    """The entrypoint's folders, moved into a temporary folder."""
    names = ("photos", "config", "state", "quarantine", "home")
    return {f"FACE_CLEAN_{n.upper()}": str(volumes / n) for n in names}


def install(base: Path) -> Image:
    """docker/install.sh deps, package and weights (FETCH_WEIGHTS=1, DeepFace's weights already
    present). Run with the image's environment: the built-in models are the defaults, not the
    stand-ins the rest of the session chooses through FACE_CLEAN_* (conftest.py)."""
    context = base / "context"
    sent = build_context(context)
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv).check_returncode()
    # The project's environment lends its packages (the dependencies, pip, setuptools) through a
    # .pth line, so the install downloads nothing; packages installed in venv come first.
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout
    Path(site.strip(), "_project_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    home = base / "models"
    tiny_models.install(home)  # "fetched" already: models fetch finds them and downloads nothing
    env = {k: v for k, v in os.environ.items() if k not in STAND_IN_DEFAULTS and k != "yunet_score_threshold"}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "DEEPFACE_HOME": str(home)}
    image = Image(venv, env, context, sent, {}, 0.0)
    start = time.monotonic()
    offline = ["--no-index", "--no-build-isolation"]
    for step, args in (("deps", [context, *offline]), ("package", [context, *offline]), ("weights", [])):
        image.steps[step] = image.install(step, *args, FETCH_WEIGHTS="1")
        assert image.steps[step].returncode == 0, image.steps[step].stdout + image.steps[step].stderr
    image.seconds = time.monotonic() - start
    return image
