"""Document ids: what the engine spends on an event by the kind of id it gets, side by side in one run.

Every event carries an event.id, from which the pipeline derives the document id (a retry or a replay is then
indexed once). An explicit id costs the engine a lookup per event (is it there yet?), which the engine's own ids
skip; a random one reaches into every segment's terms at a random place. The same lines (bench/corpus.py: the
generator's, their own ids taken out, and the same events as five loggers write them, each corpus on an engine of
its own) go through our pipeline into one data stream, 4 clients x 500 events a `_bulk`, in alternating rounds,
with:

  engine-ids  no event.id: the engine names the document (no exactly-once: what the loggers' raw `_bulk` rows of
              bench/backend_ingest.py do)
  random      a version 4 UUID as event.id, hashed into the document id (every event.id before this change)
  ordered     a version 7 UUID (logplatform/event_ids.py), whose bytes are the document id, in time order

The stream is filled first (--fill-seconds of engine ids), since the lookup's cost grows with the index. Prints
events/s, the engine's CPU and its indexing time (the data stream's stats) per event, the ratios, and each
corpus's mean line size.

Usage: .venv/bin/python -m bench.document_ids [--rounds 6] [--seconds 8] [--fill-seconds 40]
Writes bench/results/document-ids-<date>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.backend_ingest import Traffic, cpu_seconds, drive
from bench.corpus import http_corpus, with_event_id
from bench.engine import installed_engine
from bench.record import record
from logplatform import names
from logplatform.cluster import Cluster
from logplatform.event_ids import new_event_id
from tests.support.search_engine import SearchEngine

STREAM = "logs-logplatform-ids"
CORPORA = ("generator", "loggers")
KINDS = ("engine-ids", "random", "ordered")
PER_BULK = 500
CLIENTS = 4


def without_ids(lines: list[str]) -> list[str]:
    """The corpus's lines with no event.id (the generator writes one into each), as the loggers' lines come; each
    written compactly (both corpora alike: what is measured is the id, not the spacing)."""
    out = []
    for line in lines:
        event = json.loads(line)
        if isinstance(event.get("event"), dict):
            event["event"].pop("id", None)
        out.append(json.dumps(event, separators=(",", ":")))
    return out


def of_kind(line: str, kind: str) -> str:
    """The line with an event.id of the kind (none for engine-ids)."""
    if kind == "engine-ids":
        return line
    return with_event_id(line, str(uuid.uuid4()) if kind == "random" else new_event_id())


def bulk(traffic: Traffic, kind: str) -> bytes:
    action = json.dumps({"create": {"_index": STREAM}})
    return "".join(
        f"{action}\n{json.dumps({'message': of_kind(traffic.line(), kind)})}\n" for _ in range(PER_BULK)
    ).encode()


def indexing_millis(cluster: Cluster) -> int:
    stats = cluster.ok("GET", f"/{STREAM}/_stats/indexing")
    return int(stats["_all"]["primaries"]["indexing"]["index_time_in_millis"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--fill-seconds", type=float, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lp-bench-ids-"))
    results = {}
    for corpus in CORPORA:  # each on an engine of its own: the second must not find the first's documents
        traffic = Traffic(without_ids(http_corpus(corpus, 20_000, work / corpus)))
        print(f"== {corpus}: mean line {traffic.mean_bytes} bytes", flush=True)
        with installed_engine(heap="2g") as engine:
            results[corpus] = {"mean_line_bytes": traffic.mean_bytes, **run(engine, traffic, args)}
    record("document_ids", "bench.document_ids", settings=vars(args), corpora=results)


def run(engine: SearchEngine, traffic: Traffic, args: argparse.Namespace) -> dict[str, Any]:
    assert engine.local is not None and engine.local.proc is not None
    url = f"{engine.local.url}/_bulk?pipeline={names.PIPELINE}"
    headers = {"Content-Type": "application/x-ndjson"}
    pid = {"engine": engine.local.proc.pid}
    rows: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    filled = asyncio.run(drive(url, lambda: bulk(traffic, "engine-ids"), headers, PER_BULK, args.fill_seconds, 4))
    print(f"filled: {filled['events']:,} events", flush=True)
    for round_ in range(args.rounds):
        for kind in KINDS if round_ % 2 == 0 else KINDS[::-1]:
            cpu, indexing = cpu_seconds(pid)["engine"], indexing_millis(engine.cluster)
            row = asyncio.run(
                drive(url, lambda kind=kind: bulk(traffic, kind), headers, PER_BULK, args.seconds, CLIENTS)
            )
            events = max(row["events"], 1)
            measured = {
                "events_per_s": row["events_per_s"],
                "engine_cpu_us_per_event": round((cpu_seconds(pid)["engine"] - cpu) * 1e6 / events, 1),
                "indexing_us_per_event": round((indexing_millis(engine.cluster) - indexing) * 1e3 / events, 1),
                "errors": row["errors"],
            }
            rows[kind].append(measured)
            print(f"round {round_ + 1}: {kind:10} {measured}", flush=True)
    stored = engine.cluster.ok("POST", f"/{STREAM}/_count", {"query": {"match_all": {}}})["count"]
    median = {kind: {k: statistics.median(r[k] for r in rows[kind]) for k in rows[kind][0]} for kind in KINDS}
    rate = {kind: median[kind]["events_per_s"] for kind in KINDS}
    ratios = {
        "ordered_vs_random_events_per_s": round(rate["ordered"] / rate["random"], 3),
        "ordered_vs_engine_ids_events_per_s": round(rate["ordered"] / rate["engine-ids"], 3),
        "random_vs_engine_ids_events_per_s": round(rate["random"] / rate["engine-ids"], 3),
    }
    for kind in KINDS:
        print(f"{kind:10} median {median[kind]}")
    print("ratios", json.dumps(ratios, indent=1), f"\nstored at the end: {stored:,} documents", flush=True)
    return {"rounds": rows, "median": median, "ratios": ratios, "stored_at_end": stored}


if __name__ == "__main__":
    main()
