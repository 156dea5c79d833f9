"""Per-key rate limits of POST /logs (a key's limit is kept with it in logplatform.api_keys)."""

from __future__ import annotations

import math
import threading
import time

from logplatform.api_keys import ApiKey


class RateLimiter:
    """Token bucket per key, in events per second, with a burst of two seconds' worth."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: ApiKey, events: int) -> float:
        """Takes `events` tokens; returns 0 when allowed, else the seconds to wait before retrying."""
        rate = key.rate_limit_per_s
        if not rate:
            return 0.0
        burst = max(rate * 2, 1.0)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key.id, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if events <= tokens:
                self._buckets[key.id] = (tokens - events, now)
                return 0.0
            self._buckets[key.id] = (tokens, now)
            needed = min(events, burst) - tokens
            return max(math.ceil(needed / rate), 1)
