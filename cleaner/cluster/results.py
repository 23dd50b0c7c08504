"""The analyses a Ray job sends back, handed to the driver in arrival order, with a deadline.

Fetching the job's next batch blocks for as long as the cluster makes it wait; a feeder
thread moves the batches into a queue, so the driver can give up after ``timeout`` seconds
without a result (workers that can never be placed, a lost node) with a message instead of
waiting forever.  Every path sent out gets exactly one analysis back, or an error analysis
saying none came.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cleaner.cluster.worker import decode_analysis
from cleaner.errors import ClusterError, ModelError
from cleaner.records import ImageAnalysis, Status

_DONE = object()


class Results:
    """Ray Data's results, fed by a thread into a queue, so the driver can give up waiting."""

    def __init__(self, job: Any, paths: list[Path], timeout: float, stall_message: Callable[[], str]) -> None:
        self.job = job  # a cleaner.cluster.remote_job.JobHandle
        self.expected = {os.fsencode(p): p for p in paths}
        self.timeout = timeout
        self.stall_message = stall_message
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._feed, name="face-clean-ray", daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        try:
            for batch in self.job.iter_batches():
                if not self._put(batch):
                    return
            self._put(_DONE)
        except BaseException as err:  # handed to the driver's thread, which reports it
            self._put(err)

    def _put(self, item: Any) -> bool:
        while not self.closed.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def results(self) -> Iterator[ImageAnalysis]:
        while True:
            try:
                item = self.queue.get(timeout=self.timeout)
            except queue.Empty:
                raise ClusterError(self.stall_message()) from None
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise ClusterError(f"the Ray job failed: {first_line(item)}") from None
            yield from self._rows(item)
        for path in self.expected.values():  # never expected to happen; still one record each
            yield ImageAnalysis(path, 0, None, Status.ERROR, "no analysis came back from the Ray cluster")

    def _rows(self, batch: dict[str, Any]) -> Iterator[ImageAnalysis]:
        for raw, blob, fatal, host in zip(batch["path"], batch["analysis"], batch["fatal"], batch["host"], strict=True):
            path = self.expected.pop(bytes(raw), None)
            if path is None:  # a retried batch answered twice: the first answer stands
                continue
            if fatal:
                raise ModelError(f"a Ray worker on {host} cannot analyse: {fatal}")
            try:
                yield decode_analysis(bytes(blob), path)
            except Exception as err:
                yield ImageAnalysis(path, 0, None, Status.ERROR, f"unreadable answer from worker {host}: {err}")

    def close(self) -> None:
        """Stop the job and the feeder while Ray is still up (see cleaner.cluster.remote_job)."""
        self.closed.set()
        self.job.cancel()
        self.thread.join(timeout=5)


def first_line(err: BaseException) -> str:
    """The cause, not Ray's page of traceback."""
    text = str(err).strip() or type(err).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__
