"""Settings chosen by measuring them while the run goes, not by a constant.

How many faces one model call should take, and how many threads the model gets, depend on the
machine, its load and the model: on one 2-core machine the VGG-Face-sized model ran 5.5 faces/s
one at a time and 3.1 in batches of 8, on another of the same kind the opposite.  A ``Tuner``
walks a small grid of settings (each axis an ordered list of values), measuring each setting it
tries over a window of real work: it moves to a neighbouring setting while that is faster by
more than ``MARGIN``, stays on the best, and now and then measures a neighbour again, so a
change of load moves it too.  Measurements are smoothed (an exponential moving average), and
the best setting found is kept (cleaner.store.tuning) to start the next run from.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

MARGIN = 0.05  # a neighbour must be this much faster to be moved to (noise is larger than that)
SMOOTHING = 0.5  # weight of the newest window in a setting's average
REVISIT = 10  # windows on the best setting between two looks at a neighbour (each look costs a window)

Setting = tuple[int, ...]


class Tuner:
    """One grid of settings; ``value`` is the setting to use for the next piece of work, and
    ``record(units, seconds)`` says how long a piece took with it."""

    def __init__(
        self,
        axes: Sequence[Sequence[int]],
        start: Setting | None = None,
        min_units: float = 1.0,
        min_seconds: float = 0.0,
    ) -> None:
        self.axes = [list(a) for a in axes]
        self.min_units, self.min_seconds = min_units, min_seconds
        self._at = self._index(start) if start is not None else tuple(0 for _ in self.axes)
        self._costs: dict[Setting, float] = {}  # seconds per unit of work, smoothed
        self._units = self._seconds = 0.0
        self._settled = 0  # windows measured on the best since the last look around
        self._turn = itertools.count()
        self._home: Setting | None = None  # the best, while a neighbour is being looked at
        self._lock = threading.Lock()

    def _index(self, setting: Setting) -> Setting:
        """The grid position of ``setting``, each value taken to the nearest one on its axis."""
        return tuple(min(range(len(a)), key=lambda i: abs(a[i] - v)) for a, v in zip(self.axes, setting, strict=True))

    def _value(self, at: Setting) -> Setting:
        return tuple(a[i] for a, i in zip(self.axes, at, strict=True))

    @property
    def value(self) -> Setting:
        return self._value(self._at)

    @property
    def best(self) -> Setting | None:
        """The fastest setting measured so far (None before the first window)."""
        if not self._costs:
            return None
        return self._value(min(self._costs, key=self._costs.__getitem__))

    def rates(self) -> dict[Setting, float]:
        """Units per second of each setting measured (for the benchmarks and -vv)."""
        return {self._value(at): 1.0 / cost for at, cost in self._costs.items() if cost > 0}

    def _neighbours(self, at: Setting) -> list[Setting]:
        found = []
        for axis, size in enumerate(len(a) for a in self.axes):
            for step in (1, -1):  # the larger value first: more threads, bigger batches
                i = at[axis] + step
                if 0 <= i < size:
                    found.append((*at[:axis], i, *at[axis + 1 :]))
        return found

    def record(self, units: float, seconds: float) -> None:
        with self._lock:
            self._units += units
            self._seconds += seconds
            if self._units < self.min_units or self._seconds < self.min_seconds:
                return
            cost = self._seconds / self._units
            self._units = self._seconds = 0.0
            before = self._costs.get(self._at)
            self._costs[self._at] = cost if before is None else (1 - SMOOTHING) * before + SMOOTHING * cost
            self._at = self._next()

    def _cost(self, at: Setting) -> float:
        return self._costs.get(at, float("inf"))

    def _next(self) -> Setting:
        if self._home is not None:  # just looked at a neighbour: go back unless it is clearly faster
            home, self._home = self._home, None
            return self._at if self._cost(self._at) < self._cost(home) * (1 - MARGIN) else home
        unmeasured = [n for n in self._neighbours(self._at) if n not in self._costs]
        if unmeasured:  # still walking: try the next neighbour nobody measured yet
            self._home = self._at
            return unmeasured[0]
        faster = min(self._neighbours(self._at), key=self._cost, default=self._at)
        if self._cost(faster) < self._cost(self._at) * (1 - MARGIN):
            return faster
        self._settled += 1
        if self._settled >= REVISIT:  # now and then, look at a neighbour again: the load changes
            self._settled = 0
            around = self._neighbours(self._at)
            if around:
                self._home = self._at
                return around[next(self._turn) % len(around)]
        return self._at
