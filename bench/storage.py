"""Storage benchmark: bytes on disk per event, and what each lever saves, measured side by side in one run.

Lines are shipped as they are in production: the real Filebeat (tests/filebeat/bin) reads them from a volume
and sends them through our pipeline into our data stream on the test engine. Two corpora: the generator's
traffic, and the same events as five popular JSON loggers write them (pino, structlog, logstash-logback-encoder,
zap, python-json-logger). Filebeat ships with every raw line kept; each lever is then applied to a copy made by
`_reindex` (the documents the pipeline made, without running it again) into a stream whose template has the
lever, so that every row stores the same events. A row's size is the primary store after a force-merge to one
segment, read once the merged-away files are gone (the store counts both until then).

Usage: .venv/bin/python -m bench.storage [--events 100000]
Writes bench/results/storage-<date>.json and prints the table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import generator_files, logger_lines
from bench.engine import installed_engine
from bench.record import record
from logplatform import assets, names
from logplatform.cluster import Cluster
from tests.support.filebeat import Filebeat
from tests.support.search_engine import SearchEngine

BENCH_TEMPLATE = "logs-logplatform-bench"


# --- the store ---------------------------------------------------------------------------------------------


def store_bytes(cluster: Cluster, stream: str) -> tuple[int, int]:
    """(primary store bytes, documents) after a force-merge to one segment per shard, read once the store holds
    nothing but that segment: the merged-away files linger for seconds, and the store counts them until then."""
    cluster.ok("POST", f"/{stream}/_refresh")
    cluster.ok("POST", f"/{stream}/_forcemerge?max_num_segments=1&flush=true")
    for _ in range(300):
        stats = cluster.ok("GET", f"/{stream}/_stats/store,docs")["_all"]["primaries"]
        shards = [
            copy
            for index in cluster.ok("GET", f"/{stream}/_segments")["indices"].values()
            for copies in index["shards"].values()
            for copy in copies
            if copy["routing"]["primary"]
        ]
        segments = [seg for copy in shards for seg in copy["segments"].values()]
        in_segments = sum(seg["size_in_bytes"] for seg in segments)
        store = stats["store"]["size_in_bytes"]
        if len(segments) == len(shards) and store - in_segments < 64 * 1024:
            return store, stats["docs"]["count"]
        time.sleep(1)
    raise RuntimeError(f"{stream}: the store did not settle to one segment per shard")


def ship_with_filebeat(engine: SearchEngine, volume: Path, home: Path, expected: int) -> None:
    engine.cluster.request("DELETE", f"/_data_stream/{names.DATA_STREAM}")
    filebeat = Filebeat(engine, volume, home)
    filebeat.start()
    try:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            status, body = engine.cluster.request("GET", f"/{names.DATA_STREAM}/_count")
            if status == 200 and body["count"] >= expected:
                return
            time.sleep(2)
        raise RuntimeError(f"Filebeat shipped {body} of {expected} lines")
    finally:
        filebeat.stop()


# Filebeat ships with every raw line kept (LOG_KEEP_ORIGINAL=true); each other row is a copy of that stream made
# by _reindex into a stream whose template has the lever, with a script for what the pipeline would have written
# differently. "Before" rows put back what main had before the storage work, to show what each change saved.
DROP_ORIGINAL_OF_PARSED_LINES = (
    "if (ctx._source.error == null && ctx._source.event != null) { ctx._source.event.remove('original'); }"
)
# main's earlier _id: 40 hex characters of a SHA-256 (the same randomness, twice the characters)
HEX_ID = "ctx._id = ctx._id.sha256().substring(0, 40);"
ID_FIELDS_WITH_DOC_VALUES = {
    "mappings": {
        "properties": {
            name: {"properties": {"id": {"type": "keyword", "ignore_above": 1024}}}
            for name in ("event", "trace", "span", "transaction")
        }
    }
}

OFFSET_INDEXED = {"log": {"properties": {"offset": {"type": "long", "ignore_malformed": True}}}}
# event.ingested as the pipeline wrote it before: nanosecond digits (pseudo-random here, from the document's id)
NANOS = (
    "String t = ctx._source.event.ingested; int h = ctx._id.hashCode() % 1000000; if (h < 0) { h = -h; } "
    "ctx._source.event.ingested = t.substring(0, t.length() - 1) + Integer.toString(1000000 + h).substring(1) "
    "+ 'Z';"
)

LEVERS: list[tuple[str, str, dict[str, Any], str]] = [
    # (row, what it is, template changes, reindex script); the first row is the shipped stream itself
    ("LOG_KEEP_ORIGINAL=true", "every raw line also kept in event.original", {}, ""),
    (
        "as shipped (the defaults)",
        "event.original only for lines that did not parse, 20-character _id, id fields "
        "without doc values, log.offset not indexed, sorted on service.name, event.action, @timestamp",
        {},
        DROP_ORIGINAL_OF_PARSED_LINES,
    ),
    ("defaults, _id as 40 hex characters", "main's earlier _id", {}, DROP_ORIGINAL_OF_PARSED_LINES + HEX_ID),
    (
        "defaults, id fields with doc values",
        "event.id, trace.id, span.id, transaction.id sortable and aggregatable",
        ID_FIELDS_WITH_DOC_VALUES,
        DROP_ORIGINAL_OF_PARSED_LINES,
    ),
    (
        "defaults, log.offset indexed",
        "range queries on log.offset",
        {"mappings": {"properties": OFFSET_INDEXED}},
        DROP_ORIGINAL_OF_PARSED_LINES,
    ),
    ("defaults, not sorted", "documents in arrival order", {"unsorted": True}, DROP_ORIGINAL_OF_PARSED_LINES),
    (
        "defaults, sorted as logsdb does",
        "host.name, then @timestamp (Elasticsearch's logsdb default)",
        {"settings": {"index": {"sort": {"field": ["host.name", "@timestamp"], "order": ["asc", "desc"]}}}},
        DROP_ORIGINAL_OF_PARSED_LINES,
    ),
    (
        "main before this work",
        "every raw line kept, 40-hex _id, id fields with doc values, log.offset indexed, "
        "not sorted, event.ingested with nanoseconds",
        {
            "unsorted": True,
            "mappings": {"properties": {**ID_FIELDS_WITH_DOC_VALUES["mappings"]["properties"], **OFFSET_INDEXED}},
        },
        HEX_ID + NANOS,
    ),
    (
        "reference: engine-made _id (no dedup)",
        "what a derived _id costs: a re-sent line would be stored twice",
        {},
        DROP_ORIGINAL_OF_PARSED_LINES + "ctx._id = null;",
    ),
    (
        "reference: _source only, nothing indexed",
        "the documents alone: no search, no dashboard",
        {"source_only": True},
        DROP_ORIGINAL_OF_PARSED_LINES,
    ),
]


def copy_with_lever(cluster: Cluster, index: int, template: dict[str, Any], script: str) -> str:
    stream = f"{BENCH_TEMPLATE}{index}-default"
    cluster.request("DELETE", f"/_data_stream/{stream}")
    base = cluster.ok("GET", f"/_index_template/{names.INDEX_TEMPLATE}")["index_templates"][0]["index_template"]
    body = json.loads(json.dumps(base))
    body["index_patterns"] = [f"{BENCH_TEMPLATE}{index}-*"]
    body["priority"] = base.get("priority", 200) + 10
    own = body.setdefault("template", {})
    if template.get("source_only"):
        own["mappings"] = {"dynamic": False, "properties": {"@timestamp": {"type": "date"}}}
        body["composed_of"] = [c for c in body.get("composed_of", []) if c != names.MAPPINGS_COMPONENT]
    if "mappings" in template:  # the index template's own mappings win over its components'
        own.setdefault("mappings", {}).setdefault("properties", {}).update(template["mappings"]["properties"])
    if template.get("unsorted") or template.get("source_only") or "settings" in template:
        # our settings inline, without their sort (which needs mapped fields)
        settings = assets.load_json(f"component-templates/{names.SETTINGS_COMPONENT}.json")["template"]["settings"]
        settings["index"].pop("sort")
        settings["index"].update((template.get("settings") or {}).get("index", {}))
        own["settings"] = settings
        body["composed_of"] = [c for c in body.get("composed_of", []) if c != names.SETTINGS_COMPONENT]
    own.setdefault("settings", {}).setdefault("index", {})["default_pipeline"] = "_none"
    cluster.ok("PUT", f"/_index_template/{BENCH_TEMPLATE}{index}", body)
    request: dict[str, Any] = {
        "source": {"index": names.DATA_STREAM, "size": 2000},
        "dest": {"index": stream, "op_type": "create"},
    }
    if script:
        request["script"] = {"lang": "painless", "source": script}
    status, result = cluster.request("POST", "/_reindex?refresh=true&wait_for_completion=true", request)
    if status != 200 or result.get("failures"):
        raise RuntimeError(f"reindex into {stream} answered {status}: {str(result.get('failures', result))[:1000]}")
    return stream


def measure(engine: SearchEngine, corpus: str, files: list[Path], workdir: Path) -> list[dict[str, Any]]:
    raw = sum(p.stat().st_size for p in files)
    lines = sum(len(p.read_bytes().splitlines()) for p in files)
    gz = sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)
    started = time.monotonic()
    ship_with_filebeat(engine, workdir / "volume", workdir / f"filebeat-{corpus}", lines)
    print(
        f"{corpus}: {lines:,} lines ({raw / lines:.0f} bytes each) shipped by Filebeat in "
        f"{time.monotonic() - started:.0f}s",
        flush=True,
    )
    rows = [
        {"corpus": corpus, "row": "gzip -6 of the files (reference)", "bytes_per_event": gz / lines, "vs_raw": gz / raw}
    ]
    for i, (row, what, template, script) in enumerate(LEVERS):
        stream = names.DATA_STREAM if i == 0 else copy_with_lever(engine.cluster, i, template, script)
        size, docs = store_bytes(engine.cluster, stream)
        if docs != lines:
            raise RuntimeError(f"{corpus}/{row}: {docs} documents for {lines} lines")
        rows.append({"corpus": corpus, "row": row, "what": what, "bytes_per_event": size / docs, "vs_raw": size / raw})
        print(f"  {row:52} {size / docs:7.1f} B/event  {size / raw:5.2f}x raw", flush=True)
        if i:
            engine.cluster.request("DELETE", f"/_data_stream/{stream}")
            engine.cluster.request("DELETE", f"/_index_template/{BENCH_TEMPLATE}{i}")
    for row in rows:
        row["raw_bytes_per_event"] = raw / lines
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="logplatform-bench-storage-"))
    try:
        with installed_engine() as engine:
            assets.install(
                engine.cluster, "opensearch", options=assets.PipelineOptions(keep_original=True)
            )  # every raw line kept (row 1)
            results = []
            volume = workdir / "volume"
            source = generator_files(workdir / "source", args.events)
            for corpus, make in (
                ("generator", lambda: generator_files(volume, args.events)),
                ("JSON loggers", lambda: logger_lines(volume, source)),
            ):
                subprocess.run(["rm", "-rf", str(volume)], check=True)
                (volume / "services").mkdir(parents=True)
                results += measure(engine, corpus, make(), workdir)
        record(
            "storage",
            "bench.storage",
            engine="OpenSearch 3.8.0 (test engine, one node)",
            events=args.events,
            rows=results,
        )
    finally:
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    main()
