"""``run --cluster``: analysis on Ray workers, deciding, moving and auditing on the driver.

The end-to-end tests start real Ray instances with 2 CPUs (a local one with ``--cluster ray``,
and a head started with ``ray start`` that runs join by address), run the real deepface path
on the tiny model in the workers, and compare with a single-process run of the same photos.
The option checks and the result stream's deadline run without Ray.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import photos
import pytest
from conftest import all_hashes, audit_records, sha256
from watching import noise_jpegs

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.cluster.analyzer import SERVER_DIED, init_client
from cleaner.cluster.results import Results
from cleaner.cluster.worker import AnalyzeFiles, WorkerSettings
from cleaner.errors import ClusterError, ModelError

if not os.environ.get("CI"):  # CI installs the test extra, Ray included: there it must run
    pytest.importorskip("ray")

RUN_SPECIFIC = ("time", "run_id", "root", "move_id")  # what differs between two runs of the same photos
NON_UTF8 = os.fsdecode(b"caf\xe9.jpg")  # a Latin-1 name from an old NAS


def face_clean(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cleaner", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def corpus(root: Path) -> Path:
    """The standard mixed folder (faces, no faces, unreadable files) plus a non-UTF-8 name."""
    photos.make_folder(root)
    photos.save(photos.swapped(), root / NON_UTF8, quality=90)
    return root


def comparable(root: Path, expected: bool = False) -> dict[str, dict[str, Any]]:
    """Audit records by path, without what is specific to one run.

    Gender probabilities are compared to 1e-5: onnxruntime's float32 sums differ in the 7th
    digit with the number of faces in a model call, and workers batch faces from their own
    share of the files (two single-process runs batched differently differ the same way).
    Everything else, the decisions included, must be equal.  ``expected``: the side that
    holds the tolerances.
    """
    records = audit_records(root / ".face-clean" / "audit.jsonl")
    assert len({r["path"] for r in records}) == len(records), "one record per file"
    for r in records:
        r["destination"] = r["destination"] and str(Path(r["destination"]).relative_to(root))
        for face in r["faces"]:
            if expected and face["gender"]:
                face["gender"] = pytest.approx(face["gender"], abs=1e-5)
    return {r["path"]: {k: v for k, v in r.items() if k not in RUN_SPECIFIC} for r in records}


def tree(root: Path) -> dict[Path, str]:
    """Every photo's place relative to ``root`` (quarantine and review included) -> its sha256."""
    return {
        p.relative_to(root): sha256(p)
        for p in root.rglob("*")
        if p.is_file() and p.suffix != ".jsonl" and p.parent.name != ".face-clean"
    }


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
    start = [ray, "start", "--head", "--num-cpus", "2", "--port", str(port), "--include-dashboard=false"]
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


def test_cluster_options_without_cluster_are_refused(tmp_path: Path) -> None:
    photos.make_folder(tmp_path)
    result = face_clean("run", tmp_path, "--keep", "Man", "--workers", "2", "--batch-size", "4")
    assert result.returncode == 2
    assert "--workers, --batch-size only apply with --cluster" in result.stderr
    assert not (tmp_path / ".face-clean" / "audit.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cluster", "somewhere"), "give ray (a local instance), auto, HOST:PORT or ray://HOST:PORT"),
        (("--cluster", "auto", "--local-cpus", "2"), "--local-cpus only applies to --cluster ray"),
        (
            ("--cluster", "ray", "--local-cpus", "2", "--workers", "3"),
            "needs 3 CPUs (3 workers x 1), the cluster has 2",
        ),
    ],
)
def test_impossible_cluster_options_fail_before_ray_starts(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    photos.make_folder(tmp_path)
    result = face_clean("run", tmp_path, "--keep", "Man", *args, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr


def test_without_ray_installed_the_message_says_how_to_get_it(tmp_path: Path) -> None:
    shadow = tmp_path / "no-ray"
    (shadow / "ray").mkdir(parents=True)
    (shadow / "ray" / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    root = tmp_path / "photos"
    photos.make_folder(root)
    before = tree(root)

    result = face_clean("run", root, "--keep", "Man", "--cluster", "ray", env={"PYTHONPATH": str(shadow)})

    assert result.returncode == 4
    assert "pip install 'face-clean[ray]'" in result.stderr and "Traceback" not in result.stderr
    assert tree(root) == before


def test_a_worker_analyses_exactly_as_the_driver(tmp_path: Path) -> None:
    files = photos.make_folder(tmp_path)
    driver = FaceAnalyzer("onnx", "opencv", gender_model="deepface")
    paths = sorted(files.values())
    worker = AnalyzeFiles(WorkerSettings(driver.identity, threads=1))

    out = worker({"path": [os.fsencode(p) for p in paths]})

    assert out["fatal"] == [""] * len(paths)
    expected = list(BatchAnalyzer(driver).analyze_many(paths))
    assert [pickle.loads(b) for b in out["analysis"]] == expected


def test_a_worker_with_other_models_stops_the_run_with_the_reason(tmp_path: Path) -> None:
    driver = FaceAnalyzer("onnx", "opencv", gender_model="deepface")
    other = replace(driver.identity, model_sha256=("0" * 64,))
    worker = AnalyzeFiles(WorkerSettings(other, threads=1))
    path = photos.save(photos.astronaut(), tmp_path / "man.jpg")
    batch = worker({"path": [os.fsencode(path)]})
    assert "its models differ from the driver's: model_sha256" in batch["fatal"][0]

    class Finished:
        def iter_batches(self) -> Iterator[dict[str, Any]]:
            yield batch

        def cancel(self) -> None:
            pass

    results = Results(Finished(), [path], timeout=30, stall_message=lambda: "")
    with pytest.raises(ModelError, match=r"a Ray worker on .* cannot analyse: its models differ"):
        list(results.results())


def test_results_give_up_after_the_timeout_and_account_for_every_file(tmp_path: Path) -> None:
    release = threading.Event()

    class Stuck:  # a job the cluster cannot place: waits until it is cancelled
        def iter_batches(self) -> Iterator[dict[str, Any]]:
            release.wait(30)
            return
            yield

        def cancel(self) -> None:
            release.set()

    started = time.monotonic()
    results = Results(Stuck(), [tmp_path / "a.jpg"], timeout=1, stall_message=lambda: "no answer")
    with pytest.raises(ClusterError, match="no answer"):
        list(results.results())
    assert time.monotonic() - started < 10
    results.close()
    assert not results.thread.is_alive()  # the job was stopped, not left to call into Ray

    class Empty(Stuck):  # the job ended without answering for a file: it still gets one analysis
        def iter_batches(self) -> Iterator[dict[str, Any]]:
            return iter(())

    (missing,) = list(Results(Empty(), [tmp_path / "b.jpg"], timeout=5, stall_message=str).results())
    assert missing.status.value == "error" and "no analysis came back" in (missing.error or "")


class FlakyRay:
    """ray.init that fails as a head's Ray Client proxy does when its server dies at start."""

    def __init__(self, failures: int, error: str = f"{SERVER_DIED}. See ray_client_server_23000.err") -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def init(self, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(self.error)


def test_a_ray_client_connection_is_retried_when_the_heads_server_dies_at_start() -> None:
    ray = FlakyRay(failures=2)
    init_client(ray, "ray://head:10001")
    assert ray.calls == 3

    with pytest.raises(RuntimeError, match=SERVER_DIED):
        init_client(FlakyRay(failures=3), "ray://head:10001")
    refused = FlakyRay(failures=1, error="Authentication required")
    with pytest.raises(RuntimeError, match="Authentication"):
        init_client(refused, "ray://head:10001")
    assert refused.calls == 1  # only the server's death is worth another try
