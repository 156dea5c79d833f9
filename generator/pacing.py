"""Paces events at a target rate: from one every few seconds to tens of thousands per second.

Each tick emits exactly the events that are due by the clock (so long runs do not drift) and then sleeps
until the next one is due; at high rates that is a small burst per tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        rate: float,
        rate_factor: Callable[[float], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """rate: events per second (0 = as fast as possible); rate_factor(elapsed_s) scales it (daily rhythm)."""
        self.rate = rate
        self.rate_factor = rate_factor
        self.clock = clock
        self.sleep = sleep
        self.start = clock()
        self.due = 1.0  # events due so far (fractional); the first one at once
        self.emitted = 0
        self._last = self.start

    def elapsed(self) -> float:
        return self.clock() - self.start

    def next_batch(self, max_batch: int = 1000) -> int:
        """Blocks until at least one event is due; returns how many to emit now."""
        if self.rate <= 0:
            return max_batch
        while True:
            now = self.clock()
            factor = self.rate_factor(now - self.start) if self.rate_factor else 1.0
            self.due += (now - self._last) * self.rate * factor
            self._last = now
            ready = int(self.due) - self.emitted
            if ready > 0:
                n = min(ready, max_batch)
                self.emitted += n
                return n
            wait = (self.emitted + 1 - self.due) / (self.rate * factor)
            self.sleep(min(max(wait, 0.0002), 0.5))
