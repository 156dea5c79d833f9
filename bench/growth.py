"""How each cost grows, measured side by side in one run on the same engine:

  ingest against batch size: NDJSON batches of 1 to 1,000 generator events, ours beside a raw _bulk of the same
      lines through the same proxy and pipeline (4 clients each);
  ingest against event size: 100-event batches of events from 123 bytes (the toy) to 16 KB (the generator's events
      with a long detail field), ours beside raw _bulk;
  GET /logs latency against stored events: p50/p99 of the backend's search with and without filters, at 100k and
      at 1M events in the data stream;
  spool replay: the backend takes 100k events while Elasticsearch is unreachable (they wait on disk, 202), then the
      real Filebeat with our filebeat.yml ships the spool: the time until every one is searchable, and the rate.

The backend's peak memory (RSS) is sampled through every part; at the highest load it is in bench/backend_ingest.py.
Usage: .venv/bin/python -m bench.growth [--seconds 6] [--stored 1000000] [--spooled 100000] [--parts batch,size,...]
Writes bench/results/growth-<date>.json; `python -m bench.charts` draws it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.backend_ingest import PeakRss, Traffic, drive
from bench.corpus import http_corpus
from bench.queue_path import until
from bench.record import record
from bench.stack import BenchStack
from logplatform import names
from tests.support.filebeat import Filebeat
from tests.support.unreachable import unreachable_url

BATCH_SIZES = (1, 10, 50, 100, 500, 1000)
DETAIL_BYTES = (0, 1500, 3500, 7500, 15500)  # added to the generator's ~505-byte events
SIZE_BATCH = 100
ALL_PARTS = {"batch", "size", "reads", "spool"}
DATA_STREAM = "logs-logplatform-growth"
WORDS = [
    *("request", "retry", "upstream", "cache", "miss", "timeout", "connection"),
    *("pool", "order", "payment", "user", "session", "token"),
]


def padded(lines: list[str], extra: int) -> list[str]:
    """The events with a `meta.detail` of about `extra` bytes of words (text, as a long message or stack trace is;
    not one repeated character, which compresses away)."""
    if not extra:
        return lines
    rng = random.Random(extra)
    out = []
    for line in lines[:2000]:
        event = json.loads(line)
        words: list[str] = []
        length = 0
        while length < extra:
            words.append(rng.choice(WORDS))
            length += len(words[-1]) + 1
        event.setdefault("meta", {})["detail"] = " ".join(words)
        out.append(json.dumps(event, separators=(",", ":")))
    return out


def ingest_pair(stack: BenchStack, backend: str, traffic: Traffic, batch: int, seconds: float) -> dict[str, Any]:
    headers = {"Content-Type": "application/x-ndjson"}
    ours = asyncio.run(
        drive(
            f"{backend}/logs/ndjson",
            lambda: traffic.ndjson(batch),
            {**headers, "X-API-Key": stack.key},
            batch,
            seconds,
            4,
        )
    )
    raw = asyncio.run(
        drive(
            f"{stack.proxy_url}/_bulk?pipeline={names.PIPELINE}",
            lambda: traffic.bulk(batch, DATA_STREAM),
            headers,
            batch,
            seconds,
            4,
        )
    )
    return {"ours": ours, "raw_bulk_via_proxy": raw, "of_raw": round(ours["events_per_s"] / raw["events_per_s"], 3)}


def load(stack: BenchStack, traffic: Traffic, events: int) -> None:
    """`events` more events into the data stream by raw _bulk through the pipeline (the fastest way in)."""
    done = 0
    with httpx.Client(timeout=300) as http:
        while done < events:
            n = min(5000, events - done)
            r = http.post(
                f"{stack.engine.url}/_bulk?pipeline={names.PIPELINE}",
                content=traffic.bulk(n, DATA_STREAM),
                headers={"Content-Type": "application/x-ndjson"},
            )
            r.raise_for_status()
            done += n


def read_latency(stack: BenchStack, backend: str, rounds: int = 40) -> dict[str, Any]:
    """p50/p99 of GET /logs (50 events a page) for each kind of search, `rounds` times each, one at a time."""
    stack.cluster.request("POST", f"/{DATA_STREAM}/_refresh")
    span = stack.cluster.ok(
        "POST",
        f"/{DATA_STREAM}/_search",
        {"size": 0, "aggs": {"last": {"max": {"field": "@timestamp"}}, "first": {"min": {"field": "@timestamp"}}}},
    )["aggregations"]
    first, last = span["first"]["value"], span["last"]["value"]
    tenth = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((last - (last - first) / 10) / 1000))
    searches = {
        "newest 50, no filter": {},
        "one service": {"service": "payment-service"},
        "level error": {"level": "error"},
        "words in the message": {"q": "timeout"},
        "KQL: service and status >= 500": {"kql": 'service.name : "api-gateway" and http.response.status_code >= 500'},
        "the last tenth of the time range": {"since": tenth},
    }
    out = {}
    with httpx.Client(timeout=60, headers={"X-API-Key": stack.key}) as http:
        for label, params in searches.items():
            timings = []
            for i in range(rounds + 3):
                t0 = time.perf_counter()
                r = http.get(f"{backend}/logs", params={**params, "size": 50})
                r.raise_for_status()
                if i >= 3:  # the first answers warm the engine's caches
                    timings.append(time.perf_counter() - t0)
            timings.sort()
            out[label] = {
                "p50_ms": round(statistics.median(timings) * 1000, 1),
                "p99_ms": round(timings[int(len(timings) * 0.99)] * 1000, 1),
                "total_hits": r.json().get("total"),
            }
            print(f"    {label:36} {out[label]}", flush=True)
    return out


def spool_replay(stack: BenchStack, traffic: Traffic, events: int) -> dict[str, Any]:
    volume = stack.work / "spool-volume"
    url, proc = stack.backend(volume, elasticsearch_url=unreachable_url())
    batch = 500
    started = time.monotonic()
    with httpx.Client(timeout=120, headers={"X-API-Key": stack.key, "Content-Type": "application/x-ndjson"}) as http:
        for _ in range(events // batch):
            r = http.post(f"{url}/logs/ndjson", content=traffic.ndjson(batch))
            assert r.status_code == 202 and r.json()["queued"] == batch, r.text[:300]
    spooled_s = time.monotonic() - started
    proc.terminate()
    proc.wait(timeout=60)
    spool_bytes = sum(p.stat().st_size for p in (volume / "spool").glob("*"))
    filebeat = Filebeat(stack.search_engine(), volume, stack.work / "filebeat")
    query = {"prefix": {"log.file.path": str(volume / "spool")}}
    filebeat.start()
    try:
        took = until(events, lambda: stack.count(names.DATA_STREAM, query))
    finally:
        filebeat.stop()
    return {
        "events": events,
        "spooled_in_s": round(spooled_s, 1),
        "spooled_events_per_s": round(events / spooled_s),
        "spool_mb": round(spool_bytes / 2**20, 1),
        "replayed_in_s": round(took, 1),
        "replayed_events_per_s": round(events / took),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--spooled", type=int, default=100_000)
    parser.add_argument("--parts", default=",".join(ALL_PARTS), help="which parts to run, comma-separated")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    work = Path(tempfile.mkdtemp(prefix="lp-bench-growth-"))
    corpora = {name: http_corpus(name, 20_000, work) for name in ("toy", "loggers", "generator")}
    generator = Traffic(corpora["generator"])
    stack = BenchStack(work, DATA_STREAM).start()
    rss: PeakRss | None = None
    results: dict[str, Any] = {}
    try:
        backend, backend_proc = stack.backend(work / "volume")
        rss = PeakRss({"backend": backend_proc.pid})
        load(stack, generator, 50_000)  # warm-up: the engine's first events run well below its pace
        print("== ingest against batch size (generator events, NDJSON, 4 clients)", flush=True)
        results["batch_size"] = {}
        for batch in BATCH_SIZES if "batch" in parts else ():
            rss.take()
            row = ingest_pair(stack, backend, generator, batch, args.seconds)
            row["backend_peak_rss_mb"] = rss.take()["backend"]
            results["batch_size"][str(batch)] = row
            print(f"  {batch:5} {row}", flush=True)
        print(f"== ingest against event size (batches of {SIZE_BATCH})", flush=True)
        sized = [Traffic(corpora["toy"]), Traffic(corpora["loggers"])]
        sized += [Traffic(padded(corpora["generator"], extra)) for extra in DETAIL_BYTES]
        sized = sized if "size" in parts else []
        results["event_size"] = {}
        for traffic in sized:
            rss.take()
            row = ingest_pair(stack, backend, traffic, SIZE_BATCH, args.seconds)
            row["backend_peak_rss_mb"] = rss.take()["backend"]
            row["mb_per_s"] = round(row["ours"]["events_per_s"] * traffic.mean_bytes / 2**20, 2)
            results["event_size"][str(traffic.mean_bytes)] = row
            print(f"  {traffic.mean_bytes:6} B {row}", flush=True)
        print("== GET /logs against stored events", flush=True)
        results["read_latency"] = {}
        # the ingest rows above left about a million events: start from none
        stack.cluster.request("DELETE", f"/_data_stream/{DATA_STREAM}")
        stored = 0
        for target in sorted({100_000, args.stored}) if "reads" in parts else ():
            load(stack, generator, max(0, target - stored))
            stored = stack.count(DATA_STREAM)
            print(f"  {stored:,} stored", flush=True)
            results["read_latency"][str(target)] = {"stored": stored, "searches": read_latency(stack, backend)}
        if "spool" in parts:
            print(f"== spool replay ({args.spooled:,} events)", flush=True)
            results["spool_replay"] = spool_replay(stack, generator, args.spooled)
            print(f"  {results['spool_replay']}", flush=True)
    finally:
        if rss is not None:
            rss.stop()
        stack.stop()
    # a run of some parts is kept beside the full run, not over it (growth-reads-<date>.json and the like)
    name = "growth" if parts >= ALL_PARTS else "_".join(["growth", *sorted(parts)])
    record(name, "bench.growth", settings=vars(args), results=results)


if __name__ == "__main__":
    main()
