"""Analysis on a Ray cluster: the driver's side.

Only the analysis leaves the machine.  Ray Data takes the list of files still to analyse, an
actor pool (cleaner.cluster.worker) keeps the models loaded once per worker, and analyses
stream back here, where the job decides, moves, audits and caches each one exactly as in a
single-process run: the driver stays the single writer of the folder, the audit log and the
state database.  ``ClusterAnalyzer`` has BatchAnalyzer's interface, so the job cannot tell
them apart.

A cluster that stops answering (workers that cannot be placed, a lost node) fails the run
after ``timeout`` seconds without a result, with what was asked and what the cluster has;
files decided until then stay recorded and cached, and a rerun skips their analysis. Joining a
cluster is bounded by the same ``timeout`` (an address that accepts and never answers, a Ray
Client proxy that never starts the driver's server). The local instance of ``--cluster ray``
listens on 127.0.0.1 only: nothing of it is reachable from the network.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.analysis.protocol import ModelIdentity
from cleaner.analysis.reading import read_file
from cleaner.cluster.options import CLIENT, ClusterOptions, counted
from cleaner.cluster.remote_job import JobHandle
from cleaner.cluster.results import Results, first_line
from cleaner.cluster.worker import AnalyzeFiles, WorkerSettings
from cleaner.errors import ClusterError
from cleaner.records import ImageAnalysis

log = logging.getLogger("face-clean")

PASSED_ENV = ("DEEPFACE_HOME",)  # weights at the same path on every node, like the photos
# read when Ray is imported: "0" makes Ray's node address the loopback one (named for Windows and
# macOS, where it is Ray's default; on Linux too it keeps a one-machine instance off the network)
LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
CLIENT_ATTEMPTS = 3  # connections tried when the head's server for this driver dies at start
SERVER_DIED = "Starting Ray client server failed"


class ClusterAnalyzer:
    """Analyses on Ray workers, with the models and settings of ``local`` (the driver's
    FaceAnalyzer, which also checked that the weights exist and keys the cache)."""

    def __init__(
        self,
        local: FaceAnalyzer,
        options: ClusterOptions,
        read: Any = read_file,
        known: Callable[[Path], ImageAnalysis | None] | None = None,
    ) -> None:
        """``read``: how the driver reads a file (below which folder, within which memory budget);
        ``known``: a file's analysis found by its content on the driver (a renamed or copied photo), or None."""
        self.local = local
        self.options = options
        self.read = read
        self.known = known
        self._ray: Any = None

    @property
    def identity(self) -> ModelIdentity:
        return self.local.identity

    def analyze_many(self, items: Iterable[Path | ImageAnalysis]) -> Iterator[ImageAnalysis]:
        """Cache hits first (decided while the workers load their models), then the cluster's
        analyses as they arrive; a run answered wholly from the cache never starts Ray."""
        cached: list[ImageAnalysis] = []
        paths: list[Path] = []
        for item in items:
            if isinstance(item, ImageAnalysis):
                cached.append(item)
                continue
            hit = self.known(item) if self.known else None
            if hit is not None:
                cached.append(hit)
            else:
                paths.append(item)
        if not paths:
            yield from cached
            return
        stream = Results(self._job(paths), paths, self.options.timeout, self._stall_message)
        try:
            yield from cached
            yield from stream.results()
        finally:
            stream.close()

    def close(self) -> None:
        """Stop the local instance (a joined cluster keeps running; our workers end with us)."""
        if self._ray is not None and self._ray.is_initialized():
            if not self.options.verbose:  # an iteration cut short logs its traceback: the run said why
                _quiet_ray(logging.CRITICAL)
            self._ray.shutdown()

    def __enter__(self) -> ClusterAnalyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> Any:
        if self._ray is not None:
            return self._ray
        # no Ray call may quietly start a second, unconfigured instance (after shutdown, say)
        os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")
        if self.options.local:  # Ray's "one machine" mode: its node address is 127.0.0.1, not the network's
            os.environ.setdefault(LOOPBACK_ONLY, "0")
        try:
            import ray
            import ray.data
        except ImportError as err:
            raise ClusterError(f"--cluster needs Ray ({err}): pip install 'face-clean[ray]'") from None
        o = self.options
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        if not o.verbose:  # Ray's notices (token auth, progress bars off) unless asked for with -v
            _quiet_ray(logging.ERROR)
        kwargs: dict[str, Any] = {
            "runtime_env": {"env_vars": env} if env else None,
            "log_to_driver": o.verbose,
            "logging_level": logging.INFO if o.verbose else logging.WARNING,
            "configure_logging": o.verbose,
        }
        # ray.init puts its own SIGTERM handler in place of the job's "stop after this file"
        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            if o.local:
                ray.init(
                    address="local",
                    num_cpus=o.local_cpus,
                    include_dashboard=False,
                    **kwargs,
                )
            elif o.address.startswith(CLIENT):
                within(o.timeout, functools.partial(init_client, ray, o.address, **kwargs), o.address)
            else:
                within(o.timeout, functools.partial(ray.init, address=o.address, **kwargs), o.address)
        except ClusterError:
            raise
        except (ConnectionError, RuntimeError, ValueError) as err:
            if o.local:
                raise ClusterError(f"cannot start a local Ray instance: {err}") from None
            hint = ""
            if "RAY_AUTH_MODE" not in os.environ:
                hint = (
                    " (a cluster with token authentication, Ray's default, needs RAY_AUTH_MODE=token and its "
                    "token in RAY_AUTH_TOKEN or ~/.ray/auth_token; `ray get-auth-token` on the head prints it)"
                )
            raise ClusterError(f"cannot join the Ray cluster at {o.address}: {first_line(err)}{hint}") from None
        finally:
            if threading.current_thread() is threading.main_thread():
                for s, h in handlers.items():
                    signal.signal(s, h)
        self._ray = ray
        return ray

    def _resources(self) -> tuple[float, float]:
        total = self._ray.cluster_resources()
        return float(total.get("CPU", 0)), float(total.get("GPU", 0))

    def _job(self, paths: list[Path]) -> Any:
        ray = self._connect()
        o = self.options
        cpus, gpus = self._resources()
        workers = o.pool_size(cpus, gpus)
        misfit = o.misfit(cpus, gpus)
        if misfit:
            raise ClusterError(misfit)
        short = o.shortfall(cpus, gpus)
        if short:
            log.warning(
                "face-clean: the worker pool needs %s now; waiting for the cluster to grow "
                "(the run gives up after %g s without a result)",
                short,
                o.timeout,
            )
        log.info("face-clean: %d files to analyse on %d Ray workers", len(paths), workers)
        threads = max(1, math.ceil(o.cpus_per_worker))
        build = functools.partial(
            _dataset, [os.fsencode(p) for p in paths], WorkerSettings(self.identity, threads, self.read), o, workers
        )
        return JobHandle(ray, build)

    def _stall_message(self) -> str:
        o = self.options
        try:
            cpus, gpus = self._resources()
            free = self._ray.available_resources()
            have = (
                f"; the cluster has {counted(cpus, 'CPU')} and {counted(gpus, 'GPU')}, free now: "
                f"{counted(float(free.get('CPU', 0)), 'CPU')} and {counted(float(free.get('GPU', 0)), 'GPU')}"
            )
            workers = o.pool_size(cpus, gpus)
        except Exception:  # the cluster itself is gone
            have, workers = "; the cluster no longer answers", o.workers or 0
        return (
            f"the Ray cluster returned no analysis for {o.timeout:g} s; the pool asks for "
            f"{counted(workers, 'worker')} with {counted(o.cpus_per_worker, 'CPU')} and "
            f"{counted(o.gpus_per_worker, 'GPU')} each{have}. Files decided so far "
            "are recorded and cached, and a rerun skips their analysis. Check `ray status`, ask for fewer "
            "or smaller workers, or give slow workers longer with --cluster-timeout"
        )


def within(seconds: float, join: Callable[[], object], address: str) -> None:
    """``join()`` (a ray.init), given up after ``seconds``: on a thread, which is left behind (Ray
    offers no way to cancel a connection); the process then ends with the cluster's exit code."""
    done = threading.Event()
    failed: list[BaseException] = []

    def attempt() -> None:
        try:
            join()
        except BaseException as err:  # handed to the caller's thread, raised there
            failed.append(err)
        finally:
            done.set()

    threading.Thread(target=attempt, name="face-clean-ray-join", daemon=True).start()
    if not done.wait(seconds):
        raise ClusterError(
            f"cannot join the Ray cluster at {address}: no answer within {seconds:g} s (--cluster-timeout); "
            "check the address and that the head is running (`ray status` on it)"
        )
    if failed:
        raise failed[0]


def init_client(ray: Any, address: str, **kwargs: Any) -> None:
    """ray.init through Ray Client, again if the head's server for this driver died at start.

    The head's client proxy forks that server while its gRPC threads run, and the child now
    and then dies at once (SIGSEGV; measured: 1 connection in 3 or 4, none with
    GRPC_ENABLE_FORK_SUPPORT=0 on ``ray start --head``)."""
    for attempt in range(1, CLIENT_ATTEMPTS + 1):
        try:
            ray.init(address=address, **kwargs)
            return
        except RuntimeError as err:
            if SERVER_DIED not in str(err) or attempt == CLIENT_ATTEMPTS:
                raise


def _dataset(paths: list[bytes], settings: WorkerSettings, o: ClusterOptions, workers: int) -> Any:
    """The job: the paths, then the worker pool's analyses (built where it is iterated)."""
    import ray.data

    ds = ray.data.from_items([{"path": p} for p in paths])
    return ds.map_batches(
        AnalyzeFiles,
        fn_constructor_kwargs={"settings": settings},
        batch_size=o.batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=o.cpus_per_worker,
        num_gpus=o.gpus_per_worker or None,
    )


def _quiet_ray(level: int) -> None:
    for name in ("ray", "ray.data"):  # ray.data sets its own level
        logging.getLogger(name).setLevel(level)
