"""Where the Ray Data job runs: in an actor on the cluster, from which the driver pulls batches.

The dataset is not iterated in the driver itself, for two reasons measured with Ray 2.60:

- Ray Data's executor needs a Ray core worker, which a Ray Client driver (``ray://``) has
  not: iterating there fails with "'Worker' object has no attribute 'core_worker'".
- A job that stalls (a pool the cluster cannot place) cannot be stopped from the driver: its
  executor thread keeps calling into Ray, and after ``ray.shutdown()`` that ends the whole
  process with status 1 ("The core worker has already been shutdown") before the run can
  say why.  An actor is killed, and its executor with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class RemoteJob:
    """Runs on the cluster (as a Ray actor of no CPUs): builds the dataset, hands out its batches."""

    def __init__(self, build: Callable[[], Any]) -> None:
        import ray.data

        ctx = ray.data.DataContext.get_current()  # the driver's settings do not travel here
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = False
        self.batches = iter(build().iter_batches(batch_size=None, batch_format="numpy"))

    def next(self) -> dict[str, Any] | None:
        """The next batch of analyses, or None when the job is done."""
        return next(self.batches, None)


class JobHandle:
    """The driver's side: what cleaner.cluster.results.Results iterates, and how it stops the job."""

    def __init__(self, ray: Any, build: Callable[[], Any]) -> None:
        self.ray = ray
        self.actor = ray.remote(num_cpus=0, max_restarts=0)(RemoteJob).remote(build)

    def iter_batches(self) -> Iterator[dict[str, Any]]:
        while (batch := self.ray.get(self.actor.next.remote())) is not None:
            yield batch

    def cancel(self) -> None:
        """Stop the job, and so any ray.get waiting on it, before Ray shuts down."""
        try:
            self.ray.kill(self.actor)
        except Exception:  # the cluster is gone already: nothing left to stop
            pass
