"""The backend's sink as a test double: documents kept in memory, switchable down, with scripted item answers."""

from __future__ import annotations

from backend.delivery import INDEXED, ItemStatus, SinkUnavailable


class MemorySink:
    """An in-memory stand-in for Elasticsearch in unit tests (backend.delivery.Sink)."""

    stored_as = INDEXED

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.down = False
        self.calls = 0
        self.scripted: list[list[ItemStatus]] = []  # answers for the next calls, then "ok"

    async def bulk(self, lines: list[str]) -> list[ItemStatus]:
        self.calls += 1
        if self.down:
            raise SinkUnavailable("memory sink is down")
        answer = self.scripted.pop(0) if self.scripted else [ItemStatus("ok")] * len(lines)
        for line, status in zip(lines, answer, strict=True):
            if status.kind == "ok":
                self.lines.append(line)
        return answer

    async def close(self) -> None:
        pass
