"""`logplatform doctor`: checks every hop from a log line to Kibana and says what is wrong and how to fix it."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from logplatform import assets, disk, names
from logplatform.cluster import Cluster


@dataclass
class Check:
    hop: str
    ok: bool
    detail: str
    fix: str = ""


def _recent(cluster: Cluster, query: dict[str, Any], minutes: int = 5) -> int:
    status, body = cluster.request(
        "POST",
        f"/{names.DATA_STREAM}/_count",
        {"query": {"bool": {"filter": [{"range": {"event.ingested": {"gte": f"now-{minutes}m"}}}, query]}}},
    )
    if status == 404:
        return 0
    if status != 200:
        raise RuntimeError(f"_count answered {status}: {json.dumps(body)[:200]}")
    return int(body["count"])


def _set_aside(cluster: Cluster, target: str, hours: int) -> tuple[int, int, str, str] | None:
    """(total, in the last `hours`, the commonest reasons, the latest reason) of what `target` holds; None when
    it does not exist."""
    status, body = cluster.request(
        "POST",
        f"/{target}/_search",
        {
            "size": 1,
            "track_total_hits": True,
            "sort": [{"@timestamp": "desc"}],
            "_source": ["error.type", "error.message", "log.file.path"],
            "aggs": {
                "recent": {"filter": {"range": {"@timestamp": {"gte": f"now-{hours}h"}}}},
                "reasons": {"terms": {"field": "error.type", "size": 3}},
            },
        },
    )
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError(f"searching {target} answered {status}: {json.dumps(body)[:200]}")
    hits = body["hits"]["hits"]
    latest = hits[0]["_source"] if hits else {}
    where = (latest.get("log") or {}).get("file", {}).get("path")
    reasons = ", ".join(
        f"{b['key']} ({b['doc_count']})" for b in body.get("aggregations", {}).get("reasons", {}).get("buckets", [])
    )
    return (
        body["hits"]["total"]["value"],
        body.get("aggregations", {}).get("recent", {}).get("doc_count", 0),
        reasons,
        (f"from {where}: " if where else "") + str((latest.get("error") or {}).get("message", "")),
    )


def dead_letters(cluster: Cluster, hours: int = 24, engine: str | None = None) -> str:
    """What the engine refused and kept aside: lines Filebeat set aside in the dead-letter stream and, on
    Elasticsearch 9.1+, documents in the data stream's failure store. Raises when any arrived in the last
    `hours`."""
    places = [names.DEAD_LETTER_STREAM]
    if (engine or assets.detect_engine(cluster)) == "elasticsearch":
        places.append(f"{names.DATA_STREAM}::failures")
    found = {place: _set_aside(cluster, place, hours) for place in places}
    recent = {p: f for p, f in found.items() if f and f[1]}
    total = sum(f[0] for f in found.values() if f)
    if not recent:
        return f"{total} lines set aside, none in the last {hours} h" if total else "no line set aside"
    place, (all_, new, reasons, latest) = next(iter(recent.items()))
    raise RuntimeError(
        f"{new} lines refused by Elasticsearch in the last {hours} h were set aside in {place} "
        f"({all_} in all; {reasons}); the latest, {latest}"[:600]
    )


@dataclass
class Context:
    """What every hop's check may use."""

    cluster: Cluster
    backend_url: str | None
    kibana: tuple[str, str, str] | None  # url, user, password
    alerts_index: str
    engine: str = "elasticsearch"  # set by the elasticsearch hop
    kafka_bootstrap: str | None = None  # the queue is on (kafka/queue.compose.yml)
    certs_dir: Path | None = None  # the `certs` volume, where doctor runs beside it
    renew_days: int = 30  # setup-certs' renewal window (CERT_RENEW_DAYS)
    _queue: Any = None  # the queue's status, read once by its first hop

    def queue(self) -> Any:
        if self._queue is None:
            from logplatform import queue

            assert self.kafka_bootstrap is not None
            self._queue = queue.status(self.kafka_bootstrap)
        return self._queue


def _certificates(ctx: Context) -> str:
    from logplatform import certificates

    assert ctx.certs_dir is not None
    now = datetime.datetime.now(datetime.UTC)
    found = certificates.expiries(ctx.certs_dir)
    due = [e for e in found if e.not_after - now < datetime.timedelta(days=ctx.renew_days)]
    # the ones due first: a long line is cut at 300 characters
    said = "; ".join(
        f"{e.subject} until {e.not_after:%Y-%m-%d} "
        + (f"({e.days_left} days left)" if e.not_after > now else "(EXPIRED)")
        for e in [*due, *(e for e in found if e not in due)]
    )
    if due:
        raise RuntimeError(f"{len(due)} within the renewal window of {ctx.renew_days} days: {said}")
    return said


def _elasticsearch(ctx: Context) -> str:
    status, body = ctx.cluster.request("GET", "/")
    if status != 200:
        raise RuntimeError(f"GET / answered {status}")
    ctx.engine = assets.detect_engine(ctx.cluster)
    return f"{body.get('cluster_name')} {body.get('version', {}).get('number')}"


def _pipeline(ctx: Context) -> str:
    problem = assets.pipeline_problem(ctx.cluster, "doctor")
    if problem:
        raise RuntimeError(problem)
    return "installed and working"


def _template(ctx: Context) -> str:
    ctx.cluster.ok("GET", f"/_index_template/{names.INDEX_TEMPLATE}")
    return "installed"


def _retention(ctx: Context) -> str:
    if ctx.engine != "elasticsearch":
        return "no lifecycle on this engine (ILM is Elasticsearch's): logs are kept until deleted"
    status, body = ctx.cluster.request("GET", f"/_ilm/policy/{names.ILM_POLICY}")
    if status != 200:
        raise RuntimeError(f"the lifecycle policy {names.ILM_POLICY} is missing ({status})")
    phases = body[names.ILM_POLICY]["policy"]["phases"]
    rollover = phases.get("hot", {}).get("actions", {}).get("rollover", {})
    keep = phases.get("delete", {}).get("min_age", "forever")
    return (
        f"logs kept {keep} after rollover; rollover at {rollover.get('max_primary_shard_size', '?')} "
        f"or {rollover.get('max_age', '?')}"
    )


def _disk(ctx: Context) -> str:
    return disk.check(ctx.cluster)


def _receiving(ctx: Context) -> str:
    n = _recent(ctx.cluster, {"match_all": {}})
    if n == 0:
        raise RuntimeError(f"no event ingested into {names.DATA_STREAM} in the last 5 minutes")
    return f"{n} events in the last 5 minutes"


def _filebeat(ctx: Context) -> str:
    n = _recent(ctx.cluster, {"term": {"agent.type": "filebeat"}})
    if n == 0:
        raise RuntimeError("no event shipped by Filebeat in the last 5 minutes")
    return f"{n} events shipped in the last 5 minutes"


def _set_aside_lines(ctx: Context) -> str:
    return dead_letters(ctx.cluster, engine=ctx.engine)


def _alerting(ctx: Context) -> str:
    # ElastAlert2 records every rule run in <writeback>_status and every failure in <writeback>_error
    recent = {"query": {"range": {"@timestamp": {"gte": "now-5m"}}}}
    status, body = ctx.cluster.request(
        "POST",
        f"/{ctx.alerts_index}_status/_search",
        {**recent, "size": 0, "track_total_hits": True, "aggs": {"rules": {"cardinality": {"field": "rule_name"}}}},
    )
    if status == 404:
        raise RuntimeError(f"{ctx.alerts_index}_status does not exist: the alerting service never started")
    if status != 200:
        raise RuntimeError(f"searching {ctx.alerts_index}_status answered {status}")
    runs, rules = body["hits"]["total"]["value"], body["aggregations"]["rules"]["value"]
    if runs == 0:
        raise RuntimeError("no alert rule ran in the last 5 minutes")
    status, errors = ctx.cluster.request(
        "POST",
        f"/{ctx.alerts_index}_error/_search",
        {**recent, "size": 1, "track_total_hits": True, "sort": [{"@timestamp": "desc"}]},
    )
    failed = errors["hits"]["total"]["value"] if status == 200 else 0
    if failed:
        latest = errors["hits"]["hits"][0]["_source"].get("message", "")
        raise RuntimeError(f"{failed} errors in the last 5 minutes, the latest: {latest}"[:300])
    return f"{rules} rules ran {runs} times in the last 5 minutes"


# The queue's hops, between the shippers and the data stream (MAX_LAG: a backlog of more is not "ok")
MAX_LAG = 100_000


def _queue_topic(ctx: Context) -> str:
    state = ctx.queue()
    if not state.topic_exists:
        raise RuntimeError(f"the topic {names.QUEUE_TOPIC} does not exist on {ctx.kafka_bootstrap}")
    return f"{names.QUEUE_TOPIC}: {state.partitions} partitions"


def _queue_indexer(ctx: Context) -> str:
    members = ctx.queue().members
    if members == 0:
        raise RuntimeError(f"no indexer in the consumer group {names.QUEUE_GROUP}: nothing reads the topic")
    return f"{members} indexer(s) reading"


def _queue_lag(ctx: Context) -> str:
    lag = ctx.queue().lag
    if lag > MAX_LAG:
        raise RuntimeError(f"{lag:,} messages not yet indexed (more than {MAX_LAG:,})")
    return f"{lag:,} messages not yet indexed"


def _backend(ctx: Context) -> str:
    assert ctx.backend_url is not None
    r = httpx.get(ctx.backend_url.rstrip("/") + "/readyz", timeout=10)
    if r.status_code != 200:
        raise RuntimeError(f"/readyz answered {r.status_code}: {r.text[:200]}")
    return "ready"


def _kibana(ctx: Context) -> str:
    assert ctx.kibana is not None
    url, user, password = ctx.kibana
    r = httpx.get(url.rstrip("/") + "/api/status", auth=(user, password), timeout=10)
    overall = r.json().get("status", {}).get("overall", {}) if r.status_code == 200 else {}
    level = overall.get("level")
    # degraded: Kibana serves, one plugin is slow or failing (Task Manager commonly); its summary says which
    if level == "degraded":
        return f"degraded, serving: {overall.get('summary', 'no summary')}"
    if level != "available":
        raise RuntimeError(f"/api/status answered {r.status_code}, level {level}")
    return "available"


@dataclass(frozen=True)
class Hop:
    name: str
    check: Callable[[Context], str]
    fix: str
    wanted: Callable[[Context], bool] = lambda _ctx: True


SETUP = "docker compose run --rm setup"
# from a log line to Kibana, in the order a line travels, after the certificates every hop's TLS rests on;
# nothing after elasticsearch is checked if it fails
HOPS = (
    Hop(
        "certificates",
        _certificates,
        "docker compose up -d (setup-certs renews them, Elasticsearch reloads them by itself; README, Operating it)",
        wanted=lambda ctx: ctx.certs_dir is not None,
    ),
    Hop("elasticsearch", _elasticsearch, "docker compose ps es01; docker compose logs es01 (credentials: README)"),
    Hop("pipeline", _pipeline, SETUP),
    Hop("index template", _template, SETUP),
    Hop("retention", _retention, f"{SETUP} (LOG_RETENTION, LOG_ROLLOVER_SIZE in .env)"),
    Hop(
        "disk",
        _disk,
        "free disk space on the Docker host (or move the volume); indices unlock by themselves once below the "
        "high watermark; ES_DISK_WATERMARK_* in .env set the thresholds",
    ),
    Hop("data stream", _receiving, "is the generator running? docker compose ps generator"),
    Hop(
        "queue topic",
        _queue_topic,
        "docker compose ps kafka queue-setup; docker compose run --rm queue-setup",
        wanted=lambda ctx: ctx.kafka_bootstrap is not None,
    ),
    Hop(
        "queue indexer",
        _queue_indexer,
        "docker compose ps indexer; docker compose logs indexer",
        wanted=lambda ctx: ctx.kafka_bootstrap is not None,
    ),
    Hop(
        "queue lag",
        _queue_lag,
        "is Elasticsearch taking writes (the hops above)? docker compose logs indexer; more indexers share the "
        "topic's partitions: docker compose up -d --scale indexer=3 (docs/scaling.md)",
        wanted=lambda ctx: ctx.kafka_bootstrap is not None,
    ),
    Hop("filebeat", _filebeat, "docker compose logs filebeat; are files being written to the logs volume?"),
    Hop(
        "lines set aside",
        _set_aside_lines,
        'Kibana, Discover, saved search "Lines set aside": each refused line with the engine\'s reason; '
        "README, Operations: lines set aside",
    ),
    Hop("alerting", _alerting, "docker compose ps alerting; docker compose logs alerting"),
    Hop("backend", _backend, "docker compose logs backend", wanted=lambda ctx: ctx.backend_url is not None),
    Hop(
        "kibana",
        _kibana,
        "docker compose logs kibana setup (kibana_system password is set by setup)",
        wanted=lambda ctx: ctx.kibana is not None,
    ),
)


def run_checks(
    cluster: Cluster,
    backend_url: str | None,
    kibana: tuple[str, str, str] | None,
    alerts_index: str = names.ALERTS_INDEX,
    kafka_bootstrap: str | None = None,
    certs_dir: Path | None = None,
    renew_days: int = 30,
) -> list[Check]:
    """Every hop's check, each reported and never raised; when Elasticsearch does not answer, nothing after it."""
    ctx = Context(
        cluster,
        backend_url,
        kibana,
        alerts_index,
        kafka_bootstrap=kafka_bootstrap,
        certs_dir=certs_dir,
        renew_days=renew_days,
    )
    checks: list[Check] = []
    for hop in HOPS:
        if not hop.wanted(ctx):
            continue
        try:
            checks.append(Check(hop.name, True, hop.check(ctx)))
        except Exception as exc:  # a failed check is reported, never raised
            checks.append(Check(hop.name, False, f"{type(exc).__name__}: {exc}"[:300], hop.fix))
            if hop.name == "elasticsearch":
                break
    return checks
