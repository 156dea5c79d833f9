"""Backend settings, from the environment (LOGPLATFORM_*) or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from logplatform import names


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOGPLATFORM_", env_file=".env", extra="ignore")

    # Elasticsearch: one URL, or every node's, comma-separated (the client moves to another node when one fails)
    elasticsearch_url: str = "https://elasticsearch:9200"
    elasticsearch_api_key: str | None = None
    elasticsearch_username: str | None = None
    elasticsearch_password: str | None = None
    elasticsearch_password_file: Path | None = None  # read at start, for secrets kept in files (compose)
    elasticsearch_ca_certs: str | None = None
    # The queue (kafka/queue.compose.yml): set, accepted events go to this Kafka topic instead of Elasticsearch
    kafka_bootstrap: str | None = None
    kafka_topic: str = names.QUEUE_TOPIC
    data_stream: str = names.DATA_STREAM
    pipeline: str = names.PIPELINE
    request_timeout_s: float = 10.0

    # where the backend's own logs and the spool go (the shared log volume)
    log_dir: Path = Path("/var/log/logplatform")
    log_to_file: bool = True
    log_console_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    # delivery
    batch_max_events: int = 1000
    batch_max_bytes: int = 8 * 1024 * 1024
    # 0: send what is queued at once; batches grow by themselves while a bulk is in flight.
    batch_max_wait_ms: float = 0.0
    # bulks in flight at most; a second goes out only for a backlog of bulk_parallel_min_events (backend/delivery.py:
    # a few events wait for the bulk in flight and go together, hundreds go at once)
    bulk_concurrency: int = 2
    bulk_parallel_min_events: int = 100
    retry_budget_s: float = 2.0
    outage_probe_s: float = 2.0
    spool_max_bytes: int = 1024 * 1024 * 1024
    spool_file_max_bytes: int = 64 * 1024 * 1024

    # seconds between checks of Elasticsearch's free disk against its watermarks (0: off; backend/disk_watch.py)
    disk_watch_s: float = 60.0

    # limits
    max_body_bytes: int = 5 * 1024 * 1024
    max_events_per_request: int = 1000
    max_depth: int = 8
    max_keys: int = 200
    # OTLP: a record's event carries its resource's attributes, so a request of a few hundred kilobytes could make
    # hundreds of megabytes of events. Records × (resource + scope name bytes) above this is refused with 413
    # before any event is built (a thousand records under a 4 KiB resource is 4 MiB)
    otlp_max_fanout_bytes: int = 16 * 1024 * 1024
    # a request body must arrive whole within this many seconds (slow clients get 408 and the connection closes)
    body_timeout_s: float = 30.0
    # connections and requests served at once; beyond that the server answers 503 at once (uvicorn's
    # limit_concurrency), so slow or idle clients cannot take every connection
    max_connections: int = 1000
    # connections one client address may hold at once; one more is answered 429 and closed (0: no limit). Behind a
    # reverse proxy every client has the proxy's address: raise it to the proxy's own connection count, or 0
    max_connections_per_client: int = 100
    # a request head (request line and headers) must arrive within this many seconds of the connection opening (or
    # of a later request's first byte): a part of one is answered 408, a connection that sent nothing is closed
    head_timeout_s: float = 10.0
    # a request head over this many bytes is answered 431 and the connection closed
    max_head_bytes: int = 64 * 1024
    # seconds a kept-alive connection may sit idle between requests before it is closed (uvicorn's keep-alive)
    keep_alive_s: int = 5

    # authentication
    api_keys_file: Path = Path("/var/lib/logplatform/api-keys.json")
    auth_enabled: bool = True
    cors_origins: list[str] = []

    def elasticsearch_hosts(self) -> list[str]:
        return [node.strip() for node in self.elasticsearch_url.split(",") if node.strip()]

    def es_password(self) -> str | None:
        if self.elasticsearch_password:
            return self.elasticsearch_password
        if self.elasticsearch_password_file:
            return self.elasticsearch_password_file.read_text().strip()
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
