"""A stretch of generator traffic at chosen times, and the fields the dashboards and alert rules read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from generator.scenarios import TrafficModel, moment


def story(model: TrafficModel, count: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """`count` moments evenly between start and end, the scenario's progress running 0 -> 1 over them
    (a silent service leaves its moments empty)."""
    step = (end - start) / count
    out = []
    for i in range(count):
        at, millis = moment(start + step * i)
        if (event := model.event(at, i / count, millis)) is not None:
            out.append(event)
    return out


def flat(raw: dict[str, Any]) -> dict[str, Any]:
    """A generator event as the ECS fields it becomes (the contract in docs/event-schema.md), flat."""
    meta = raw["meta"]
    out = {
        "@timestamp": raw["@timestamp"],
        "service.name": raw["service"],
        "log.level": raw["level"].lower(),
        "message": raw["message"],
        "message.keyword": raw["message"],
        "event.action": raw["event"]["action"],
        "event.outcome": raw["event"]["outcome"],
        "source.ip": meta["ip"],
        "user.id": str(meta["user_id"]),
        "user.name": meta.get("username"),
        "http.response.status_code": meta["status_code"],
        "tags": raw.get("tags"),  # the generator's demo tag
    }
    return {k: v for k, v in out.items() if v is not None}
