"""Validates incoming events and turns each into the one JSON line the pipeline receives.

The contract (docs/event-schema.md): the backend hands the pipeline the same line it would write to
the log volume, so a POSTed event and the same event written as a line become the same document.
Validation here is only what a client must be told about at once (status, field, reason); all
normalization happens in the ingest pipeline.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from logplatform.event_ids import new_event_id


@dataclass(frozen=True)
class Limits:
    """What makes an event invalid. Long values are not refused: the pipeline cuts each to its documented bound
    (docs/event-schema.md), as it does for the same line shipped from a file."""

    max_depth: int = 8
    max_keys: int = 200


@dataclass
class FieldError:
    field: str
    reason: str


@dataclass
class Rejected:
    index: int
    errors: list[FieldError]


@dataclass
class Accepted:
    index: int
    event_id: str
    line: str  # compact JSON, no newline


@dataclass
class Checked:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class ServiceObject(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=256)


class EventModel(BaseModel):
    """The fields a client must get right. Everything else is free-form and goes to the pipeline."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    service: str | ServiceObject = Field(description="Service name, or an ECS service object with `name`")
    message: str = Field(description="The log message")
    level: str | int | None = Field(None, description="Any common level name or number; normalized by the pipeline")
    timestamp: str | int | float | None = Field(
        None, alias="@timestamp", description="ISO 8601 or epoch seconds/millis; default: now"
    )
    meta: dict[str, Any] | None = Field(None, description="Metadata; keys with an ECS home land there")

    @field_validator("service")
    @classmethod
    def _service_not_blank(cls, v: str | ServiceObject) -> str | ServiceObject:
        if isinstance(v, str) and not (0 < len(v.strip()) <= 256):
            raise ValueError("must be a non-empty name of at most 256 characters")
        return v

    @field_validator("level")
    @classmethod
    def _level_short(cls, v: str | int | None) -> str | int | None:
        if isinstance(v, str) and len(v) > 32:
            raise ValueError("at most 32 characters")
        return v

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_readable(cls, v: object) -> object:
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):  # before coercion: true is not 1
            raise ValueError("must be an ISO 8601 string or an epoch number")
        if isinstance(v, (int, float)):
            if not math.isfinite(v) or not 0 <= v < 1e19:
                raise ValueError("epoch number out of range")
            return v
        try:
            parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("not an ISO 8601 date-time (e.g. 2026-01-31T12:00:00.000Z)") from None
        if not 1000 <= parsed.year <= 9999:
            raise ValueError("year out of range")
        return v


# Control characters that move a terminal's cursor, recolor it or hide text (log injection into viewers).
# Tab, line feed and CR LF stay allowed: multi-line messages are legitimate and stored as one event.
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
# A lone surrogate (`"\ud800"` in JSON) is valid JSON syntax but no character: no UTF-8 encodes it, and the engine
# refuses the whole document. A retry cannot fix it, so it is a per-event rejection, never a 503.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _character_error(text: str) -> str | None:
    """Why a string that is not printable may not be stored, or None (tab, LF, CR LF and the like are fine)."""
    if (bad := _FORBIDDEN_CONTROL.search(text)) is not None:
        return (
            f"control character U+{ord(bad.group()[0]):04X} at position {bad.start()} is not allowed "
            "(terminal escape / log injection)"
        )
    if (bad := _SURROGATE.search(text)) is not None:
        return (
            f"invalid Unicode: lone surrogate \\u{ord(bad.group()):04x} at position {bad.start()} (half of a "
            "UTF-16 pair; send the character itself or both halves)"
        )
    return None


SEED_EXAMPLE = {
    "service": "auth-service",
    "level": "ERROR",
    "message": "Login failed",
    "meta": {"user_id": 123, "ip": "1.1.1.1"},
}


def _expand(event: dict[str, Any]) -> dict[str, Any]:
    """`{"service.name": "a"}` counts as `service.name` for validation (the pipeline expands dots the same way)."""
    out = dict(event)
    for key in ("service.name", "event.id"):
        if key in out:
            parent, _, leaf = key.partition(".")
            holder = out.setdefault(parent, {})
            if isinstance(holder, dict):  # a scalar parent stays as it is, and so does the dotted key
                out[parent] = {**holder, leaf: out.pop(key)}
    return out


def _structure_errors(value: Any, limits: Limits) -> list[FieldError]:
    """Depth, key count and string sizes, without recursion limits of our own to trip on.

    Hot path (every event of every request): a field's path is only spelled out when it is reported."""
    errors: list[FieldError] = []
    keys = 0
    # (parent path, key or index, value, depth); the root has no key
    stack: list[tuple[str, str | int | None, Any, int]] = [("", None, value, 0)]
    while stack and len(errors) < 10:
        parent, key, v, depth = stack.pop()
        if isinstance(v, dict):
            if depth >= limits.max_depth:
                errors.append(FieldError(_path(parent, key) or "$", f"nested deeper than {limits.max_depth} levels"))
                continue
            keys += len(v)
            if keys > limits.max_keys:
                errors.append(FieldError(_path(parent, key) or "$", f"more than {limits.max_keys} keys in one event"))
                break
            here = _path(parent, key)
            for k, child in v.items():
                if len(k) > 256:
                    errors.append(FieldError(_path(here, k[:32]) + "…", "key longer than 256 characters"))
                    continue
                if not k.isprintable() and (why := _character_error(k)) is not None:
                    shown = k.encode("utf-8", "backslashreplace").decode()
                    errors.append(FieldError(_path(here, shown), f"key: {why}"))
                    continue
                stack.append((here, k, child, depth + 1))
        elif isinstance(v, list):
            here = _path(parent, key)
            if depth >= limits.max_depth:
                errors.append(FieldError(here, f"nested deeper than {limits.max_depth} levels"))
                continue
            keys += len(v)
            if keys > limits.max_keys:
                errors.append(FieldError(here, f"more than {limits.max_keys} values in one event"))
                break
            stack.extend((here, i, item, depth + 1) for i, item in enumerate(v))
        elif isinstance(v, str):
            # isprintable() (in C) is true for most strings and rules out every control character at once
            if not v.isprintable() and (why := _character_error(v)) is not None:
                errors.append(FieldError(_path(parent, key), why))
        elif isinstance(v, float) and not math.isfinite(v):
            errors.append(FieldError(_path(parent, key), "NaN and Infinity are not JSON"))
    return errors


def _plainly_within(value: Any, limits: Limits) -> bool:
    """True when the event certainly passes _structure_errors: within the depth and key limits, every key and string
    printable, every float finite. Builds no paths, so it is the hot path; anything else (a tab, a newline, a limit
    reached) goes to _structure_errors, which says exactly what and where, or finds it allowed.

    One loop over the containers, their scalars checked in place: most of an event's values are scalars, and a call
    for each was a third of the time to read, check and write a batch's events."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return _plain_scalar(value)
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        container, depth = stack.pop()
        if depth >= limits.max_depth:
            return False
        keys += len(container)
        if keys > limits.max_keys:
            return False
        if type(container) is dict:
            for k in container:
                if len(k) > 256 or not k.isprintable():
                    return False
            children = container.values()
        else:
            children = container
        for child in children:
            kind = type(child)
            if kind is str:
                if not child.isprintable():
                    return False
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif not _plain_scalar(child):
                return False
    return True


def _plain_scalar(v: Any) -> bool:
    kind = type(v)
    if kind is str:
        return bool(v.isprintable())
    if kind is float:
        return math.isfinite(v)
    return kind is int or kind is bool or v is None


def _path(parent: str, key: str | int | None) -> str:
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_event(
    index: int, raw: Any, limits: Limits, now: datetime | None = None, scope: str | None = None
) -> Accepted | Rejected:
    if not isinstance(raw, dict):
        return Rejected(index, [FieldError("$", "an event must be a JSON object")])
    errors = [] if _plainly_within(raw, limits) else _structure_errors(raw, limits)
    if errors:
        return Rejected(index, errors)
    event = _expand(raw)
    try:
        EventModel.model_validate(event)
    except ValidationError as exc:
        return Rejected(
            index,
            [FieldError(".".join(str(p) for p in e["loc"]) or "$", e["msg"]) for e in exc.errors(include_url=False)],
        )
    found = event.get("event")
    event_obj: dict[str, Any] = found if isinstance(found, dict) else {}
    event_id = event_obj.get("id")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 256):
        return Rejected(index, [FieldError("event.id", "must be a string of 1 to 256 characters")])
    if event_id is None:
        event_id = new_event_id()
        event["event"] = {**event_obj, "id": event_id}
    if not has_own_time(event):
        event["@timestamp"] = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    scoped(event, scope)
    return Accepted(index, event_id, compact_json(event))


def scoped(event: dict[str, Any], scope: str | None) -> None:
    """The line's logplatform.scope is the API key's it came with, whatever the client wrote there: the pipeline folds
    it into the document id, so that one key's event.id can never make another key's event a duplicate
    (docs/event-schema.md, "Event ids and duplicates"). Without a key (authentication off) a line has no scope."""
    event.pop("logplatform.scope", None)
    own = event.get("logplatform")
    if isinstance(own, dict):
        own = {k: v for k, v in own.items() if k != "scope"}
    elif own is not None:
        own = {"extra": {"logplatform": own}}  # a scalar is the client's data, kept where the pipeline keeps data
    if scope is not None:
        own = {**(own or {}), "scope": scope}
    if own:
        event["logplatform"] = own
    else:
        event.pop("logplatform", None)


# Where the pipeline finds an event's own time (es/ingest-pipelines/event/fields.painless: takeTimestamp, log4j2's
# instant, loguru's record.time; tests/contract/test_timestamp_fields.py keeps them equal). An event with one keeps it
# as written to a file would; only one without gets the receive time, which a spooled event must carry.
OWN_TIME_FIELDS = ("@timestamp", "timestamp", "time", "ts", "asctime", "datetime", "timeMillis", "instant")


def has_own_time(event: dict[str, Any]) -> bool:
    for name in OWN_TIME_FIELDS:  # a plain loop: a sixth of the time of a set intersection or any()
        if event.get(name) is not None:
            return True
    record = event.get("record")  # loguru's serialize=True: {"text": ..., "record": {"time": {...}}}
    time = record.get("time") if isinstance(record, dict) and "text" in event else None
    return isinstance(time, dict) and time.get("timestamp") is not None


def compact_json(value: Any) -> str:
    """The event as one compact line; orjson unless a number is beyond its 64 bits (the standard library keeps it)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def check_events(events: list[Any], limits: Limits, scope: str | None = None) -> Checked:
    now = datetime.now(UTC)
    out = Checked()
    for i, raw in enumerate(events):
        result = check_event(i, raw, limits, now, scope)
        (out.accepted if isinstance(result, Accepted) else out.rejected).append(result)  # type: ignore[arg-type]
    return out
