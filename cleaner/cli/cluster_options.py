"""``run``'s options for analysing on a Ray cluster (cleaner.cluster.analyzer), checked before anything starts."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cleaner.cluster.options import ClusterOptions
from cleaner.records import ImageAnalysis

if TYPE_CHECKING:  # imported when the run needs them (numpy, Ray)
    from cleaner.analysis.batch import BatchAnalyzer
    from cleaner.cluster.analyzer import ClusterAnalyzer
    from cleaner.store.db import StateDB

ADDRESS = re.compile(r"^(ray|auto|(ray://)?[\w.\-\[\]:]+:\d+)$")


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--cluster",
            metavar="ray|auto|HOST:PORT|ray://HOST:PORT",
            help="Analyse on Ray workers (pip install 'face-clean[ray]'): 'ray' starts a local instance "
            "for this run; 'auto' or an address joins a running cluster whose nodes see DIRECTORY at the "
            "same path.  Deciding, moving, the audit log and the cache stay on this machine.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            help="Ray workers, each with the models loaded once (default: as many as the cluster's "
            "CPUs allow leaving one free, or one per GPU with --gpus-per-worker).",
        ),
        click.option(
            "--cpus-per-worker",
            type=click.FloatRange(min=0, min_open=True),
            help="CPUs each worker reserves and runs the model on (default 1).",
        ),
        click.option("--gpus-per-worker", type=click.FloatRange(min=0), help="GPUs each worker reserves (default 0)."),
        click.option("--batch-size", type=click.IntRange(min=1), help="Files per worker call (default 8)."),
        click.option(
            "--cluster-timeout",
            type=click.FloatRange(min=1),
            help="Give up when the cluster returns no analysis for this many seconds (default 600).",
        ),
        click.option(
            "--local-cpus",
            type=click.IntRange(min=1),
            help="CPUs of the instance --cluster ray starts (default: every core).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@dataclass(frozen=True)
class ClusterArgs:
    """The options ``cluster_options`` adds, as one value; all None when not given."""

    cluster: str | None
    workers: int | None
    cpus_per_worker: float | None
    gpus_per_worker: float | None
    batch_size: int | None
    cluster_timeout: float | None
    local_cpus: int | None

    @classmethod
    def pop_from(cls, options: dict[str, Any]) -> ClusterArgs:
        return cls(**{f.name: options.pop(f.name) for f in fields(cls)})

    def problem(self) -> str | None:
        """Why these options cannot work, before Ray is imported or started."""
        given = [f"--{f.name.replace('_', '-')}" for f in fields(self) if getattr(self, f.name) is not None]
        if self.cluster is None:
            return f"{', '.join(given)} only apply with --cluster" if given else None
        if not ADDRESS.match(self.cluster):
            return f"--cluster {self.cluster!r}: give ray (a local instance), auto, HOST:PORT or ray://HOST:PORT"
        options = self.options(False)
        if self.local_cpus is not None and not options.local:
            return "--local-cpus only applies to --cluster ray (a joined cluster has its own CPUs)"
        if self.gpus_per_worker is None:  # GPUs are counted once Ray has started
            return options.misfit(float(self.local_cpus or os.cpu_count() or 1), 0.0)
        return None

    def options(self, verbose: bool) -> ClusterOptions:
        sizes = {
            "cpus_per_worker": self.cpus_per_worker,
            "gpus_per_worker": self.gpus_per_worker,
            "batch_size": self.batch_size,
            "timeout": self.cluster_timeout,
        }
        given: dict[str, Any] = {k: v for k, v in sizes.items() if v is not None}  # the rest: the defaults
        return ClusterOptions(
            self.cluster or "", workers=self.workers, local_cpus=self.local_cpus, verbose=verbose, **given
        )

    def analyzer(self, local: BatchAnalyzer, verbose: bool, state: StateDB) -> ClusterAnalyzer:
        """The cluster's analyzer in place of ``local``; a renamed or copied photo is looked up in
        ``state`` by content, not sent to the cluster."""
        from cleaner.cluster.analyzer import ClusterAnalyzer

        key, read = local.identity.key, local.read

        def known(path: Path) -> ImageAnalysis | None:
            return state.by_content(path, key, read)

        return ClusterAnalyzer(local.analyzer, self.options(verbose), read, known)
