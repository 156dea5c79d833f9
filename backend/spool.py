"""The durable spool: ECS JSON lines on the shared log volume that Filebeat ships when it can.

Events the backend cannot index right away (Elasticsearch down, slow or refusing) are appended here
and fsynced before the client is told they are queued. The lines are exactly those the backend
sends to the pipeline, with their event.id, so an event that reaches the index both ways is
indexed once. Files rotate by rename (Filebeat follows renamed files; never copy-truncate).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


class SpoolFull(Exception):
    """The spool may not grow (size cap reached or the disk refused the write)."""


class Spool:
    NAME = "backend-spool.ndjson"

    def __init__(self, directory: Path, max_total_bytes: int, max_file_bytes: int) -> None:
        self.directory = directory
        self.max_total_bytes = max_total_bytes
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / self.NAME

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob(self.NAME + "*"))

    def size(self) -> int:
        total = 0
        for p in self._files():
            with contextlib.suppress(FileNotFoundError):
                total += p.stat().st_size
        return total

    def append(self, lines: list[str]) -> None:
        """Appends lines and fsyncs them; raises SpoolFull when they cannot be made durable."""
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with self._lock:
            if self.size() + len(data) > self.max_total_bytes:
                raise SpoolFull(f"spool is at its limit of {self.max_total_bytes} bytes")
            self._rotate_if_needed(len(data))
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise SpoolFull(f"spool write failed: {exc.strerror or exc}") from exc

    def _rotate_if_needed(self, incoming: int) -> None:
        try:
            current = self.path.stat().st_size
        except FileNotFoundError:
            return
        if current == 0 or current + incoming <= self.max_file_bytes:
            return
        # backend-spool.ndjson -> backend-spool.ndjson.<n>, n increasing: names never collide or shift
        numbers = [int(p.suffix[1:]) for p in self._files() if p.suffix[1:].isdigit()]
        os.rename(self.path, self.path.with_name(f"{self.NAME}.{max(numbers, default=0) + 1}"))
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
