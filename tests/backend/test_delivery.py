"""How the delivery cuts submitted events into bulks: a few wait for the bulk in flight and go together, a backlog
gets a bulk of its own at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backend.delivery import INDEXED, Delivery, ItemStatus, Result
from backend.metrics import Metrics
from backend.spool import Spool


class HeldSink:
    """Keeps each bulk in flight until the test releases it; records every bulk's lines."""

    stored_as = INDEXED

    def __init__(self) -> None:
        self.bulks: list[list[str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = asyncio.Event()

    async def bulk(self, lines: list[str]) -> list[ItemStatus]:
        self.bulks.append(lines)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        return [ItemStatus("ok")] * len(lines)

    async def close(self) -> None:
        pass


def delivery(sink: HeldSink, tmp_path: Path) -> Delivery:
    return Delivery(
        sink, Spool(tmp_path / "spool", 1 << 20, 1 << 16), Metrics(), concurrency=2, parallel_min_events=100
    )


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_single_events_sent_while_a_bulk_is_in_flight_go_together_in_the_next(tmp_path: Path) -> None:
    async def scenario() -> list[list[Result]]:
        sink = HeldSink()
        d = delivery(sink, tmp_path)
        await d.start()
        first = asyncio.create_task(d.submit(["e0"]))
        await settle()
        later = [asyncio.create_task(d.submit([f"e{i}"])) for i in range(1, 11)]
        await settle()
        assert sink.bulks == [["e0"]], "ten single events must not start a second bulk beside the one in flight"
        sink.release.set()
        results = [await first, *[await t for t in later]]
        assert sink.bulks == [["e0"], [f"e{i}" for i in range(1, 11)]]
        assert sink.most_in_flight == 1
        await d.stop()
        return results

    results = asyncio.run(scenario())
    assert [r[0].status for r in results] == [INDEXED] * 11


def test_a_backlog_gets_a_second_bulk_while_the_first_is_in_flight(tmp_path: Path) -> None:
    async def scenario() -> None:
        sink = HeldSink()
        d = delivery(sink, tmp_path)
        await d.start()
        first = asyncio.create_task(d.submit(["a"]))
        await settle()
        batch = asyncio.create_task(d.submit([f"b{i}" for i in range(500)]))
        await settle()
        assert sink.in_flight == 2, "a batch of 500 must not wait for the bulk in flight"
        assert sink.bulks[1] == [f"b{i}" for i in range(500)]
        sink.release.set()
        assert [r.status for r in await batch] == [INDEXED] * 500
        assert (await first)[0].status == INDEXED
        await d.stop()

    asyncio.run(scenario())
