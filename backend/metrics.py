"""Prometheus metrics of the backend (GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "logplatform_events",
            "Events by outcome: accepted, indexed, queued (in Kafka), spooled, rejected (invalid), "
            "refused (by Elasticsearch), failed",
            ["outcome"],
            registry=self.registry,
        )
        self.bulk_seconds = Histogram(
            "logplatform_bulk_seconds",
            "Latency of one _bulk request to Elasticsearch",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.bulk_size = Histogram(
            "logplatform_bulk_events",
            "Events per _bulk request",
            registry=self.registry,
            buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000),
        )
        self.spool_bytes = Gauge(
            "logplatform_spool_backlog_bytes", "Bytes in the spool waiting for Filebeat", registry=self.registry
        )
        self.elasticsearch_up = Gauge(
            "logplatform_elasticsearch_up", "1 when the last bulk request reached Elasticsearch", registry=self.registry
        )
        self.client_disconnects = Counter(
            "logplatform_client_disconnects",
            "Requests whose client went away before its body was complete",
            registry=self.registry,
        )
        self.requests_rejected = Counter(
            "logplatform_requests_rejected", "Requests refused, by HTTP status", ["status"], registry=self.registry
        )
