"""The file path on real traffic: lines on a volume shipped end to end by the real Filebeat with our filebeat.yml,
beside a raw `_bulk` of the same lines (shaped as Filebeat sends them: the raw line in `message`, its file and
offset) through the same pipeline and the same compatibility proxy, 4 clients x 1,600 lines. The generator's lines
first, with Filebeat's output settings measured one at a time (workers, bulk size, compression, the memory queue);
then the same events as five popular loggers write them (bench/corpus.py), ours beside raw `_bulk`.

Usage: .venv/bin/python -m bench.file_path [--events 200000] [--ours-only]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.corpus import loggers_volume, mean_line_bytes
from bench.engine import installed_engine
from bench.queue_path import count, fresh, until
from bench.record import record
from logplatform import names
from tests.support.filebeat import Filebeat, generate, lines_on_volume
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc

# (label, -E settings): each one change from our filebeat.yml
VARIANTS: list[tuple[str, tuple[str, ...]]] = [
    ("ours (filebeat/filebeat.yml)", ()),
    ("worker: 1 (Filebeat's default)", ("-E", "output.elasticsearch.worker=1")),
    ("bulk_max_size: 3200", ("-E", "output.elasticsearch.bulk_max_size=3200")),
    ("compression_level: 0", ("-E", "output.elasticsearch.compression_level=0")),
    ("preset: throughput", ("-E", "output.elasticsearch.preset=throughput")),
    ("queue.mem.events: 12800", ("-E", "queue.mem.events=12800")),
]


def volume_lines(volume: Path) -> list[dict[str, object]]:
    """Every line Filebeat's paths cover, as the document Filebeat would send for it."""
    docs = []
    for path in sorted([*volume.glob("*.log*"), *volume.glob("services/*.log*")]):
        offset = 0
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                docs.append(filebeat_doc(raw.decode(), path, offset, agent={"type": "filebeat"}))
            offset += len(raw) + 1
    return docs


def raw_bulk(engine: SearchEngine, docs: list[dict[str, object]], clients: int = 4, size: int = 1600) -> float:
    """Seconds to index docs with `clients` concurrent _bulk requests of `size`, through the proxy."""
    action = json.dumps({"create": {"_index": names.DATA_STREAM}})
    bodies = ["".join(f"{action}\n{json.dumps(d)}\n" for d in docs[i : i + size]) for i in range(0, len(docs), size)]
    url = f"{engine.client_url}/_bulk?pipeline={names.PIPELINE}"

    def send(body: str) -> None:
        with httpx.Client(timeout=300) as http:
            r = http.post(url, content=body, headers={"Content-Type": "application/x-ndjson"})
            r.raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, bodies))
    until(len(docs), lambda: count(engine))  # searchable, as the Filebeat runs are timed
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--ours-only", action="store_true", help="only our filebeat.yml, none of the variants")
    args = parser.parse_args()
    variants = VARIANTS[:1] if args.ours_only else VARIANTS
    work = Path(tempfile.mkdtemp(prefix="bench-file-path-"))
    volume = work / "volume"
    generate(volume, "--count", str(args.events), "--seed", "9", "--max-file-bytes", str(2**40))
    lines = lines_on_volume(volume)
    docs = volume_lines(volume)
    mean_bytes = mean_line_bytes(volume)
    rows: list[tuple[str, float]] = []  # (Filebeat variant, seconds)
    raws: list[float] = []
    with installed_engine() as engine:
        raw_bulk(engine, docs)  # warm-up: the engine's first 200,000 events run well below its pace
        fresh(engine)
        raws.append(raw_bulk(engine, docs))
        fresh(engine)
        for i, (label, settings) in enumerate([*variants, (f"{VARIANTS[0][0]}, again", ())]):
            fb = Filebeat(engine, volume, work / f"filebeat-{i}", settings)
            fb.start()
            took = until(lines, lambda: count(engine))
            fb.stop()
            fresh(engine)
            rows.append((label, took))
            print(f"{label:40} {lines / took:8,.0f} events/s", flush=True)
        raws.append(raw_bulk(engine, docs))  # again at the end: how much the engine drifted meanwhile
        fresh(engine)
        loggers = loggers_volume(volume, work / "loggers-volume")
        logger_raw = raw_bulk(engine, volume_lines(loggers))
        fresh(engine)
        fb = Filebeat(engine, loggers, work / "filebeat-loggers")
        fb.start()
        logger_took = until(lines_on_volume(loggers), lambda: count(engine))
        fb.stop()
    raw_rate = lines / (sum(raws) / len(raws))
    print(f"{lines:,} lines, mean {mean_bytes:.0f} bytes; raw _bulk (4 x 1,600, proxy): {raw_rate:,.0f} events/s "
          f"(first {lines / raws[0]:,.0f}, last {lines / raws[1]:,.0f})")  # fmt: skip
    for label, took in rows:
        print(f"{label:40} {lines / took:8,.0f} events/s = {lines / took / raw_rate:.0%} of raw _bulk")
    logger_lines_n = lines_on_volume(loggers)
    logger_bytes = mean_line_bytes(loggers)
    print(f"loggers' shapes: {logger_lines_n:,} lines, mean {logger_bytes:.0f} bytes; raw _bulk "
          f"{logger_lines_n / logger_raw:,.0f} events/s, ours {logger_lines_n / logger_took:,.0f} events/s = "
          f"{logger_raw / logger_took:.0%} of raw _bulk")  # fmt: skip
    record(
        "file_path",
        "bench.file_path",
        lines=lines,
        mean_line_bytes=round(mean_bytes),
        raw_bulk_events_per_s=[round(lines / r) for r in raws],
        filebeat=[
            {
                "variant": label,
                "seconds": round(took, 1),
                "events_per_s": round(lines / took),
                "of_raw": round(lines / took / raw_rate, 3),
            }
            for label, took in rows
        ],
        loggers={
            "lines": logger_lines_n,
            "mean_line_bytes": round(logger_bytes),
            "raw_bulk_events_per_s": round(logger_lines_n / logger_raw),
            "ours_events_per_s": round(logger_lines_n / logger_took),
            "of_raw": round(logger_raw / logger_took, 3),
        },
    )


if __name__ == "__main__":
    main()
