"""Where the fast path's time goes: each stage's busy and idle seconds, for the benchmarks.

The stages of cleaner.analysis.batch: *prepare* (read, decode, detect, cut the faces out; on worker
threads), *model* (the gender and age models; on the caller's thread) and *caller* (what the
caller does between two results: deciding, moving, writing the audit log).  The caller's thread
is idle while it waits for a worker; a worker is idle while the prepared images are ahead of the
model by the whole window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class StageClock:
    images: int = 0
    faces: int = 0
    prepare_busy: float = 0.0  # summed over the workers
    model_busy: float = 0.0
    waiting_for_prepare: float = 0.0  # the caller's thread, with nothing prepared to take
    wall: float = 0.0  # inside analyze_many, summed over calls
    workers: int = 1  # the most that ran at once
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def prepared(self, seconds: float, workers: int) -> None:
        with self._lock:
            self.prepare_busy += seconds
            self.workers = max(self.workers, workers)

    def as_dict(self) -> dict[str, float]:
        wall = self.wall or 1e-9
        caller = max(0.0, wall - self.model_busy - self.waiting_for_prepare)
        return {
            "images": self.images,
            "faces": self.faces,
            "workers": self.workers,
            "prepare_busy_s": round(self.prepare_busy, 2),
            "prepare_idle_s": round(max(0.0, self.workers * wall - self.prepare_busy), 2),
            "model_busy_s": round(self.model_busy, 2),
            "model_idle_s": round(self.waiting_for_prepare, 2),
            "caller_s": round(caller, 2),
            "wall_s": round(self.wall, 2),
        }
