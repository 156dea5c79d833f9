"""The traffic every benchmark runs on, reproducible (a seed and a fixed start time): the generator's events as files
on a volume, and the same events as five popular JSON loggers write them (pino, structlog, logstash-logback-encoder,
zap, python-json-logger)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def generator_files(volume: Path, events: int, seed: int = 7) -> list[Path]:
    """The services' log files the real generator CLI writes (its own log left out: it is not the corpus)."""
    args = ["--log-dir", str(volume), "--rate", "0", "--count", str(events), "--seed", str(seed)]
    args += ["--start-time", "2026-11-30T10:00:00", "--quiet", "--max-file-bytes", str(2**40)]
    subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT, check=True, capture_output=True)
    (volume / "generator.log").unlink(missing_ok=True)
    return sorted((volume / "services").glob("*.log"))


def _epoch_ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


LEVEL_NUMBERS = {"DEBUG": 20, "INFO": 30, "WARNING": 40, "ERROR": 50, "CRITICAL": 60}


def pino(e: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": LEVEL_NUMBERS.get(e["level"], 30),
        "time": _epoch_ms(e["@timestamp"]),
        "pid": 1,
        "hostname": f"{e['service']}-7d9f",
        "reqId": m.get("trace_id"),
        "req": {"method": m.get("method"), "url": m.get("path"), "remoteAddress": m.get("ip")},
        "res": {"statusCode": m.get("status_code")},
        "responseTime": m.get("duration_ms"),
        "msg": e["message"],
    }


def structlog(e: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": e["message"],
        "level": e["level"].lower(),
        "timestamp": e["@timestamp"],
        "logger": e["service"].replace("-", "."),
        "user_id": m.get("user_id"),
        "ip": m.get("ip"),
        "status_code": m.get("status_code"),
        "duration_ms": m.get("duration_ms"),
        "trace_id": m.get("trace_id"),
    }


def logback(e: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    service = e["service"].split("-")[0]
    return {
        "@timestamp": e["@timestamp"].replace("Z", "+00:00"),
        "@version": "1",
        "message": e["message"],
        "logger_name": f"com.example.{service}.{service.capitalize()}Controller",
        "thread_name": f"http-nio-8080-exec-{m.get('user_id', 1) % 10}",
        "level": e["level"].replace("WARNING", "WARN"),
        "level_value": LEVEL_NUMBERS.get(e["level"], 30) * 1000 - 10000,
        "traceId": m.get("trace_id"),
        "status": m.get("status_code"),
    }


def zap(e: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": e["level"].lower().replace("warning", "warn"),
        "ts": _epoch_ms(e["@timestamp"]) / 1000,
        "caller": f"{e['service']}/handler.go:{87 + len(e['message']) % 40}",
        "msg": e["message"],
        "method": m.get("method"),
        "path": m.get("path"),
        "status": m.get("status_code"),
        "latency": (m.get("duration_ms") or 0) / 1000,
        "trace_id": m.get("trace_id"),
    }


def python_json_logger(e: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    return {
        "asctime": e["@timestamp"].replace("T", " ").replace("Z", ""),
        "levelname": e["level"],
        "name": e["service"],
        "message": e["message"],
        "user_id": m.get("user_id"),
        "ip": m.get("ip"),
        "duration_ms": m.get("duration_ms"),
    }


LOGGERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "pino": pino,
    "structlog": structlog,
    "logstash-logback-encoder": logback,
    "zap": zap,
    "python-json-logger": python_json_logger,
}


def logger_lines(volume: Path, source: list[Path]) -> list[Path]:
    """The generator's events as each logger writes them (one file per logger, the events dealt in turn)."""
    out = {name: (volume / "services" / f"{name}.log").open("w") for name in LOGGERS}
    events = [json.loads(line) for path in source for line in path.read_text().splitlines()]
    random.Random(7).shuffle(events)
    for i, event in enumerate(events):
        name = list(LOGGERS)[i % len(LOGGERS)]
        line = {k: v for k, v in LOGGERS[name](event, event.get("meta") or {}).items() if v is not None}
        out[name].write(json.dumps(line, separators=(",", ":")) + "\n")
    for handle in out.values():
        handle.close()
    return sorted((volume / "services").glob("*.log"))


def loggers_volume(generated: Path, volume: Path) -> Path:
    """A volume with the events of a generated one as the five loggers write them, and nothing else."""
    (volume / "services").mkdir(parents=True)
    logger_lines(volume, sorted((generated / "services").glob("*.log")))
    return volume


def mean_line_bytes(volume: Path) -> float:
    """The mean size of the lines Filebeat's paths cover on a volume, newline included."""
    files = [*volume.glob("*.log*"), *volume.glob("services/*.log*")]
    sizes = [len(line) + 1 for f in files for line in f.read_bytes().splitlines() if line]
    return sum(sizes) / len(sizes)


# --- as events sent over HTTP -------------------------------------------------------------------------------

TOY_EVENT = {
    "service": "auth-service",
    "level": "ERROR",
    "message": "Login failed",
    "meta": {"user_id": 123, "ip": "1.1.1.1", "device": "mobile"},
}

# What each logger's HTTP formatter is set to: the API needs `service` and `message` (pino's `base` and
# `messageKey`, structlog's EventRenamer, logstash-logback-encoder's customFields, zap's MessageKey and
# With, python-json-logger's static_fields); the rest of the line is the logger's own.
_MESSAGE_KEYS = ("msg", "event")


def _http_ready(shape: dict[str, Any], service: str) -> dict[str, Any]:
    out = {k: v for k, v in shape.items() if v is not None}
    for key in _MESSAGE_KEYS:
        if key in out and "message" not in out:
            out["message"] = out.pop(key)
    out.setdefault("service", service)
    return out


def http_corpus(name: str, events: int, workdir: Path) -> list[str]:
    """`events` JSON lines as clients POST them: "generator" (the generator's events, each line as it writes it),
    "loggers" (the same events as the five loggers' HTTP formatters send them, dealt in turn) or "toy" (the seed's
    one-line example, kept as a secondary row)."""
    if name == "toy":
        return [json.dumps(TOY_EVENT, separators=(",", ":"))]
    lines = [line for path in generator_files(workdir / name, events) for line in path.read_text().splitlines()]
    if name == "generator":
        return lines
    shaped = []
    for i, line in enumerate(lines):
        event = json.loads(line)
        logger = LOGGERS[list(LOGGERS)[i % len(LOGGERS)]]
        shaped.append(json.dumps(_http_ready(logger(event, event.get("meta") or {}), event["service"])))
    return shaped


def with_event_id(line: str, event_id: str) -> str:
    """A JSON object line with `event.id` put first (dotted: the pipeline merges it into the event's own `event`)."""
    return '{"event.id":"' + event_id + '",' + line[1:]
