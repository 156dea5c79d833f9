"""The queue's cost and what it buys: the same lines shipped end to end straight to the engine and through Kafka
(our filebeat.yml's Kafka output, the indexer's Kafka input, a real broker), side by side in one run, on both
corpora (the generator's lines, and the same events as five popular loggers write them: bench/corpus.py); then a
backlog of generator lines built in Kafka while nothing indexes (Elasticsearch down) and the time the indexer takes
to drain it.

Usage: .venv/bin/python -m bench.queue_path [--events 200000] [--backlog 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import loggers_volume, mean_line_bytes
from bench.engine import documents, installed_engine
from bench.record import record
from logplatform import names, queue
from tests.kafka.broker import TestBroker
from tests.support.filebeat import Filebeat, generate, lines_on_volume
from tests.support.queue import indexer, shipper
from tests.support.search_engine import SearchEngine


def count(engine: SearchEngine) -> int:
    return documents(engine.cluster, names.DATA_STREAM)


def until(check: int, measure: Callable[[], int], timeout: float = 3600) -> float:
    """Seconds until measure() reaches check."""
    started = time.monotonic()
    while measure() < check:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"not within {timeout:.0f}s")
        time.sleep(0.5)
    return time.monotonic() - started


def fresh(engine: SearchEngine) -> None:
    engine.cluster.request("DELETE", f"/_data_stream/{names.DATA_STREAM}")


def direct_and_queued(engine: SearchEngine, broker: TestBroker, volume: Path, work: Path) -> dict[str, float]:
    """Events a second for a volume's lines: Filebeat straight to the engine, then through Kafka."""
    lines = lines_on_volume(volume)
    direct = Filebeat(engine, volume, work / "direct")
    direct.start()
    direct_s = until(lines, lambda: count(engine))
    direct.stop()
    fresh(engine)
    ship, index = shipper(engine, broker, volume, work / "ship"), indexer(engine, broker, work / "index")
    ship.start()
    index.start()
    queue_s = until(lines, lambda: count(engine))
    ship.stop()
    index.stop()
    fresh(engine)
    return {"lines": lines, "mean_line_bytes": round(mean_line_bytes(volume)),
            "direct_events_per_s": round(lines / direct_s), "queue_events_per_s": round(lines / queue_s),
            "queue_vs_direct": round(direct_s / queue_s, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--backlog", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    volume, backlog_volume = work / "volume", work / "backlog-volume"
    generate(volume, "--count", str(args.events), "--seed", "7", "--max-file-bytes", str(2**40))
    volumes = {"generator": volume, "loggers": loggers_volume(volume, work / "loggers-volume")}
    corpora: dict[str, dict[str, float]] = {}
    with installed_engine() as engine:
        broker = TestBroker(work / "broker", heap="1g")
        broker.start()
        try:
            queue.ensure_topic(broker.bootstrap)
            for name, corpus in volumes.items():
                corpora[name] = direct_and_queued(engine, broker, corpus, work / name)
                row = corpora[name]
                print(f"{name:9} {row['lines']:,} lines, mean {row['mean_line_bytes']} bytes: direct (Filebeat -> "
                      f"engine) {row['direct_events_per_s']:,} events/s, through Kafka (Filebeat -> Kafka -> "
                      f"indexer -> engine) {row['queue_events_per_s']:,} events/s = {row['queue_vs_direct']:.2f}x "
                      "direct", flush=True)  # fmt: skip

            # Elasticsearch down: nothing indexes, the shipper fills the topic; then the indexer drains it
            generate(backlog_volume, "--count", str(args.backlog), "--seed", "8", "--max-file-bytes", str(2**40))
            backlog = lines_on_volume(backlog_volume)
            ship = shipper(engine, broker, backlog_volume, work / "ship-backlog")
            ship.start()
            fill_s = until(backlog, lambda: queue.status(broker.bootstrap, timeout_s=60).lag)
            ship.stop()
            # the blocks the topic's partitions take (Kafka preallocates sparse index files: their size says little)
            partitions = (work / "broker" / "data").glob(f"{names.QUEUE_TOPIC}-*")
            on_disk = sum(f.stat().st_blocks * 512 for d in partitions for f in d.rglob("*") if f.is_file())
            index = indexer(engine, broker, work / "index-backlog")  # a new group member: reads from its offsets
            index.start()
            drain_s = until(backlog, lambda: count(engine))
            index.stop()
        finally:
            broker.cleanup()
    shipped = sum(row["lines"] for row in corpora.values())
    print(f"backlog of {backlog:,} generator lines into Kafka while nothing indexed: {fill_s:.1f} s "
          f"({backlog / fill_s:,.0f} events/s)")  # fmt: skip
    per_event = on_disk / (backlog + shipped)
    print(f"Kafka's disk after the backlog: {on_disk / 2**20:,.0f} MiB, {per_event:.0f} bytes an event")
    print(f"drained by one indexer in {drain_s:.1f} s ({backlog / drain_s:,.0f} events/s)")
    record(
        "queue_path",
        "bench.queue_path",
        corpora=corpora,
        backlog=backlog,
        fill_s=round(fill_s, 1),
        drain_s=round(drain_s, 1),
        drain_events_per_s=round(backlog / drain_s),
        kafka_bytes_per_event=round(per_event),
    )


if __name__ == "__main__":
    main()
