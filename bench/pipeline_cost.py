"""Pipeline cost: ingest time through our pipeline against an empty pipeline, side by side in one run.

The same lines, shaped as Filebeat sends them, are bulk-created into data streams of our template on the
test engine: through `logs-logplatform` (a raw line becomes an ECS document), through a pipeline with no processor
(the raw line stored as it came), through a pipeline that only parses the JSON line (once under the engine's own
ids, once under the document ids our pipeline gives the same lines: an explicit id costs the engine a lookup per
event, the price of exactly-once, bench/document_ids.py), and, for reference, the documents our pipeline makes sent
ready-made with no pipeline. A first round warms the engine up (painless scripts
are compiled on first use) and is not counted; then the runs alternate, so that all see the same engine. It prints
the wall time of each, the ratios (the goals: ours at most 1.5x the empty pipeline's time; ours at least 65% of
the parse-only pipeline's events/s), and what each processor of ours costs an event, from the engine's own
per-processor ingest stats. Two corpora, one after the other on the same engine: the generator's lines, and the
same events as five popular loggers write them (bench/corpus.py); each prints its mean line size.

Usage: .venv/bin/python -m bench.pipeline_cost [--events 50000] [--rounds 3]
Writes bench/results/pipeline-cost-<date>.json and prints the numbers for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import LOGGERS, generator_files, logger_lines
from bench.engine import installed_engine
from bench.record import record
from logplatform import names
from logplatform.cluster import Cluster
from tests.support.shipper import FILEBEAT, filebeat_doc

CORPORA = ("generator", "loggers")
EMPTY = "logs-bench-empty"
PARSE_ONLY = "logs-bench-parse-only"


def lines(events: int, workdir: Path, corpus: str) -> list[tuple[Path, int, str]]:
    """(file, offset, line) for each line of the corpus ("generator", or the same events as five "loggers" write
    them), as Filebeat reads them."""
    out = []
    files = generator_files(workdir / corpus, events, seed=3)
    if corpus == "loggers":
        logger_lines(workdir / corpus, files)
        files = [workdir / corpus / "services" / f"{name}.log" for name in LOGGERS]
    for path in files:
        offset = 0
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                out.append((path, offset, raw.decode()))
            offset += len(raw) + 1
    return out


def shipped_docs(shipped: list[tuple[Path, int, str]]) -> list[tuple[str | None, dict[str, Any]]]:
    """(no id, document) as Filebeat sends each line: the raw line in message."""
    return [(None, filebeat_doc(line, path, offset, agent=FILEBEAT)) for path, offset, line in shipped]


def ready_made(
    cluster: Cluster, docs: list[tuple[str | None, dict[str, Any]]]
) -> list[tuple[str | None, dict[str, Any]]]:
    """(id, document) as our pipeline makes them (through _simulate), to index with no pipeline at all."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    for i in range(0, len(docs), 1000):
        body = {"docs": [{"_index": names.DATA_STREAM, "_source": doc} for _, doc in docs[i : i + 1000]]}
        for item in cluster.ok("POST", f"/_ingest/pipeline/{names.PIPELINE}/_simulate", body)["docs"]:
            out.append((item["doc"]["_id"], item["doc"]["_source"]))
    return out


def bulk_bodies(docs: list[tuple[str | None, dict[str, Any]]], stream: str, per_request: int = 1000) -> list[str]:
    lines = []
    for doc_id, doc in docs:
        action = {"create": {"_index": stream, **({"_id": doc_id} if doc_id else {})}}
        lines.append(f"{json.dumps(action)}\n{json.dumps(doc)}\n")
    return ["".join(lines[i : i + per_request]) for i in range(0, len(lines), per_request)]


def ingest(cluster: Cluster, bodies: list[str], pipeline: str) -> float:
    """Seconds to bulk-create every body through `pipeline`; every item must be created."""
    started = time.perf_counter()
    for body in bodies:
        answer = cluster.ok("POST", f"/_bulk?pipeline={pipeline}", body)
        if answer.get("errors"):
            failed = next(i for i in answer["items"] if i["create"].get("error"))
            raise RuntimeError(f"{pipeline}: {json.dumps(failed)[:500]}")
    return time.perf_counter() - started


# (variant, the pipeline the bulk names, what it measures)
VARIANTS = [
    ("ours", names.PIPELINE, "raw lines through logs-logplatform: parsing, normalizing, indexing"),
    ("empty", EMPTY, "raw lines through a pipeline with no processor: the line stored as it came"),
    ("parse-only", PARSE_ONLY, "raw lines through a pipeline that only parses the JSON line"),
    (
        "parse-only-ids",
        PARSE_ONLY,
        "the same, each line under the document id our pipeline gives it: what exactly-once costs the engine",
    ),
    ("ready-made", "_none", "the documents our pipeline makes, sent ready-made: the same indexing, no pipeline"),
]


def processor_millis(cluster: Cluster) -> dict[str, int]:
    """Milliseconds each processor of the event pipeline has spent so far, by type and tag (the engine's stats)."""
    stats = cluster.ok("GET", "/_nodes/stats/ingest")
    node = next(iter(stats["nodes"].values()))
    pipeline = node["ingest"]["pipelines"].get(names.EVENT_PIPELINE, {})
    out = {}
    for processor in pipeline.get("processors", []):
        for name, spec in processor.items():
            out[name] = spec["stats"]["time_in_millis"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="logplatform-bench-pipeline-"))
    try:
        with installed_engine() as engine:
            results = {corpus: run(engine.cluster, workdir, args.events, args.rounds, corpus) for corpus in CORPORA}
        record(
            "pipeline_cost",
            "bench.pipeline_cost",
            engine="OpenSearch 3.8.0 (test engine, one node, 1 GB heap)",
            rounds=args.rounds,
            corpora=results,
        )
    finally:
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def run(cluster: Cluster, workdir: Path, events: int, rounds: int, corpus: str) -> dict[str, Any]:
    cluster.ok("PUT", f"/_ingest/pipeline/{EMPTY}", {"description": "no processor", "processors": []})
    parse = {"json": {"field": "message", "target_field": "event_json"}}
    cluster.ok("PUT", f"/_ingest/pipeline/{PARSE_ONLY}", {"description": "JSON only", "processors": [parse]})
    shipped = lines(events, workdir, corpus)
    mean_bytes = round(sum(len(line.encode()) for _, _, line in shipped) / len(shipped))
    print(f"== {corpus}: {len(shipped):,} lines, mean {mean_bytes} bytes", flush=True)
    raw = shipped_docs(shipped)
    made = ready_made(cluster, raw)
    with_ids = [(doc_id, doc) for (doc_id, _), (_, doc) in zip(made, raw, strict=True)]
    docs = {"ours": raw, "empty": raw, "parse-only": raw, "parse-only-ids": with_ids, "ready-made": made}
    times: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    for name, pipeline, _ in VARIANTS:  # warm-up, not counted (painless compiles on first use)
        warm = f"logs-logplatform-benchwarm{name.replace('-', '')}"
        ingest(cluster, bulk_bodies(docs[name][:5000], warm), pipeline)
        cluster.request("DELETE", f"/_data_stream/{warm}")
    before = processor_millis(cluster)
    for round_ in range(rounds):
        order = VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]  # alternate, so that all see the same engine
        for name, pipeline, _ in order:
            stream = f"logs-logplatform-bench{name.replace('-', '')}{round_}"
            times[name].append(ingest(cluster, bulk_bodies(docs[name], stream), pipeline))
            cluster.request("DELETE", f"/_data_stream/{stream}")
            print(f"round {round_ + 1}: {name:10} {times[name][-1]:6.1f}s", flush=True)
    counted = len(raw) * rounds
    per_processor = {
        name: round((millis - before.get(name, 0)) * 1000 / counted, 1)
        for name, millis in processor_millis(cluster).items()
    }
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, _, what in VARIANTS:
        print(f"{name:10} {median[name]:6.1f}s {len(raw) / median[name]:9,.0f}/s  {what}")
    for name, micros in per_processor.items():
        print(f"  {name:60} {micros:5.1f} us an event")
    print(
        f"ours / empty: {median['ours'] / median['empty']:.2f}x the time; "
        f"ours / parse-only: {median['parse-only'] / median['ours']:.0%} of the events/s; "
        f"ours / parse-only with our ids: {median['parse-only-ids'] / median['ours']:.0%}; "
        f"ours / ready-made: {median['ours'] / median['ready-made']:.2f}x the time"
    )
    return {
        "events": len(raw),
        "mean_line_bytes": mean_bytes,
        "seconds": times,
        "events_per_s": {name: round(len(raw) / m) for name, m in median.items()},
        "ours_vs_empty": round(median["ours"] / median["empty"], 2),
        "ours_share_of_parse_only_rate": round(median["parse-only"] / median["ours"], 2),
        "ours_share_of_parse_only_with_ids_rate": round(median["parse-only-ids"] / median["ours"], 2),
        "microseconds_an_event_by_processor": per_processor,
        "ours_vs_ready_made": round(median["ours"] / median["ready-made"], 2),
    }


if __name__ == "__main__":
    main()
