"""Our mappings against what Elasticsearch's logsdb index mode requires and changes (the test engine has no
logsdb, so these are checked here, from Elastic's documentation: "Logs data stream" and "Configure a logs data
stream", elastic.co/docs/manage-data/data-store/data-streams/logs-data-stream)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from logplatform import assets, names
from tests.support.dotted import dotted


def _fields(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in props.items():
        if "properties" in spec:
            out |= _fields(spec["properties"], f"{prefix}{name}.")
        else:
            out[f"{prefix}{name}"] = spec
    return out


MAPPED = _fields(assets.mappings_body()["template"]["mappings"]["properties"])
ON_ELASTICSEARCH = assets.assets_for("elasticsearch")


def test_the_index_mode_is_chosen_explicitly_on_elasticsearch() -> None:
    component = next(a for a in ON_ELASTICSEARCH if a.name == names.INDEX_MODE_COMPONENT)
    assert component.body["template"]["settings"]["index"]["mode"] == "logsdb"


def index_mode(stream: str, installed: list[assets.Asset]) -> str:
    """The index mode Elasticsearch 9 gives a new backing index of `stream`, from the templates `installed` puts: the
    highest-priority matching index template's `index.mode` (its own settings over its components'), and when it sets
    none, `logsdb` for a name matching `logs-*-*` (LogsdbIndexModeSettingsProvider: cluster.logsdb.enabled is true by
    default since 9.0), else `standard`."""
    components = {a.name: a.body for a in installed if a.path.startswith("/_component_template/")}
    template = max(
        (
            a.body
            for a in installed
            if a.path.startswith("/_index_template/") and any(fnmatchcase(stream, p) for p in a.body["index_patterns"])
        ),
        key=lambda t: t.get("priority", 0),
    )
    settings: dict[str, Any] = {}
    for name in template.get("composed_of", []):
        settings |= dotted(components[name].get("template", {}).get("settings", {}))
    settings |= dotted(template.get("template", {}).get("settings", {}))
    if "index.mode" in settings:
        return str(settings["index.mode"])
    return "logsdb" if fnmatchcase(stream, "logs-*-*") else "standard"


def test_the_dead_letter_stream_is_standard_and_the_logs_logsdb_on_elasticsearch() -> None:
    # The dead-letter stream's name matches logs-*-*: left unsaid, Elasticsearch 9 makes it logsdb too. It is kept
    # standard on purpose (docs/storage.md): the lines it holds are evidence, kept as they were sent
    assert index_mode(names.DEAD_LETTER_STREAM, ON_ELASTICSEARCH) == "standard"
    assert index_mode(names.DATA_STREAM, ON_ELASTICSEARCH) == "logsdb"
    # the test engine has no logsdb: the choice is Elasticsearch's, and no index.mode is ever sent to the test engine
    for asset in assets.assets_for("opensearch"):
        assert "index.mode" not in dotted(asset.body.get("template", {}).get("settings", {})), asset.name


def test_our_index_sort_is_one_both_engines_can_apply() -> None:
    # logsdb sorts on host.name, then @timestamp, unless the template sets index.sort (Elastic's "Configure a logs
    # data stream"). Every line shipped from the log volume has the same host.name, so ours sorts by service and
    # action instead, on both engines: bench/storage.py measures it against logsdb's (docs/storage.md)
    settings = assets.load_json("component-templates/logs-logplatform@settings.json")["template"]["settings"]
    sort = settings["index"]["sort"]
    assert sort["field"][-1] == "@timestamp" and sort["order"][-1] == "desc"  # newest first within a group
    assert len(sort["field"]) == len(sort["order"])
    for field in sort["field"]:  # a sort field must be single-typed with doc values
        assert MAPPED[field]["type"] in {"keyword", "date"} and MAPPED[field].get("doc_values", True), field
    assert MAPPED["host.name"]["type"] == "keyword"  # logsdb's own sort field stays sortable, should one want it


def test_nothing_logsdb_refuses_or_rewrites() -> None:
    mappings = assets.mappings_body()["template"]["mappings"]
    assert "_source" not in mappings  # logsdb chooses the source mode (synthetic with the license for it)
    assert mappings["dynamic"] is False  # logsdb's ignore_dynamic_beyond_limit never comes into play


def test_keyword_fields_bound_indexing_the_same_way_on_both_engines() -> None:
    # logsdb sets ignore_above 8191 on the keyword family unless the mapping says otherwise; ours always says,
    # so a value is searchable on Elasticsearch exactly when it is on the test engine
    for field, spec in MAPPED.items():
        if spec["type"] in {"keyword", "wildcard", "flattened"} and spec.get("index", True):
            assert 0 < spec.get("ignore_above", 0) <= 8191, field


def test_malformed_values_are_kept_the_same_way_on_both_engines() -> None:
    # logsdb defaults ignore_malformed to true; ours sets it where a malformed value can arrive
    for field, spec in MAPPED.items():
        if spec["type"] in {"long", "ip"}:
            assert spec.get("ignore_malformed") is True, field


def test_data_stream_fields_are_elastic_logs_template_ones() -> None:
    assert MAPPED["data_stream.type"] == {"type": "constant_keyword", "value": "logs"}
    assert MAPPED["data_stream.dataset"] == {"type": "constant_keyword", "value": names.DATA_STREAM.split("-")[1]}
    assert MAPPED["data_stream.namespace"] == {"type": "constant_keyword"}
