"""``run --cluster`` without Ray running: the options checked before Ray is imported, the message when
Ray is not installed, what a worker runs, the result stream's deadline and the Ray Client retry.
None of these needs Ray (it may not even be installed), so none is skipped without it."""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import photos
import pytest
from cluster_runs import face_clean, tree

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.cluster.analyzer import SERVER_DIED, init_client, within
from cleaner.cluster.results import Results
from cleaner.cluster.worker import AnalyzeFiles, WorkerSettings
from cleaner.errors import ClusterError, ModelError


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


def test_a_join_that_never_returns_is_given_up_after_the_timeout_and_an_error_is_passed_on() -> None:
    never = threading.Event()
    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"cannot join the Ray cluster at 10\.0\.0\.1:6379: no answer within 1 s"):
        within(1, never.wait, "10.0.0.1:6379")
    assert time.monotonic() - started < 5
    never.set()

    def refused() -> None:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError, match="refused"):
        within(5, refused, "10.0.0.1:6379")
    within(5, lambda: None, "10.0.0.1:6379")
