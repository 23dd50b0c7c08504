"""docker/entrypoint.sh outside a container: run from the environment docker/install.sh made
(docker_context.py), on a temporary folder laid out like the container's volumes. The user
switch (PUID/PGID) needs root; CI runs as root.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci import unavailable
from docker_context import ENTRYPOINT, HEALTH, ROOT, WATCH, Image, layout, run


@pytest.fixture
def volumes() -> Iterator[Path]:
    """Like the container's volumes; outside pytest's private temp folder so any uid can reach it."""
    base = Path(tempfile.mkdtemp(prefix="face-clean-volumes-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def as_me() -> dict[str, str]:
    return {"PUID": str(os.getuid()), "PGID": str(os.getgid())}


def test_first_start_writes_the_default_rules_and_later_starts_keep_the_users(installed: Image, volumes: Path) -> None:
    rules = volumes / "config" / "rules.yaml"
    other = installed.entrypoint(volumes, "face-clean", "check", "--keep", "Man", **as_me())
    assert other.returncode == 0 and not rules.exists(), "a command that does not read them gets no rules file"
    first = installed.entrypoint(volumes, "face-clean", "check", rules, **as_me())
    assert first.returncode == 0, first.stderr
    assert (
        rules.read_bytes()
        == (ROOT / "rules.yaml").read_bytes()
        == (ROOT / "cleaner/rules/default_rules.yaml").read_bytes()
    )
    assert "wrote the default rules" in first.stderr and "keep-man" in first.stdout  # the copy loads
    assert (volumes / "state").is_dir() and (volumes / "quarantine").is_dir()
    rules.write_text(rules.read_text().replace("{gender: Man}", "{gender: Woman}"))
    edited = rules.read_bytes()
    second = installed.entrypoint(volumes, "face-clean", "check", rules, **as_me())
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
        unavailable("the PUID/PGID switch needs root (CI runs it as root)")


def test_runs_the_command_as_puid_pgid(installed: Image, volumes: Path) -> None:
    needs_root()
    uid, gid = free_id(), free_id() + 1
    ids = {"PUID": str(uid), "PGID": str(gid)}
    (volumes / "state").mkdir()
    (volumes / "state" / "audit.jsonl").write_text("")  # left by an earlier start with other ids
    (volumes / "quarantine" / "not-man").mkdir(parents=True)  # users' photos: not chowned
    (volumes / "config").mkdir()
    (volumes / "config" / "rules.yaml").write_text("version: 1\n")
    (volumes / "root-only").mkdir()
    (volumes / "home").symlink_to(volumes / "root-only")  # planted by the user during an earlier start
    assert installed.entrypoint(volumes, "id", "-u", **ids).stdout.strip() == str(uid)
    assert (volumes / "root-only").stat().st_uid == 0 and not (volumes / "home").is_symlink()
    assert installed.entrypoint(volumes, "id", "-G", **ids).stdout.strip() == str(gid)  # no other groups
    # HOME: inside the container, not in a volume (onnxruntime keeps a cache there)
    assert installed.entrypoint(volumes, "sh", "-c", "echo $HOME", **ids).stdout.strip() == str(volumes / "home")
    made = installed.entrypoint(volumes, "touch", volumes / "state" / "x", volumes / "quarantine" / "y", **ids)
    assert made.returncode == 0, made.stderr
    for path in ("state/x", "quarantine/y", "state/audit.jsonl", "config/rules.yaml", "state", "config", "home"):
        st = (volumes / path).stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), path
    assert (volumes / "quarantine" / "not-man").stat().st_uid == 0
    bad = installed.entrypoint(volumes, "id", PUID="nobody", PGID=str(gid))
    assert bad.returncode == 2 and "numeric" in bad.stderr


def test_the_state_folder_stays_private_under_a_group_umask(installed: Image, volumes: Path) -> None:
    """face-clean trusts its state only where no one else can write (a UMASK of 002 is common on a NAS)."""
    (volumes / "state").mkdir(mode=0o777)
    (volumes / "state").chmod(0o777)  # left so by an earlier start or by hand
    done = installed.entrypoint(volumes, "touch", volumes / "quarantine" / "x", UMASK="002", **as_me())
    assert done.returncode == 0, done.stderr
    assert (volumes / "state").stat().st_mode & 0o777 == 0o755
    assert (volumes / "config").stat().st_mode & 0o777 == 0o775, "the UMASK holds elsewhere"


def test_a_container_started_as_a_user_keeps_that_user(volumes: Path) -> None:
    """docker run --user: no switch, PUID/PGID are ignored (as root here, setpriv plays docker)."""
    user = os.getuid()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = free_id()
        os.chown(volumes, user, user)
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
    env = {**os.environ, **layout(volumes), "PUID": "1", "PGID": "1"}
    proc = run(*prefix, ENTRYPOINT, "sh", "-c", "id -u; echo $HOME", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(user), str(volumes / "home")]


def test_the_command_replaces_the_entrypoint_so_signals_reach_it(installed: Image, volumes: Path) -> None:
    ids = {"PUID": str(free_id()), "PGID": str(free_id())} if os.geteuid() == 0 else {}
    env = {**installed.env, **layout(volumes), **ids}
    proc = subprocess.Popen([installed.venv / "bin" / "face-clean-entrypoint", "sleep", "60"], env=env, cwd="/")
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


def daemon(installed: Image, volumes: Path, log: Path, *extra: str, **env: str) -> subprocess.Popen[bytes]:
    """The image's CMD with the volumes moved into the temporary folder, run through the entrypoint."""
    command = [re.sub(r"^/(photos|config|state|quarantine)\b", rf"{volumes}/\1", a) for a in WATCH]
    env = {**installed.env, **layout(volumes), **as_me(), **env}
    with log.open("wb") as out:
        entrypoint = installed.venv / "bin" / "face-clean-entrypoint"
        return subprocess.Popen([entrypoint, *command, *extra], env=env, cwd="/", stderr=out, stdout=out)


def test_the_image_command_watches_reports_healthy_and_stops_on_sigterm(installed: Image, volumes: Path) -> None:
    (volumes / "photos").mkdir()
    heartbeat = volumes / "state" / "heartbeat"
    proc = daemon(installed, volumes, volumes / "log")
    try:
        deadline = time.monotonic() + 120
        while not heartbeat.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the daemon wrote no heartbeat"
            time.sleep(0.2)
        health = run(installed.venv / "bin" / "face-clean", "health", heartbeat, *HEALTH[3:], env=installed.env)
        assert health.returncode == 0, health.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
    assert (volumes / "config" / "rules.yaml").is_file()


def test_with_a_password_file_the_daemon_serves_the_review_page(installed: Image, volumes: Path) -> None:
    import socket

    import requests

    (volumes / "photos").mkdir()
    with socket.socket() as s:  # a free port for the page
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = volumes / "log"
    heartbeat = volumes / "state" / "heartbeat"
    absent = daemon(installed, volumes, log, FACE_CLEAN_PASSWORD_FILE=str(volumes / "config" / "password"))
    try:
        wait_until(heartbeat.exists, absent, log)
        assert "the review page is off: no password file at" in log.read_text()
    finally:
        absent.send_signal(signal.SIGTERM)
        absent.wait(timeout=60)
    heartbeat.unlink()
    (volumes / "config" / "password").write_text("a password for the page\n")
    env = {"FACE_CLEAN_PASSWORD_FILE": str(volumes / "config" / "password"), "FACE_CLEAN_SERVE_PORT": str(port)}
    proc = daemon(installed, volumes, log, **env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: heartbeat.exists() and _answers(url + "login"), proc, log)
        assert requests.get(url + "api/items", timeout=10).status_code == 401  # listening on 0.0.0.0: signed in only
        said = log.read_text()  # an address a person can open from another device, not 127.0.0.1
        assert f"is at http://<this machine's address>:{port}/" in said and f"is at http://127.0.0.1:{port}" not in said
        s = requests.Session()  # signed in as Chromium does it: Origin null on the login form's POST
        token = re.search(r'name="csrf" value="([^"]+)"', s.get(url + "login", timeout=10).text)[1]  # type: ignore[index]
        form = {"csrf": token, "password": "a password for the page"}
        signed = s.post(url + "login", data=form, headers={"Origin": "null"}, allow_redirects=False, timeout=30)
        assert signed.status_code == 302 and s.get(url + "api/items", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def wait_until(check, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.2)


PARKED = "face-clean-entrypoint: configuration error: "


def parks(proc: subprocess.Popen[bytes], log: Path, code: int, message: str) -> None:
    """The daemon is not started; one message, and the entrypoint waits until it is stopped."""
    try:
        deadline = time.monotonic() + 60
        while PARKED not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(2)
        assert proc.poll() is None, "a configuration error must not end the container (a restart would loop)"
        text = log.read_text()
        assert text.count(PARKED) == 1 and PARKED + message in text, text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == code
    finally:
        proc.kill()
        proc.wait()


def test_an_unwritable_photo_folder_stops_the_daemon_with_a_message(installed: Image, volumes: Path) -> None:
    needs_root()
    (volumes / "photos").mkdir()  # root's, and PUID may not write to it
    uid, gid = free_id(), free_id() + 1
    log = volumes / "log"
    proc = daemon(installed, volumes, log, PUID=str(uid), PGID=str(gid))
    parks(proc, log, 2, f"{volumes}/photos is not a folder that uid {uid} gid {gid} may write to")
    assert list((volumes / "state").iterdir()) == [], "nothing started"
    # (a dry run's daemon may watch a read-only folder: test_container.py, as python is root's here)


WEIGHTS_MISSING = "model weights the rules need are missing or damaged: mount a folder that holds DeepFace's"


def test_missing_weights_and_broken_rules_stop_the_daemon_with_a_message(installed: Image, volumes: Path) -> None:
    (volumes / "photos").mkdir()
    empty = volumes / "no-models"
    empty.mkdir()
    # The built-in models need no weights folder; DeepFace's gender model, chosen on the command
    # line (the entrypoint's check must see that option), does.
    fine = run(
        installed.venv / "bin" / "face-clean", "models", "status", env={**installed.env, "DEEPFACE_HOME": str(empty)}
    )
    assert fine.returncode == 0, fine.stdout
    proc = daemon(installed, volumes, volumes / "log", "--gender-model", "deepface", DEEPFACE_HOME=str(empty))
    parks(proc, volumes / "log", 3, WEIGHTS_MISSING)
    missing = re.search(r"MISSING +gender \(deepface\) +(\S+)", (volumes / "log").read_text())
    assert missing and missing[1] == f"{empty}/.deepface/weights/gender_model_weights.onnx"
    # ...or chosen for the whole container through the environment
    proc = daemon(installed, volumes, volumes / "log", DEEPFACE_HOME=str(empty), FACE_CLEAN_GENDER_MODEL="deepface")
    parks(proc, volumes / "log", 3, WEIGHTS_MISSING)
    (volumes / "config" / "rules.yaml").write_text("version: 1\nrules: [{name: x, action: shred}]\n")
    proc = daemon(installed, volumes, volumes / "log")
    parks(proc, volumes / "log", 2, "the rules cannot be used:")
    # A one-off command is not held: it ends with its own message and exit code.
    one_off = installed.entrypoint(
        volumes,
        "face-clean",
        "run",
        volumes / "photos",
        "--keep",
        "Man",
        "--gender-model",
        "deepface",
        DEEPFACE_HOME=str(empty),
        **as_me(),
    )
    assert one_off.returncode == 3 and "Model weights are missing" in one_off.stderr and PARKED not in one_off.stderr
