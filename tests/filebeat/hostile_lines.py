"""Hostile lines, as a service could write them to the log volume: each must end up indexed, or set aside in
the dead-letter stream, never lost. (name, line) pairs; the line is written as it is, one per line."""

from __future__ import annotations

import json

BASE = {"service": "hostile", "level": "error", "message": "hostile line"}


def _event(**fields: object) -> str:
    return json.dumps({**BASE, **fields})


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


TYPE_CONFLICTS = [
    ("status-not-a-number", _event(http={"response": {"status_code": "abc"}})),
    ("status-object", _event(http={"response": {"status_code": {"value": 200}}})),
    ("ip-not-an-ip", _event(source={"ip": "999.1.1.1"})),
    ("ip-object", _event(source={"ip": {"v4": "1.1.1.1"}})),
    ("service-number", json.dumps({"service": 5, "message": "x"})),
    ("service-object-with-number-name", json.dumps({"service": {"name": 5}, "message": "x"})),
    ("user-string", _event(user="alice")),
    ("error-list", _event(error=["a", "b"])),
    ("labels-string", _event(labels="not an object")),
    ("tags-object", _event(tags={"a": 1})),
    ("event-string", _event(event="string")),
    ("host-number", _event(host=5)),
    ("url-original-object", _event(url={"original": {"nested": 1}})),
    ("message-object", json.dumps({"service": "hostile", "message": {"obj": 1}})),
    ("message-list", json.dumps({"service": "hostile", "message": [1, 2, 3]})),
    ("level-object", _event(level={"x": 1})),
    ("duration-huge", _event(event={"duration": 10**30})),
    ("pid-negative-float", _event(process={"pid": -1.5})),
    ("offset-in-line", _event(log={"offset": "not a number", "file": {"path": 7}})),
    ("ecs-version-object", _event(ecs={"version": {"major": 9}})),
    ("data-stream-fields", _event(data_stream={"type": "metrics", "dataset": "x", "namespace": "y"})),
]

HUGE_VALUES = [
    ("url-40k", _event(url={"original": "https://x.example/?q=" + "a" * 40_000})),
    ("stack-trace-40k", _event(error={"stack_trace": "at Frame.call(Frame.java:1)\n" * 1_500})),
    ("message-100k", _event(message="m" * 100_000)),
    ("message-2mb", _event(message="é" * 1_000_000)),
    ("label-40k", _event(meta={"note": "n" * 40_000})),
    ("labels-field-40k", _event(labels={"note": "n" * 40_000})),
    ("keyword-40k", _event(user={"name": "u" * 40_000})),
    ("keyword-4-byte-chars", _event(user={"id": "😀" * 9_000})),
    ("service-name-40k", json.dumps({"service": "s" * 40_000, "message": "x"})),
    ("trace-id-40k", _event(trace={"id": "t" * 40_000})),
    ("extra-40k", _event(unknown_object={"deep": "d" * 40_000})),
    ("key-5000-chars", json.dumps({**BASE, "k" * 5_000: 1})),
    ("key-40k-chars-in-meta", json.dumps({**BASE, "meta": {"k" * 40_000: "v"}})),
    ("tags-10000", _event(tags=[f"t{i}" for i in range(10_000)])),
]

BAD_TIMESTAMPS = [
    ("ts-text", _event(**{"@timestamp": "not a date"})),
    ("ts-huge-number", _event(**{"@timestamp": 99999999999999999999})),
    ("ts-negative", _event(**{"@timestamp": -1})),
    ("ts-month-13", _event(**{"@timestamp": "2026-13-45T99:99:99Z"})),
    ("ts-empty", _event(**{"@timestamp": ""})),
    ("ts-bool", _event(**{"@timestamp": True})),
    ("ts-object", _event(**{"@timestamp": {"$date": "x"}})),
    ("ts-list", _event(**{"@timestamp": [1, 2]})),
    ("ts-year-300000", _event(timestamp="+300000-01-01T00:00:00Z")),
    ("ts-year-0", _event(timestamp="0000-01-01T00:00:00Z")),
]

DEEP_AND_WIDE = [
    ("deep-40", _event(meta=_nested(40))),
    ("deep-500", _event(meta=_nested(500))),
    ("deep-in-extra-200", _event(unknown=_nested(200))),
    ("wide-3000", _event(**{f"field_{i}": i for i in range(3_000)})),
    ("wide-meta-3000", _event(meta={f"k{i}": i for i in range(3_000)})),
    ("wide-labels-3000", _event(labels={f"k{i}": str(i) for i in range(3_000)})),
    ("array-of-objects", _event(items=[{"a": i, "b": [i, {"c": i}]} for i in range(500)])),
    ("mixed-array", _event(meta={"mixed": [1, "a", {"b": 2}, [3], None, True]})),
]

BROKEN_JSON = [
    ("truncated", '{"service": "hostile", "message": "cut he'),
    ("open-brace", "{"),
    ("brace-bracket", "{]"),
    ("nan", '{"service": "hostile", "message": "x", "v": NaN}'),
    ("infinity", '{"service": "hostile", "message": "x", "v": Infinity}'),
    ("trailing-comma", '{"service": "hostile", "message": "x",}'),
    ("single-quotes", "{'service': 'hostile'}"),
    ("two-objects", '{"a": 1}{"b": 2}'),
    ("empty-object", "{}"),
    ("json-array", '[{"service": "hostile"}]'),
    ("json-string", '"just a string"'),
    ("plain-text", "plain text line with no JSON at all"),
    ("control-characters", "\x1b[31mred\x1b[0m \x07 bell"),
    ("lone-surrogate-escape", '{"service": "hostile", "message": "\\ud800 lone"}'),
    ("duplicate-keys", '{"service": "a", "service": "b", "message": "x"}'),
    ("big-number", '{"service": "hostile", "message": "x", "n": 1e400}'),
]

ODD_KEYS = [
    ("empty-key", json.dumps({**BASE, "": 1})),
    ("dot-key", json.dumps({**BASE, ".": 1})),
    ("dots-key", json.dumps({**BASE, "..": 1})),
    ("double-dot-key", json.dumps({**BASE, "a..b": 1})),
    ("leading-dot-key", json.dumps({**BASE, ".a": 1})),
    ("trailing-dot-key", json.dumps({**BASE, "a.": 1})),
    ("underscore-id", json.dumps({**BASE, "_id": "forced"})),
    ("underscore-index", json.dumps({**BASE, "_index": "elsewhere"})),
    ("underscore-source", json.dumps({**BASE, "_source": {"a": 1}})),
    ("underscore-routing", json.dumps({**BASE, "_routing": "r"})),
    ("underscore-ingest", json.dumps({**BASE, "_ingest": {"x": 1}})),
    ("lp-tmp", json.dumps({**BASE, "lp_tmp": {"json": {"service": "spoofed"}}})),
    ("ctx-key", json.dumps({**BASE, "ctx": "x"})),
    ("timestamp-child", json.dumps({**BASE, "@timestamp.x": 1})),
    ("space-key", json.dumps({**BASE, "a key with spaces": 1})),
    ("unicode-key", json.dumps({**BASE, "ключ🔑": 1}, ensure_ascii=False)),
    ("dotted-labels", json.dumps({**BASE, "labels.x": "y", "labels": {"x": "z"}})),
    ("dotted-over-scalar", json.dumps({**BASE, "user": "a", "user.name": "b"})),
]

CATEGORIES = {
    "type conflicts": TYPE_CONFLICTS,
    "huge values": HUGE_VALUES,
    "bad timestamps": BAD_TIMESTAMPS,
    "deep and wide": DEEP_AND_WIDE,
    "broken JSON": BROKEN_JSON,
    "odd keys": ODD_KEYS,
}
LINES = [pair for pairs in CATEGORIES.values() for pair in pairs]
