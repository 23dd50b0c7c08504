"""Shared fixtures.

Most of the session runs the real deepface code on the onnx engine against tiny graphs written
into a temporary DEEPFACE_HOME (see tiny_models.py): the environment makes DeepFace's gender
and age models and the opencv detector the defaults of every rules file that does not choose
(cleaner.rules.model_choice), so the exact probabilities of the tiny graphs drive those tests.  The
built-in models are tested on real photos where a test asks for them (test_builtin.py).  The
environment is set here, at import, because deepface fixes its engine and reads DEEPFACE_HOME
when it is first used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiny_models
from ci import unavailable
from click.testing import CliRunner, Result

DEEPFACE_HOME = Path(tempfile.mkdtemp(prefix="face-clean-deepface-home-"))
tiny_models.install(DEEPFACE_HOME)
os.environ["DEEPFACE_HOME"] = str(DEEPFACE_HOME)
os.environ["DEEPFACE_BACKEND_ENGINE"] = "onnx"
# Every Ray process a test starts (a local instance, the test head, the drivers that join it) takes
# 127.0.0.1 as its node's address and listens there, never on the machine's network address
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
STAND_IN_DEFAULTS = {
    "FACE_CLEAN_DETECTOR": "opencv",
    "FACE_CLEAN_GENDER_MODEL": "deepface",
    "FACE_CLEAN_AGE_MODEL": "deepface",
}
os.environ.update(STAND_IN_DEFAULTS)
# no config file of the machine's user, or of a container, reaches the tests (cleaner.settings)
os.environ["XDG_CONFIG_HOME"] = str(DEEPFACE_HOME / "config")
# nor its state home: a shared photo folder's state goes there (cleaner.paths.state_for)
os.environ["XDG_STATE_HOME"] = str(DEEPFACE_HOME / "state")
os.environ.pop("FACE_CLEAN_CONFIG", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(DEEPFACE_HOME, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The container tests' and the review page's measurements (test_container.py, tests/serve/), in CI's log."""
    for module in ("container", "serving"):
        for line in getattr(sys.modules.get(module), "REPORT", []):
            terminalreporter.write_line(line)


@pytest.fixture
def deepface_home() -> Path:
    return DEEPFACE_HOME


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


OWN_FILES = (
    "state.db",
    "heartbeat",
    "moves.journal",
    "restores.journal",
    "journal.key",
    "lock",
    ".face-clean.lock",
    "remembered.json",
    ".heartbeat.",  # a heartbeat's temporary file, left behind when the daemon is killed while writing it
)


def swept_copy(template: Path, root: Path) -> Path:
    """``template`` (a folder after a run, state inside) copied to ``root``: the same folder under another
    name, so the audit log's paths move along; its remembered settings, bound to the template's folder
    and ignored there with a warning, are left behind."""
    shutil.copytree(template, root, symlinks=True)
    log = root / ".face-clean" / "audit.jsonl"
    log.write_text(log.read_text(encoding="utf-8").replace(str(template), str(root)), encoding="utf-8")
    (root / ".face-clean" / "remembered.json").unlink()
    return root


def all_hashes(*roots: Path) -> list[str]:
    """sha256 of every regular file under the roots, the tool's own files excluded."""
    found = []
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink() and p.suffix != ".jsonl" and not p.name.startswith(OWN_FILES):
                found.append(sha256(p))
    return found


def named(path: str | Path, dir_fd: int | None = None) -> Path:
    """The path an ``os`` call names: face-clean names files through their folder's descriptor."""
    return Path(os.readlink(f"/proc/self/fd/{dir_fd}"), path) if dir_fd is not None else Path(path)


def audit_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def invoke(*args: str | Path) -> Result:
    """Run the face-clean command line in this process (the loaded models are reused)."""
    from cleaner.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli() -> Iterator[Any]:
    yield invoke


CHROMIUM = shutil.which(os.environ.get("CHROMIUM", "chromium"))  # Debian's; CHROMIUM=/path/to/chrome for another


@pytest.fixture(scope="module")
def browser():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM:
        reason = "chromium is not installed (apt-get install -y chromium)"
    if reason is not None:
        unavailable(reason)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A fresh virtual environment set up by docker/install.sh, as the image is (docker_context.py)."""
    import docker_context

    return docker_context.install(tmp_path_factory.mktemp("image"))
