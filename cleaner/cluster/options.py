"""``run --cluster``'s settings: where the cluster is, and how many workers of what size; sized and
checked against the cluster's resources before a worker starts. Imports no Ray."""

from __future__ import annotations

import math
from dataclasses import dataclass

LOCAL = "ray"  # --cluster ray: start a Ray instance on this machine for the run
CLIENT = "ray://"  # --cluster ray://HOST:PORT: join through Ray Client
RESERVED_CPUS = 1.0  # left free by the default pool: the driver's own work and Ray Data's tasks


@dataclass(frozen=True)
class ClusterOptions:
    address: str  # LOCAL, "auto", "HOST:PORT" or "ray://HOST:PORT"
    workers: int | None = None  # None: as many as the cluster's CPUs (or GPUs) allow
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    batch_size: int = 8  # files per call of a worker: small enough to spread a short job
    timeout: float = 600.0  # seconds without a result before the run gives up
    local_cpus: int | None = None  # CPUs of a local instance (default: every core)
    verbose: bool = False

    @property
    def local(self) -> bool:
        return self.address == LOCAL

    def pool_size(self, cpus: float, gpus: float) -> int:
        """The number of workers: as asked, or as many as fit beside the reserved CPU."""
        if self.workers is not None:
            return self.workers
        if self.gpus_per_worker > 0:
            return max(1, math.floor(gpus / self.gpus_per_worker))
        return max(1, math.floor((cpus - RESERVED_CPUS) / self.cpus_per_worker))

    def shortfall(self, cpus: float, gpus: float) -> str | None:
        """What the pool needs beyond the cluster's resources, or None if it fits."""
        n = self.pool_size(cpus, gpus)
        need_cpu, need_gpu = n * self.cpus_per_worker, n * self.gpus_per_worker
        missing = [
            f"{counted(need, kind)} ({counted(n, 'worker')} x {each:g}), the cluster has {have:g}"
            for need, each, have, kind in (
                (need_cpu, self.cpus_per_worker, cpus, "CPU"),
                (need_gpu, self.gpus_per_worker, gpus, "GPU"),
            )
            if need > have
        ]
        return "; ".join(missing) or None

    def misfit(self, cpus: float, gpus: float) -> str | None:
        """Why ``--cluster ray`` refuses this pool (a local instance cannot grow), or None."""
        short = self.shortfall(cpus, gpus) if self.local else None
        return f"the worker pool does not fit this machine: it needs {short}" if short else None


def counted(count: float, unit: str) -> str:
    """``1 CPU``, ``2.5 CPUs``."""
    return f"{count:g} {unit}{'' if count == 1 else 's'}"
