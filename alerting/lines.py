"""What every alert carries besides its count and its Discover link: up to five of the events that made it fire
(time, service, level, message) and how many such events the window holds.

An ElastAlert2 match enhancement, named in every rule by render.py and run by ElastAlert2's own Python
(entrypoint.sh puts /opt/logplatform on its path). The events are the rule's own: its filter, the match's key
(the service, IP, account or pattern), the events that count for a ratio rule (match_bucket_filter), over the
rule's window up to the match; the slowest first for a latency rule, else the newest first. Should the search
fail, the alert still goes, saying its lines could not be read: ElastAlert2 disables a rule whose enhancement
raises, so this one never does.
"""

from __future__ import annotations

import datetime
from typing import Any

from elastalert.enhancements import BaseEnhancement
from elastalert.util import dt_to_ts, elastalert_logger, elasticsearch_client, lookup_es_key, ts_to_dt

from alerting.render import SHOWN_LINES as SHOWN

MESSAGE_CHARS = 200
FIELDS = ["@timestamp", "service.name", "log.level", "message", "error.message", "event.duration"]


def window(rule: dict[str, Any]) -> datetime.timedelta:
    span = rule.get("timeframe") or rule.get("buffer_time") or {"minutes": 15}
    return span if isinstance(span, datetime.timedelta) else datetime.timedelta(**span)


def key_value(rule: dict[str, Any], match: dict[str, Any]) -> Any:
    """The match's value of the rule's query_key (a flatline match names it `key`)."""
    field = rule.get("query_key")
    if not field:
        return None
    value = lookup_es_key(match, field)
    return value if value is not None else match.get("key")


def query(rule: dict[str, Any], match: dict[str, Any]) -> dict[str, Any]:
    end = match.get(rule.get("timestamp_field", "@timestamp"))
    end = ts_to_dt(end) if isinstance(end, str) else end
    clauses: list[dict[str, Any]] = list(rule.get("filter") or [])
    clauses += list(rule.get("match_bucket_filter") or [])  # a ratio rule: the events that count, not all
    if (value := key_value(rule, match)) is not None:
        clauses.append({"term": {rule["query_key"]: value}})
    if end is not None:
        timestamps = {"gt": dt_to_ts(end - window(rule)), "lte": dt_to_ts(end)}
        clauses.append({"range": {rule.get("timestamp_field", "@timestamp"): timestamps}})
    return {"bool": {"filter": {"bool": {"must": clauses}}}}  # the shape ElastAlert2's own search expects


def line(source: dict[str, Any]) -> dict[str, Any]:
    message = lookup_es_key(source, "message") or lookup_es_key(source, "error.message") or ""
    return {
        "@timestamp": source.get("@timestamp"),
        "service": lookup_es_key(source, "service.name"),
        "level": lookup_es_key(source, "log.level"),
        "message": str(message).split("\n", 1)[0][:MESSAGE_CHARS],
    }


def as_text(lines: list[dict[str, Any]]) -> str:
    return "\n".join(f"{x['@timestamp']} {x['service']} {x['level']} {x['message']}" for x in lines) or "(none)"


class TriggeringLines(BaseEnhancement):  # type: ignore[misc]  # ElastAlert2's classes are untyped
    def process(self, match: dict[str, Any]) -> None:
        try:
            lines, count = self.read(match)
        except Exception as exc:  # any failure: the alert goes without its lines
            elastalert_logger.warning("%s: the events behind the alert could not be read: %s", self.rule["name"], exc)
            match.update(lines=[], lines_count=None, lines_text=f"(could not be read: {exc})")
            return
        match.update(lines=lines, lines_count=count, lines_text=as_text(lines))

    def read(self, match: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        rule = self.rule
        slowest = "metric_agg_key" in rule  # a latency rule: its slowest events are the ones that tell
        order = [{"event.duration": "desc"}] if slowest else [{rule.get("timestamp_field", "@timestamp"): "desc"}]
        body = {
            "query": query(rule, match),
            "size": SHOWN,
            "sort": order,
            "track_total_hits": True,
            "_source": FIELDS,
        }
        found = elasticsearch_client(rule).search(body=body, index=rule["index"], ignore_unavailable=True)
        total = found["hits"]["total"]
        count = total["value"] if isinstance(total, dict) else total
        return [line(hit["_source"]) for hit in found["hits"]["hits"]], count
