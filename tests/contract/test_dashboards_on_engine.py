"""Every dashboard panel, run on the real engine over generator traffic, shows what the data says.

The generator tells a day's story (steady traffic, a payment incident, a login attack, plus older
events the 24-hour range must leave out). Each Lens panel is read from kibana/dashboards.ndjson,
turned into the search Kibana would send (tests/support/lens.py) and compared with the same panel
computed in Python from the generated events. Then the story itself: the panels point at the incident
and the attacker, so no panel is empty or wrong on day one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.scenarios import TrafficModel
from logplatform import names
from tests.contract.test_kibana import FAILURE_STORE_VIEW, by_type, controls, dashboard
from tests.support import kql, lens
from tests.support.documents import every_document
from tests.support.search_engine import SearchEngine
from tests.support.shipper import filebeat_doc, ship_files
from tests.support.traffic import flat, story

pytestmark = pytest.mark.engine

DAY_MS = 24 * lens.HOUR_MS
POOL_EXHAUSTED = "Database connection pool exhausted: waited <num> ms for a connection"  # the incident's new error


@dataclass
class Day:
    index: str
    events: list[dict[str, Any]]  # flat, as the panels see them
    attack: TrafficModel
    now: datetime

    def search(self, engine: SearchEngine) -> Any:
        return lambda body: engine.cluster.ok("POST", f"/{self.index}/_search", body)

    def window(self) -> tuple[int, int]:
        end = int(self.now.timestamp() * 1000)
        return end - DAY_MS, end


@pytest.fixture(scope="module")
def day(installed: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    now = datetime.now(UTC)
    hours = lambda h: now - timedelta(hours=h)  # noqa: E731
    attack = TrafficModel("attack", seed=3)
    raw = (
        story(TrafficModel("steady", seed=0), 400, hours(30), hours(25))  # older than the dashboards' 24h
        + story(TrafficModel("steady", seed=1, demo=True), 1500, hours(23), hours(16))  # the generator's
        + story(TrafficModel("incident", seed=2), 1500, hours(16), hours(9))
        + story(attack, 1500, hours(9), hours(2))
    )
    path = tmp_path_factory.mktemp("day") / "generator.log"
    path.write_text("".join(json.dumps(e) + "\n" for e in raw))
    index = f"logs-logplatform-dash{uuid.uuid4().hex[:8]}"
    counts = ship_files(installed.cluster, [path], index)
    assert counts == {"created": len(raw), "duplicate": 0, "failed": 0}
    installed.refresh(index)
    # the pattern of each event, as the pipeline made it (tests/pipeline tests how): the panels group by it
    patterns = {
        doc["event"]["id"]: doc["logplatform"]["pattern"]["text"]
        for doc in every_document(installed.cluster, index, source=["event.id", "logplatform.pattern.text"])
    }
    events = [{**flat(e), "logplatform.pattern.text": patterns[e["event"]["id"]]} for e in raw]
    yield Day(index, events, attack, datetime.now(UTC))
    installed.cluster.request("DELETE", f"/_data_stream/{index}")


def all_layers() -> list[tuple[str, lens.Layer]]:
    return [(d["id"], layer) for d in by_type("dashboard") for layer in lens.lens_layers(d)]


@pytest.mark.parametrize(("dashboard_id", "layer"), all_layers(), ids=lambda v: getattr(v, "title", v))
def test_panel_shows_what_the_data_says(
    installed: SearchEngine, day: Day, dashboard_id: str, layer: lens.Layer
) -> None:
    rows = lens.on_engine(day.search(installed), layer, ("now-24h", "now"))
    expected = lens.reference(day.events, layer, day.window())
    assert rows, f"{layer.title} would be empty"
    for col_id in layer.metrics:
        assert any(row[col_id] for row in rows), f"{layer.title}: {col_id} is zero everywhere"
    assert lens.problems(layer, rows, expected) == []


@pytest.mark.parametrize("selection", ['service.name : "payment-service"', 'log.level : "error"'])
def test_controls_narrow_every_overview_panel(installed: SearchEngine, day: Day, selection: str) -> None:
    """Picking a service or a level in the controls adds a phrase filter; every panel follows it."""
    for layer in lens.lens_layers(dashboard("logplatform-overview")):
        rows = lens.on_engine(day.search(installed), layer, ("now-24h", "now"), filters=[selection])
        expected = lens.reference(day.events, layer, day.window(), filters=[selection])
        assert lens.problems(layer, rows, expected) == [], selection


def test_leaving_out_the_demo_narrows_every_panel_to_the_real_services(installed: SearchEngine, day: Day) -> None:
    """Both dashboards show the generator's demo traffic (seven hours of the day here) and have a tags control in
    Kibana's Exclude mode: picking `demo` adds the negated phrase filter, and every panel counts the rest only."""
    leave_out = 'not tags : "demo"'
    for dashboard_id in ("logplatform-overview", "logplatform-security"):
        (tags,) = [
            c["explicitInput"]
            for c in controls(dashboard(dashboard_id)).values()
            if c["explicitInput"]["fieldName"] == "tags"
        ]
        assert tags["exclude"] is True and tags["selectedOptions"] == [], "demo is shown until picked"
        for layer in lens.lens_layers(dashboard(dashboard_id)):
            rows = lens.on_engine(day.search(installed), layer, ("now-24h", "now"), filters=[leave_out])
            expected = lens.reference(day.events, layer, day.window(), filters=[leave_out])
            assert lens.problems(layer, rows, expected) == [], layer.title
    in_range = [e for e in day.events if day.window()[0] <= lens._millis(e["@timestamp"])]
    real = [e for e in in_range if e.get("tags") != ["demo"]]
    (row,) = lens.on_engine(
        day.search(installed), _layer("logplatform-overview", "Total logs"), ("now-24h", "now"), [leave_out]
    )
    assert row["value"] == len(real) and len(in_range) - len(real) > 1000


def _layer(dashboard_id: str, title: str) -> lens.Layer:
    return next(x for x in lens.lens_layers(dashboard(dashboard_id)) if x.title == title)


def _value(installed: SearchEngine, day: Day, dashboard_id: str, title: str) -> Any:
    (row,) = lens.on_engine(day.search(installed), _layer(dashboard_id, title), ("now-24h", "now"))
    return row["value"]


def test_overview_tells_the_incident(installed: SearchEngine, day: Day) -> None:
    in_range = [e for e in day.events if day.window()[0] <= lens._millis(e["@timestamp"])]
    assert _value(installed, day, "logplatform-overview", "Total logs") == len(in_range) < len(day.events)
    errors = sum(e["log.level"] == "error" for e in in_range)
    assert _value(installed, day, "logplatform-overview", "ERROR logs") == errors > 0
    assert _value(installed, day, "logplatform-overview", "Error rate") == pytest.approx(errors / len(in_range))
    assert _value(installed, day, "logplatform-overview", "Services reporting") == 6
    # the user picks the service in the control: its top error pattern is the incident's, while its exact
    # messages (each with its own wait time) are nearly all one-offs
    only_payment = ['service.name : "payment-service"']
    patterns = lens.on_engine(
        day.search(installed), _layer("logplatform-overview", "Top error patterns"), ("now-24h", "now"), only_payment
    )
    assert patterns[0]["pattern"] == POOL_EXHAUSTED and patterns[0]["count"] >= 20
    messages = lens.on_engine(
        day.search(installed), _layer("logplatform-overview", "Top error messages"), ("now-24h", "now"), only_payment
    )
    assert messages[0]["count"] * 5 < patterns[0]["count"]


def test_security_dashboard_points_at_the_attacker_and_the_victim(installed: SearchEngine, day: Day) -> None:
    search = day.search(installed)
    offenders = lens.on_engine(search, _layer("logplatform-security", "Top offending IPs"), ("now-24h", "now"))
    assert offenders[0]["ip"] == day.attack.attacker_ip and offenders[0]["accounts"] > 100  # spraying
    attacked = lens.on_engine(search, _layer("logplatform-security", "Accounts under attack"), ("now-24h", "now"))
    assert attacked[0]["user"] == day.attack.victim and attacked[0]["ips"] > 10  # brute force from a botnet
    timeline = lens.on_engine(search, _layer("logplatform-security", "Failed logins over time"), ("now-24h", "now"))
    peak = max(timeline, key=lambda r: r["count"])
    attack_hours = (day.window()[1] - 9 * lens.HOUR_MS, day.window()[1] - 2 * lens.HOUR_MS)
    assert attack_hours[0] - lens.HOUR_MS <= peak["time"] <= attack_hours[1]


@pytest.mark.parametrize("search_id", ["logplatform-all-logs", "logplatform-errors", "logplatform-security-events"])
def test_saved_search_lists_matching_events_newest_first_with_its_columns(
    installed: SearchEngine, day: Day, search_id: str
) -> None:
    saved = next(s for s in by_type("search") if s["id"] == search_id)
    query = json.loads(saved["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
    node = kql.parse(query)
    body = {
        "size": 50,
        "track_total_hits": True,
        "sort": [{"@timestamp": "desc"}],
        "query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "now-24h"}}}, kql.to_dsl(node)]}},
    }
    result = day.search(installed)(body)
    expected = sum(1 for e in day.events if lens._millis(e["@timestamp"]) >= day.window()[0] and kql.matches(node, e))
    assert result["hits"]["total"]["value"] == expected > 0
    hits = [h["_source"] for h in result["hits"]["hits"]]
    stamps = [h["@timestamp"] for h in hits]
    assert stamps == sorted(stamps, reverse=True)
    for column in saved["attributes"]["columns"]:
        assert any(_get(h, column) is not None for h in hits), f"{saved['attributes']['title']}: {column} empty"


def _get(doc: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)  # type: ignore[assignment]
    return doc


@pytest.mark.parametrize(
    "line",
    ['{"service": "payment-service", "level": "ERROR", "message": "card declined"}', "plain text, not JSON"],
)
def test_failure_store_columns_hold_the_refused_document_whichever_step_refused_it(
    installed: SearchEngine, line: str
) -> None:
    """On Elasticsearch 9.1+ a refused line is kept in the failure store, `document.source` being the document as
    Filebeat sent it when the pipeline failed, or as our pipeline made it when the mapping refused it. Every
    `document.source.*` column of *Lines set aside (failure store)* shows something in both."""
    saved = next(s for s in by_type("search") if s["references"][0]["id"] == FAILURE_STORE_VIEW)
    columns = [c.removeprefix("document.source.") for c in saved["attributes"]["columns"] if c.startswith("document.")]
    sent = filebeat_doc(line, "/var/log/app/app.log", 42)
    simulate = f"/_ingest/pipeline/{names.PIPELINE}/_simulate"
    simulated = installed.cluster.ok("POST", simulate, {"docs": [{"_source": sent}]})
    made = simulated["docs"][0]["doc"]["_source"]
    for source in (sent, made):
        assert columns and all(_get(source, column) not in (None, "") for column in columns), (columns, source)


def test_a_long_error_message_is_counted_in_top_error_messages(installed: SearchEngine, tmp_path) -> None:
    """A 1,000-character error (a long SQL error, a wrapped exception) is what Top error messages is for; with
    `ignore_above: 256` it had no message.keyword and the table silently left it out."""
    now = datetime.now(UTC)
    long_message = "Payment provider rejected the request: " + "x" * 961
    events = [
        {
            "@timestamp": (now - timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
            "service": "payment-service",
            "level": "ERROR",
            "message": long_message,
        }
        for i in range(1, 4)
    ]
    events.append(
        {
            "@timestamp": now.isoformat().replace("+00:00", "Z"),
            "service": "auth-service",
            "level": "ERROR",
            "message": "Login failed",
        }
    )
    path = tmp_path / "long.log"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    index = f"logs-logplatform-long{uuid.uuid4().hex[:8]}"
    ship_files(installed.cluster, [path], index)
    try:
        layer = next(x for x in lens.lens_layers(dashboard("logplatform-overview")) if x.title == "Top error messages")
        end = int(now.timestamp() * 1000) + 60_000
        rows = lens.on_engine(
            lambda body: installed.cluster.ok("POST", f"/{index}/_search", body), layer, (str(end - DAY_MS), str(end))
        )
        messages = {row["message"]: row["count"] for row in rows}
        assert len(long_message) == 1000 and messages.get(long_message) == 3, list(messages)[:3]
    finally:
        installed.cluster.request("DELETE", f"/_data_stream/{index}")


def test_error_patterns_show_the_incidents_new_error_as_the_newest(installed: SearchEngine, day: Day) -> None:
    """The patterns panel: the incident's error is one pattern of one service, first seen after every other, and a
    message with a number in it is counted as its pattern."""
    rows = lens.on_engine(
        day.search(installed), _layer("logplatform-overview", "Top error patterns"), ("now-24h", "now")
    )
    by_pattern = {row["pattern"]: row for row in rows}
    new = by_pattern[POOL_EXHAUSTED]
    assert new["services"] == 1 and new["first"] == max(row["first"] for row in rows)
    incident_errors = {e["logplatform.pattern.text"] for e in day.events if e["message"].startswith("Database conn")}
    assert incident_errors == {POOL_EXHAUSTED}  # as many messages as waits, one pattern
    gateway = [
        e
        for e in day.events
        if e["message"] == "GET /api/orders 502" and lens._millis(e["@timestamp"]) >= day.window()[0]
    ]
    assert by_pattern["GET /api/orders <num>"]["count"] == len(gateway) > 0
