"""Live feedback: a status line on a terminal, periodic ECS log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from generator.outputs import Stats

log = logging.getLogger("generator")


class Progress:
    def __init__(
        self,
        stats: Stats,
        targets: str,
        interval_s: float = 0.5,
        stream: TextIO | None = None,
        log_every_s: float = 30.0,
    ) -> None:
        self.stats = stats
        self.targets = targets
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = interval_s if self.tty else log_every_s
        self.started = time.monotonic()
        self._last = self.started
        self._last_count = 0
        self.generated = 0

    def update(self, generated: int, force: bool = False) -> None:
        self.generated = generated
        now = time.monotonic()
        if not force and now - self._last < self.interval_s:
            return
        rate = (generated - self._last_count) / max(now - self._last, 1e-9)
        self._last, self._last_count = now, generated
        s = self.stats
        text = (
            f"generated {generated:,}  rate {rate:,.0f}/s  written {s.written:,}  delivered {s.delivered:,}"
            f"  queued {s.queued:,}  failed {s.failed:,}  retries {s.retries:,}  -> {self.targets}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        else:
            log.info(text)

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        s = self.stats
        text = (
            f"done: {self.generated:,} events in {elapsed:.1f}s ({self.generated / max(elapsed, 1e-9):,.0f}/s); "
            f"written {s.written:,}, delivered {s.delivered:,} (queued {s.queued:,}), failed {s.failed:,}"
            + (f"; last error: {s.last_error}" if s.failed else "")
        )
        if self.tty:
            self.stream.write("\r\033[K" + text + "\n")
            self.stream.flush()
        log.info(text)
