"""Kibana's saved objects, checked without Kibana (it cannot run here): they parse the way the import
API reads them, every reference resolves, every field exists with a type that suits its use, the
dashboards hold the panels the seed asks for, and setup imports them all and fails loudly otherwise.
What each panel shows on real data is tested in test_dashboards_on_engine.py."""

from __future__ import annotations

import base64
import importlib
import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from logplatform import assets, dashboards, names
from logplatform.assets import mappings_body
from logplatform.setup import SetupError, setup_kibana
from tests.support import kql
from tests.support.dotted import dotted
from tests.support.lens import formula_parts, lens_layers
from tests.support.shipper import filebeat_doc

KIBANA = Path(__file__).resolve().parents[2] / "kibana"
DEAD_LETTER_VIEW = "logplatform-dead-letters"
FAILURE_STORE_VIEW = "logplatform-failure-store"
# A failure document's mapping, the same in every failure store (elastic/elasticsearch
# server/src/main/java/org/elasticsearch/cluster/metadata/DataStreamFailureStoreDefinition.java; Elastic's "Failure
# store" docs, "Failure document structure"): dynamic false, and `document.source`, the refused document, unmapped
# (in _source only, which Discover shows: it asks for every field, unmapped ones included)
FAILURE_DOCUMENT = {
    "@timestamp": "date",
    "document.id": "keyword",
    "document.routing": "keyword",
    "document.index": "keyword",
    "error.message": "match_only_text",
    "error.stack_trace": "text",
    "error.type": "keyword",
    "error.pipeline": "keyword",
    "error.pipeline_trace": "keyword",
    "error.processor_tag": "keyword",
    "error.processor_type": "keyword",
}
AGGREGATABLE = {"keyword", "ip", "long", "integer", "short", "byte", "double", "float", "date", "boolean"}


def saved_objects() -> list[dict[str, Any]]:
    return [json.loads(line) for p in sorted(KIBANA.glob("*.ndjson")) for line in p.read_text().splitlines()]


def by_type(kind: str) -> list[dict[str, Any]]:
    return [o for o in saved_objects() if o["type"] == kind]


def field_types() -> dict[str, str]:
    """Every searchable field of our mapping, multi-fields (message.keyword) included."""
    out: dict[str, str] = {}

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
                continue
            out[f"{prefix}{name}"] = spec.get("type", "object")
            for sub, sub_spec in spec.get("fields", {}).items():
                out[f"{prefix}{name}.{sub}"] = sub_spec["type"]

    walk(mappings_body()["template"]["mappings"]["properties"], "")
    return out


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(dashboard["attributes"]["panelsJSON"])


def controls(dashboard: dict[str, Any]) -> dict[str, Any]:
    return json.loads(dashboard["attributes"]["controlGroupInput"]["panelsJSON"])


def test_dashboards_file_is_generated_from_its_source() -> None:
    assert (KIBANA / "dashboards.ndjson").read_text() == dashboards.render(), (
        "kibana/dashboards.ndjson is stale: run python -m logplatform.dashboards --write"
    )


def test_readme_says_what_each_panel_answers() -> None:
    assert dashboards.panel_guide() in (KIBANA.parent / "README.md").read_text()


def test_every_line_and_every_stringified_attribute_parses() -> None:
    objects = saved_objects()
    assert {o["type"] for o in objects} == {"index-pattern", "search", "dashboard"}
    for o in objects:
        assert {"type", "id", "attributes", "references"} <= o.keys()
        meta = o["attributes"].get("kibanaSavedObjectMeta", {})
        if meta:
            assert isinstance(meta["searchSourceJSON"], str)
            json.loads(meta["searchSourceJSON"])
    for d in by_type("dashboard"):
        attributes = d["attributes"]
        for key in ("panelsJSON", "optionsJSON"):
            assert isinstance(attributes[key], str), key
            json.loads(attributes[key])
        for key in ("panelsJSON", "ignoreParentSettingsJSON"):
            assert isinstance(attributes["controlGroupInput"][key], str), key
            json.loads(attributes["controlGroupInput"][key])
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(ids) == len(set(ids)), "two objects share a type and id: the import would keep one"


# Kibana's dashboard attributes schema (content management v2, `unknowns: 'forbid'`): any other key
# makes the dashboard unloadable, so a typo here is caught before a user meets it
DASHBOARD_ATTRIBUTES = {
    "title",
    "description",
    "kibanaSavedObjectMeta",
    "timeRestore",
    "timeFrom",
    "timeTo",
    "refreshInterval",
    "controlGroupInput",
    "panelsJSON",
    "optionsJSON",
    "hits",
    "version",
}


def test_dashboard_attributes_are_the_ones_kibana_accepts() -> None:
    for d in by_type("dashboard"):
        assert set(d["attributes"]) <= DASHBOARD_ATTRIBUTES, set(d["attributes"]) - DASHBOARD_ATTRIBUTES
        assert {"title", "panelsJSON", "kibanaSavedObjectMeta"} <= set(d["attributes"])
        assert set(d["attributes"]["refreshInterval"]) <= {"pause", "value", "display", "section"}
        for panel in panels(d):
            assert {"type", "gridData", "panelIndex", "embeddableConfig"} <= set(panel), panel.get("title")
            grid = panel["gridData"]
            assert grid["x"] + grid["w"] <= 48 and grid["w"] > 0 and grid["h"] > 0  # Kibana's 48-column grid
        cells = [
            (x, y)
            for p in panels(d)
            for x in range(p["gridData"]["x"], p["gridData"]["x"] + p["gridData"]["w"])
            for y in range(p["gridData"]["y"], p["gridData"]["y"] + p["gridData"]["h"])
        ]
        assert len(cells) == len(set(cells)), f"{d['id']}: panels overlap"


def test_every_reference_resolves_and_every_panel_and_control_has_its_reference() -> None:
    objects = saved_objects()
    present = {(o["type"], o["id"]) for o in objects}
    for o in objects:
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in present, f"{o['id']}: reference {ref} resolves to nothing"
    for d in by_type("dashboard"):
        names_ = {r["name"] for r in d["references"]}
        expected = set()
        for panel in panels(d):
            prefix = f"{panel['panelIndex']}:"
            assert panel["gridData"]["i"] == panel["panelIndex"]
            if panel["type"] == "lens":
                attributes = panel["embeddableConfig"]["attributes"]
                inner = {r["name"] for r in attributes["references"]}
                layers = attributes["state"]["datasourceStates"]["formBased"]["layers"]
                assert inner == {f"indexpattern-datasource-layer-{layer}" for layer in layers}, panel["title"]
                expected |= {prefix + name for name in inner}
            else:
                expected.add(prefix + panel["panelRefName"])
        for control_id in controls(d):
            expected.add(f"controlGroup_{control_id}:optionsListDataView")
        assert names_ == expected, d["id"]
    views = {v["id"]: v["attributes"] for v in by_type("index-pattern")}
    assert (views[dashboards.DATA_VIEW]["title"], views[dashboards.DATA_VIEW]["timeFieldName"]) == (
        names.INDEX_PATTERN,
        "@timestamp",
    )
    assert views[DEAD_LETTER_VIEW]["title"] == names.DEAD_LETTER_PATTERN
    # the alert history: ElastAlert2's writeback index, named in alerting/config.yaml
    writeback = yaml.safe_load((KIBANA.parent / "alerting" / "config.yaml").read_text())["writeback_index"]
    assert (views[names.ALERTS_INDEX]["title"], views[names.ALERTS_INDEX]["timeFieldName"]) == (writeback, "alert_time")


def _uses(d: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, field, operation) for every field a dashboard uses."""
    uses = []
    for layer in lens_layers(d):
        for field in kql.parse(layer.query).fields():
            uses.append((layer.title, field, "query"))
        for col in layer.columns.values():
            op = col["operationType"]
            if col.get("sourceField") and col["sourceField"] != "___records___":
                uses.append((layer.title, col["sourceField"], op))
            if col.get("filter"):
                uses += [(layer.title, f, "query") for f in kql.parse(col["filter"]["query"]).fields()]
            if op == "formula":
                for function, field, kql_text in formula_parts(col["params"]["formula"]):
                    if field:
                        uses.append((layer.title, field, function))
                    uses += [(layer.title, f, "query") for f in kql.parse(kql_text or "").fields()]
    for control in controls(d).values():
        uses.append((control["explicitInput"]["title"], control["explicitInput"]["fieldName"], "terms"))
    return uses


def test_every_field_is_mapped_with_a_type_that_suits_its_use() -> None:
    types = field_types()
    problems = []
    for d in by_type("dashboard"):
        for where, field, op in _uses(d):
            kind = types.get(field)
            if kind is None:
                problems.append(f"{d['id']} / {where}: {field} is not mapped")
            elif op in {"terms", "unique_count"} and kind not in AGGREGATABLE:
                problems.append(f"{d['id']} / {where}: {op} on {field}, a {kind} (not aggregatable)")
            elif op == "date_histogram" and kind != "date":
                problems.append(f"{d['id']} / {where}: date histogram on {field}, a {kind}")
            elif op == "query" and kind not in AGGREGATABLE:
                problems.append(f"{d['id']} / {where}: exact-value query on {field}, a {kind}")
    dead_letter_fields = assets.field_table(
        assets.load_json(f"index-templates/{names.DEAD_LETTER_TEMPLATE}.json")["template"]["mappings"]["properties"]
    )
    for search in by_type("search"):
        if search["references"][0]["id"] == FAILURE_STORE_VIEW:
            problems += _failure_store_problems(search, types)
            continue
        if search["references"][0]["id"] == DEAD_LETTER_VIEW:
            problems += [
                f"search {search['id']}: column {c} is not mapped in the dead-letter stream"
                for c in search["attributes"]["columns"]
                if c not in dead_letter_fields
            ]
            continue
        if search["references"][0]["id"] != dashboards.DATA_VIEW:
            continue  # the alert history: checked against ElastAlert2's own mapping in tests/alerting
        for column in search["attributes"]["columns"]:
            if column not in types:
                problems.append(f"search {search['id']}: column {column} is not mapped")
        source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["indexRefName"] in {r["name"] for r in search["references"]}
        for field in kql.parse(source["query"]["query"]).fields():
            if types.get(field) not in AGGREGATABLE:
                problems.append(f"search {search['id']}: query on {field}, a {types.get(field)}")
    assert not problems, problems


def _failure_store_problems(search: dict[str, Any], types: dict[str, str]) -> list[str]:
    """A column of the failure store's search is a field of every failure document, or one of the refused document
    (`document.source.*`) that it holds whichever step refused it: the line as Filebeat sent it when the pipeline
    failed, the document the pipeline made (our mapping) when the mapping did."""
    sent = dotted(filebeat_doc("a refused line", "/var/log/app/app.log", 0))
    problems = []
    for column in search["attributes"]["columns"]:
        field = column.removeprefix("document.source.")
        if column == field and column not in FAILURE_DOCUMENT:
            problems.append(f"search {search['id']}: column {column} is not a field of a failure document")
        elif column != field and (field not in sent or field not in types):
            problems.append(f"search {search['id']}: column {column} is not in every refused document")
    source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    for field in kql.parse(source["query"]["query"]).fields():
        if FAILURE_DOCUMENT.get(field) not in AGGREGATABLE:
            problems.append(f"search {search['id']}: query on {field}, a {FAILURE_DOCUMENT.get(field)}")
    return problems


def test_refused_documents_in_the_failure_store_have_a_data_view_and_a_saved_search() -> None:
    """On Elasticsearch 9.1+ a document the pipeline or the mapping refuses is kept in the data stream's failure
    store and its writer gets a success: none reaches the dead-letter stream. Kibana reads the failure store through
    a data view whose index pattern carries the `::failures` selector (Elastic's "Failure store" docs, "Create a
    failure store data view")."""
    views = {v["id"]: v["attributes"] for v in by_type("index-pattern")}
    view = views[FAILURE_STORE_VIEW]
    assert view["title"] == names.FAILURE_STORE_PATTERN == "logs-logplatform-*::failures"
    pattern, selector = view["title"].split("::")
    assert selector == "failures" and pattern == names.INDEX_PATTERN
    # the failure store of every namespace of the logs (the place doctor counts among them), none of the
    # dead-letter stream's (that one's refusals are not ours to show twice)
    assert fnmatchcase(names.DATA_STREAM, pattern) and not fnmatchcase(names.DEAD_LETTER_STREAM, pattern)
    assert view["timeFieldName"] == "@timestamp" and FAILURE_DOCUMENT["@timestamp"] == "date"  # when it failed
    assert view["allowNoIndex"] is True  # failure indices are made at the first failure: none until then
    search = next(s for s in by_type("search") if s["references"][0]["id"] == FAILURE_STORE_VIEW)
    assert search["attributes"]["sort"] == [["@timestamp", "desc"]]
    assert search["attributes"]["columns"][:2] == ["error.type", "error.message"]
    assert "document.source.message" in search["attributes"]["columns"]  # what was refused


def _stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Any, Any]:
    """The rehearsal's Elasticsearch stand-in hooks (tests/stack/standins/elasticsearch/security.py), imported as its
    image runs them, beside es_compat_proxy: the hooks, and the proxy's Request."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(root / "support"))
    monkeypatch.syspath_prepend(str(root / "stack" / "standins" / "elasticsearch"))
    security = importlib.import_module("security")
    request = importlib.import_module("es_compat_proxy").Request
    return security.Security(tmp_path / "security.json", "bootstrap-pw", "logplatform", "es01"), request


def test_the_failure_store_search_as_discover_sends_it_gets_an_answer_discover_reads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The test engine has no failure store; the stand-in answers a search of `<pattern>::failures` as an empty
    failure store does. The saved search's query, sent as Discover sends it (time range, sort, every field, the
    unmapped `document.source.*` included), gets that answer, and the query selects a failure document as Elastic
    documents it."""
    search = next(s for s in by_type("search") if s["references"][0]["id"] == FAILURE_STORE_VIEW)
    query = kql.parse(json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"])
    title = next(v for v in by_type("index-pattern") if v["id"] == FAILURE_STORE_VIEW)["attributes"]["title"]
    body = {
        "size": 500,
        "track_total_hits": True,
        "sort": [{"@timestamp": {"order": "desc", "unmapped_type": "boolean"}}],
        "fields": [{"field": "*", "include_unmapped": True}],
        "query": {"bool": {"filter": [kql.to_dsl(query), {"range": {"@timestamp": {"gte": "now-24h", "lte": "now"}}}]}},
    }
    security, request = _stand_in(monkeypatch, tmp_path)
    auth = base64.b64encode(b"elastic:bootstrap-pw").decode()
    reply = security.before(
        request("POST", f"/{title}/_search", {"Authorization": f"Basic {auth}"}, json.dumps(body).encode())
    )
    assert reply is not None and reply.status == 200  # answered by the stand-in, never sent to the test engine
    answer = json.loads(reply.body)
    assert answer["timed_out"] is False
    assert answer["hits"]["total"] == {"value": 0, "relation": "eq"} and answer["hits"]["hits"] == []
    # a mapping failure as Elastic's docs show one, of a line Filebeat sent
    failure = {
        "@timestamp": "2026-05-01T12:00:00.000Z",
        "document": {"index": names.DATA_STREAM, "source": filebeat_doc("a refused line", "/var/log/app/app.log", 0)},
        "error": {"type": "document_parsing_exception", "message": "failed to parse field [x] of type [long]"},
    }
    assert kql.matches(query, dotted(failure))


def _shape(layer: Any) -> tuple[str, ...]:
    """A panel reduced to what it shows: the chart type and each column's operation on its field."""
    parts = [layer.vis_type]
    for col_id in layer.order:
        col = layer.columns[col_id]
        parts.append(f"{col['operationType']}:{col.get('sourceField', '')}".rstrip(":").replace(":___records___", ""))
    return tuple(parts)


def dashboard(dashboard_id: str) -> dict[str, Any]:
    return next(d for d in by_type("dashboard") if d["id"] == dashboard_id)


def test_overview_has_every_panel_the_seed_lists_with_controls_24h_and_auto_refresh() -> None:
    d = dashboard("logplatform-overview")
    layers = {layer.title: layer for layer in lens_layers(d)}
    shapes = {_shape(layer) for layer in layers.values()}
    assert ("lnsMetric", "count") in shapes  # total logs
    assert ("lnsMetric", "unique_count:service.name") in shapes  # services reporting
    assert layers["ERROR logs"].columns["value"]["filter"]["query"] == dashboards.ERROR_KQL
    assert "count(kql=" in layers["Error rate"].columns["value"]["params"]["formula"]
    assert layers["Error rate"].columns["value"]["params"]["format"]["id"] == "percent"
    assert ("lnsXY", "terms:log.level", "count") in shapes  # logs by level
    assert ("lnsPie", "terms:log.level", "count") in shapes
    pie = next(p for p in panels(d) if p["embeddableConfig"].get("attributes", {}).get("visualizationType") == "lnsPie")
    assert pie["embeddableConfig"]["attributes"]["state"]["visualization"]["shape"] == "donut"
    assert ("lnsXY", "terms:service.name", "count") in shapes  # logs by service
    assert ("lnsXY", "date_histogram:@timestamp", "terms:log.level", "count") in shapes  # timeline by level
    assert ("lnsDatatable", "terms:message.keyword", "terms:service.name", "count") in shapes  # top errors
    assert layers["Top error messages"].query == dashboards.ERROR_KQL
    table = next(p for p in panels(d) if p["type"] == "search")
    assert table["panelRefName"] and any(r["id"] == "logplatform-all-logs" for r in d["references"])
    assert {c["explicitInput"]["fieldName"] for c in controls(d).values()} == {"service.name", "log.level", "tags"}
    attributes = d["attributes"]
    assert (attributes["timeRestore"], attributes["timeFrom"], attributes["timeTo"]) == (True, "now-24h", "now")
    assert attributes["refreshInterval"]["pause"] is False and attributes["refreshInterval"]["value"] > 0


def test_security_dashboard_shows_failed_logins_by_time_ip_and_account() -> None:
    d = dashboard("logplatform-security")
    layers = lens_layers(d)
    assert all(layer.query == dashboards.FAILED_LOGIN_KQL for layer in layers)
    shapes = {_shape(layer) for layer in layers}
    assert ("lnsXY", "date_histogram:@timestamp", "count") in shapes
    assert ("lnsXY", "terms:source.ip", "count") in shapes
    assert ("lnsXY", "terms:user.name", "count") in shapes
    assert ("lnsDatatable", "terms:source.ip", "count", "unique_count:user.name") in shapes  # top offending IPs
    assert ("lnsDatatable", "terms:user.name", "count", "unique_count:source.ip") in shapes  # accounts under attack
    assert d["attributes"]["timeFrom"] == "now-24h"


def test_saved_searches_show_the_seed_columns_newest_first() -> None:
    searches = {s["attributes"]["title"]: s for s in by_type("search")}
    assert set(searches) == {
        "All logs",
        "Errors",
        "Security events",
        "Alerts sent",
        "Lines set aside",
        "Lines set aside (failure store)",
    }
    for s in (searches["All logs"], searches["Errors"], searches["Security events"]):
        assert s["attributes"]["columns"][:3] == ["service.name", "log.level", "message"]
        assert s["attributes"]["sort"] == [["@timestamp", "desc"]]


# --- setup's import, against a stand-in for Kibana's HTTP API -----------------------------------


class FakeKibana:
    """Answers the three calls setup makes; `import_answer` is what the import returns."""

    def __init__(self, import_answer: dict[str, Any]) -> None:
        self.import_answer = import_answer
        self.imports: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/status":
            return httpx.Response(200, json={"status": {"overall": {"level": "available"}}})
        if request.url.path == "/api/saved_objects/_import":
            self.imports.append(request)
            return httpx.Response(200, json=self.import_answer)
        if request.url.path == "/api/data_views/default":
            return httpx.Response(200, json={"acknowledged": True})
        return httpx.Response(404)


def test_setup_imports_every_object_in_one_request_with_overwrite() -> None:
    kibana = FakeKibana({"success": True, "successCount": len(saved_objects()), "errors": []})
    said: list[str] = []
    setup_kibana("http://kibana:5601", "elastic", "pw", said.append, transport=httpx.MockTransport(kibana))
    (request,) = kibana.imports
    assert request.url.params["overwrite"] == "true" and request.headers["kbn-xsrf"]
    body = request.read().decode()
    assert 'filename="logplatform.ndjson"' in body
    sent = [json.loads(line) for line in body.split("\r\n\r\n", 1)[1].rsplit("\r\n--", 1)[0].splitlines()]
    assert [(o["type"], o["id"]) for o in sent] == [(o["type"], o["id"]) for o in saved_objects()]
    # the failure store's data view and saved search go with the rest, in the same request
    sent_ids = {(o["type"], o["id"]) for o in sent}
    assert {("index-pattern", FAILURE_STORE_VIEW), ("search", FAILURE_STORE_VIEW)} <= sent_ids
    assert any("imported" in line for line in said)


def test_setup_fails_loudly_when_kibana_refuses_an_object() -> None:
    answer = {
        "success": False,
        "successCount": 1,
        "errors": [
            {
                "id": "logplatform-overview",
                "type": "dashboard",
                "meta": {"title": "Log-Platform overview"},
                "error": {"type": "missing_references", "references": [{"type": "search", "id": "gone"}]},
            }
        ],
    }
    with pytest.raises(SetupError, match=r"dashboard/logplatform-overview .*missing_references search/gone"):
        setup_kibana(
            "http://kibana:5601", "elastic", "pw", lambda _: None, transport=httpx.MockTransport(FakeKibana(answer))
        )


def test_a_formula_is_stored_with_the_helper_columns_kibana_runs() -> None:
    """As Kibana's formula editor saves it (the "HTTP 5xx" panel of Kibana's own sample objects,
    src/platform/plugins/shared/home/server/services/sample_data/data_sets/logs/saved_objects.ts): the formula
    column references one `math` column whose tinymath tree is over helper columns, all in columnOrder."""
    formulas = 0
    for d in by_type("dashboard"):
        for layer in lens_layers(d):
            for col_id, col in layer.columns.items():
                if col["operationType"] != "formula":
                    continue
                formulas += 1
                [math_id] = col["references"]
                math = layer.columns[math_id]
                assert math["operationType"] == "math", layer.title
                assert math["params"]["tinymathAst"]["text"] == col["params"]["formula"]
                assert math["references"] and set(math["references"]) <= set(layer.columns)
                assert all(layer.columns[h]["label"] == f"Part of {col['label']}" for h in math["references"])
                assert set(layer.order) == set(layer.columns) and layer.order[0] == col_id
    assert formulas >= 1


def test_a_formula_stored_without_its_helpers_draws_nothing() -> None:
    """What the Error rate tile was: a formula column with `references: []` and no helpers. Kibana sends no
    aggregation for it (Lens form_based/to_expression.ts), and the interpreter refuses it the same way."""
    from tests.support import lens

    layer = next(x for x in lens_layers(dashboard("logplatform-overview")) if x.title == "Error rate")
    bare = {"value": {**layer.columns["value"], "references": []}}
    broken = lens.Layer(layer.title, layer.vis_type, bare, ["value"], layer.query)
    with pytest.raises(ValueError, match="would draw nothing"):
        lens.on_engine(lambda body: {}, broken, ("now-1d", "now"))


# The versions Kibana's own sample objects declare (home/server/services/sample_data/data_sets/ecommerce/
# saved_objects.ts): with them, only the migrations newer than these run on import. Without them every
# migration runs, and the index-pattern one of 7.11.0 keeps `allowNoIndex` only for ids logs-* and metrics-*,
# so Discover would report missing indices before the first event (or the first alert) exists.
MIGRATED_TO = {"index-pattern": "7.11.0", "search": "7.9.3", "dashboard": "8.7.0"}


def test_every_saved_object_declares_the_versions_it_is_written_for() -> None:
    for path in sorted(KIBANA.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            obj = json.loads(line)
            assert obj.get("coreMigrationVersion") == "8.8.0", (path.name, obj["id"])
            wanted = MIGRATED_TO[obj["type"]]
            assert obj.get("typeMigrationVersion") == wanted, (path.name, obj["id"], obj.get("typeMigrationVersion"))
            if obj["type"] == "index-pattern":
                assert obj["attributes"]["allowNoIndex"] is True, obj["id"]


def test_every_column_declares_the_data_type_of_its_field() -> None:
    """Kibana writes a column's dataType from the data view's field type (`ip` for source.ip, not `string`)."""
    for d in by_type("dashboard"):
        for layer in lens_layers(d):
            for col in layer.columns.values():
                field = col.get("sourceField")
                if field and field != "___records___" and col["operationType"] not in ("unique_count", "count"):
                    assert col["dataType"] == dashboards.data_type(field), (layer.title, field, col["dataType"])
    security = {x.title: x for x in lens_layers(dashboard("logplatform-security"))}
    assert any(
        c.get("sourceField") == "source.ip" and c["dataType"] == "ip"
        for x in security.values()
        for c in x.columns.values()
    )
