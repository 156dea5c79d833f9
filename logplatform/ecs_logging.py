"""Our own services (backend, generator) log themselves as ECS JSON lines to the log volume, which
Filebeat ships like any service's logs, and readably on the console for people."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from logplatform.event_ids import new_event_id
from logplatform.names import ECS_VERSION


class EcsJsonFormatter(JsonFormatter):
    """One ECS line per record: @timestamp, log.level, log.logger, message, service.name, event.id."""

    def __init__(self, service: str, tags: tuple[str, ...] = ()) -> None:
        super().__init__(
            "%(message)s", rename_fields={"levelname": "log.level", "name": "log.logger"}, json_ensure_ascii=False
        )
        self.service = service
        self.tags = list(tags)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["@timestamp"] = (
            datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        log_record["log.level"] = record.levelname
        log_record["log.logger"] = record.name
        log_record["service.name"] = self.service
        log_record["ecs.version"] = ECS_VERSION
        log_record["event.id"] = new_event_id()
        if self.tags:
            log_record["tags"] = self.tags
        if record.exc_info and "exc_info" in log_record:
            log_record["error.stack_trace"] = log_record.pop("exc_info")


def setup_logging(
    service: str,
    log_dir: Path | None,
    level: str = "INFO",
    console: str = "text",
    max_bytes: int = 50 * 1024 * 1024,
    backups: int = 5,
    tags: tuple[str, ...] = (),
) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console_handler = logging.StreamHandler(sys.stderr)
    console_handler.setFormatter(
        EcsJsonFormatter(service, tags)
        if console == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root.addHandler(console_handler)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        # RotatingFileHandler rotates by rename, which Filebeat follows without loss or re-reads
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / f"{service}.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.setFormatter(EcsJsonFormatter(service, tags))
        root.addHandler(file_handler)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
