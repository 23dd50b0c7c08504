"""``run --cluster`` on real Ray instances: analysis on Ray workers, deciding, moving and auditing on
the driver.

The tests start real Ray instances with 2 CPUs (a local one with ``--cluster ray``, and a head
started with ``ray start`` that runs join by address), run the real deepface path on the tiny model
in the workers, and compare with a single-process run of the same photos. What needs no Ray (the
option checks, the workers' code, the result stream's deadline) is in test_cluster_options.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci import need_module
from cluster_runs import comparable, corpus, face_clean, tree
from conftest import all_hashes, audit_records
from watching import noise_jpegs

need_module("ray", "the test extra installs it")
pytestmark = pytest.mark.slow  # real Ray instances: 5.5 min for this module on 2 loaded cores


def test_local_cluster_decides_and_records_as_one_process(tmp_path: Path) -> None:
    single, clustered = corpus(tmp_path / "single"), corpus(tmp_path / "cluster")
    before = sorted(all_hashes(single))

    one = face_clean("run", single, "--keep", "Man")
    ray = face_clean(
        "run",
        clustered,
        "--keep",
        "Man",
        "--cluster",
        "ray",
        "--local-cpus",
        "2",
        "--workers",
        "2",
        "--batch-size",
        "2",
    )

    assert one.returncode == ray.returncode == 1, ray.stderr  # 1: the unreadable files
    assert comparable(clustered) == comparable(single, expected=True)
    assert tree(clustered) == tree(single)
    assert sorted(all_hashes(clustered)) == before  # every photo still there, once
    records = comparable(clustered)
    assert records["broken.jpg"]["status"] == "unreadable" and "truncated" in records["broken.jpg"]["error"]
    assert records["woman.png"]["action"] == "quarantine" and records["woman.png"]["moved"] is True
    assert len(records) == 12  # the non-UTF-8 name too
    assert "analysed now: 12   from cache: 0" in ray.stdout


def test_interrupted_cluster_run_resumes_from_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    noise_jpegs(root, 40)
    log = root / ".face-clean" / "audit.jsonl"
    cmd = [sys.executable, "-m", "cleaner", "run", str(root), "--keep", "all", "--cluster", "ray"]
    proc = subprocess.Popen([*cmd, "--local-cpus", "2", "--batch-size", "1", "-q"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (log.exists() and len(log.read_text().splitlines()) >= 5):
        assert proc.poll() is None and time.monotonic() < deadline, "no decisions came from the cluster"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130, proc.stderr.read() if proc.stderr else ""
    first = {r["path"] for r in audit_records(log)}
    assert 5 <= len(first) < 40

    again = face_clean("run", root, "--keep", "all", "--cluster", "ray", "--local-cpus", "2")

    assert again.returncode == 0, again.stderr
    second = audit_records(log)[len(first) :]  # the rest: the files decided before are not even looked at
    assert sorted(r["path"] for r in second) == sorted(p.name for p in root.glob("*.jpg") if p.name not in first)
    assert f"analysed now: {40 - len(first)}   from cache: 0   already decided: {len(first)}" in again.stdout


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running two-CPU cluster, joined by address or through Ray Client as a user joins theirs
    (token auth on)."""
    ray = Path(sys.executable).with_name("ray")
    port, client_port = free_port(), free_port()
    # as the README starts a head: without fork support in gRPC, its Ray Client proxy does
    # not crash now and then when it starts a server for a driver
    env = {**os.environ, "RAY_AUTH_MODE": "token", "GRPC_ENABLE_FORK_SUPPORT": "0"}
    subprocess.run([ray, "get-auth-token", "--generate"], env=env, capture_output=True, timeout=60)
    start = [ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--port", str(port)]
    start += ["--include-dashboard=false"]
    start += ["--ray-client-server-port", str(client_port), "--disable-usage-stats"]
    started = subprocess.run(start, env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield {"RAY_AUTH_MODE": "token", "address": f"127.0.0.1:{port}", "client": f"ray://127.0.0.1:{client_port}"}
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("join", ["address", "client"])
def test_joined_cluster_decides_as_one_process(tmp_path: Path, ray_head: dict[str, str], join: str) -> None:
    """Joined by the head's address (a driver on a node) and as a Ray Client (ray://, from outside)."""
    single, clustered = corpus(tmp_path / "single"), corpus(tmp_path / "cluster")
    face_clean("run", single, "--keep", "Man")
    env = {"RAY_AUTH_MODE": ray_head["RAY_AUTH_MODE"]}

    joined = face_clean("run", clustered, "--keep", "Man", "--cluster", ray_head[join], env=env)

    assert joined.returncode == 1, joined.stderr
    assert "Traceback" not in joined.stderr
    assert comparable(clustered) == comparable(single, expected=True)


def test_joining_an_address_that_never_answers_gives_up_after_the_timeout(tmp_path: Path) -> None:
    root = corpus(tmp_path / "photos")
    before = tree(root)
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        stuck = face_clean("run", root, "--keep", "Man", "--cluster", address, "--cluster-timeout", "5", timeout=120)
        took = time.monotonic() - started

    assert stuck.returncode == 4, stuck.stderr
    assert f"cannot join the Ray cluster at {address}: no answer within 5 s (--cluster-timeout)" in stuck.stderr
    assert took < 60  # 5 s, and the start of the command
    assert "Traceback" not in stuck.stderr
    assert tree(root) == before


def test_a_pool_the_cluster_cannot_place_fails_after_the_timeout(tmp_path: Path, ray_head: dict[str, str]) -> None:
    root = corpus(tmp_path / "photos")
    before = tree(root)
    env = {"RAY_AUTH_MODE": ray_head["RAY_AUTH_MODE"]}
    args = ("--cluster", ray_head["address"], "--gpus-per-worker", "1", "--cluster-timeout", "10")

    started = time.monotonic()
    stuck = face_clean("run", root, "--keep", "Man", *args, env=env)

    assert stuck.returncode == 4
    assert time.monotonic() - started < 120
    assert "returned no analysis for 10 s" in stuck.stderr and "0 GPUs" in stuck.stderr
    assert "Traceback" not in stuck.stderr
    assert tree(root) == before  # nothing moved
    log = root / ".face-clean" / "audit.jsonl"
    assert not log.exists() or not log.read_text().strip()
