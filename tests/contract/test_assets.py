"""The es/ assets agree with each other, and setup installs them idempotently on a real engine."""

from __future__ import annotations

import json

import pytest

from logplatform import assets, names
from tests.support.search_engine import SearchEngine


def test_pipeline_type_table_equals_the_mapping() -> None:
    scripts = assets.script_processors()
    document = scripts["document"]
    assert document["source"].startswith(assets.script_source("event/common.painless") + "\n")
    assert document["source"].endswith("\n" + assets.script_source("event/run-document.painless"))
    for processor in ("event", "document"):  # the two that read the table
        assert scripts[processor]["params"]["fields"] == assets.mapped_field_types(), (
            "the pipeline's script_params.fields must be regenerated from the mapping: "
            "python -m logplatform.assets --print-field-table"
        )
    assert document["params"]["ecs_version"] == names.ECS_VERSION


def test_index_template_outranks_elasticsearch_builtin_logs_template() -> None:
    template = assets.load_json("index-templates/logs-logplatform.json")
    assert template["priority"] > 100  # Elasticsearch's built-in logs-*-* template has 100
    assert names.DATA_STREAM.startswith(template["index_patterns"][0].rstrip("*"))
    assert "data_stream" in template


def test_elasticsearch_only_pieces_are_only_installed_on_elasticsearch() -> None:
    on_os = {a.path for a in assets.assets_for("opensearch")}
    on_es = {a.path for a in assets.assets_for("elasticsearch")}
    assert on_es - on_os == {
        f"/_ilm/policy/{names.ILM_POLICY}",
        f"/_component_template/{names.LIFECYCLE_COMPONENT}",
        f"/_component_template/{names.INDEX_MODE_COMPONENT}",
    }
    template_path = f"/_index_template/{names.INDEX_TEMPLATE}"
    es_template = next(a for a in assets.assets_for("elasticsearch") if a.path == template_path)
    assert {names.LIFECYCLE_COMPONENT, names.INDEX_MODE_COMPONENT} <= set(es_template.body["composed_of"])
    assert es_template.body["template"]["data_stream_options"] == {"failure_store": {"enabled": True}}
    os_template = next(a for a in assets.assets_for("opensearch") if a.path == template_path)
    assert "template" not in os_template.body


@pytest.mark.engine
def test_install_is_idempotent(installed: SearchEngine) -> None:
    again = assets.install(installed.cluster, installed.kind)
    assert [r.name for r in again if r.changed] == []
    # a changed asset is put back
    installed.cluster.ok(
        "PUT",
        f"/_ingest/pipeline/{names.PIPELINE}",
        {"description": "tampered", "processors": [{"set": {"field": "x", "value": 1}}]},
    )
    fixed = assets.install(installed.cluster, installed.kind)
    assert [r.name for r in fixed if r.changed] == [names.PIPELINE]
    assert (
        installed.cluster.ok("GET", f"/_ingest/pipeline/{names.PIPELINE}")[names.PIPELINE]["processors"]
        == assets.pipeline_body()["processors"]
    )


@pytest.mark.engine
def test_install_removes_what_an_earlier_version_left(installed: SearchEngine) -> None:
    """An upgraded cluster ends up holding what a new one does: the stored scripts of earlier versions go."""
    old = "/_scripts/logs-logplatform-normalize"
    installed.cluster.ok("PUT", old, {"script": {"lang": "painless", "source": "ctx.old = true"}})
    changed = [str(r) for r in assets.install(installed.cluster, installed.kind) if r.changed]
    assert changed == ["asset logs-logplatform-normalize: removed (obsolete)"]
    assert installed.cluster.request("GET", old)[0] == 404
    assert [r.name for r in assets.install(installed.cluster, installed.kind) if r.changed] == []


@pytest.mark.engine
def test_data_stream_uses_our_mapping_and_pipeline(installed: SearchEngine, data_stream: str) -> None:
    line = json.dumps(
        {
            "service": "auth-service",
            "level": "ERROR",
            "message": "Login failed",
            "meta": {"user_id": 123, "ip": "1.1.1.1"},
        }
    )
    # no pipeline named in the request: the data stream's default_pipeline applies it
    installed.cluster.ok(
        "POST", f"/{data_stream}/_doc?refresh=true", {"@timestamp": "2026-01-01T00:00:00Z", "message": line}
    )
    mapping = installed.cluster.ok("GET", f"/{data_stream}/_mapping")
    props = next(iter(mapping.values()))["mappings"]["properties"]
    assert props["source"]["properties"]["ip"]["type"] == "ip"
    assert props["message"]["type"] == "match_only_text"
    hits = installed.search(
        data_stream,
        {
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"service.name": "auth-service"}},
                        {"term": {"log.level": "error"}},
                        {"term": {"source.ip": "1.1.1.0/24"}},
                        {"match": {"message": "login"}},
                    ]
                }
            }
        },
    )["hits"]["hits"]
    assert len(hits) == 1 and hits[0]["_source"]["user"]["id"] == "123"


def test_retention_from_env_shapes_the_lifecycle_policy() -> None:
    policy = next(
        a for a in assets.assets_for("elasticsearch", assets.Retention("7d", "5gb")) if a.path.startswith("/_ilm/")
    )
    phases = policy.body["policy"]["phases"]
    assert phases["delete"]["min_age"] == "7d"
    assert phases["hot"]["actions"]["rollover"]["max_primary_shard_size"] == "5gb"
    default = next(a for a in assets.assets_for("elasticsearch") if a.path.startswith("/_ilm/"))
    assert default.body["policy"]["phases"]["delete"]["min_age"] == "30d"
    for bad in (("30 days", "5gb"), ("0d", "5gb"), ("7d", "big")):
        with pytest.raises(ValueError, match="LOG_"):
            assets.Retention(*bad)


def test_every_processor_has_a_tag_and_says_what_it_does() -> None:
    """As in Elastic's integrations: the tag is what the failure handler names (error.message), the description
    what a maintainer reads first."""
    for pipeline in (names.PIPELINE, names.EVENT_PIPELINE, names.DEAD_LETTER_PIPELINE):
        processors = [next(iter(p.values())) for p in assets.pipeline_body(pipeline)["processors"]]
        tags = [p.get("tag") for p in processors]
        assert all(tags) and len(set(tags)) == len(tags), (pipeline, tags)
        assert all(p.get("description") for p in processors), pipeline


def test_log_mask_reads_none_all_or_categories_and_refuses_the_rest() -> None:
    parse = assets.PipelineOptions.parse_mask
    assert parse("") == assets.DEFAULT_MASK and "user_email" not in parse("")
    assert parse("none") == frozenset() and parse("all") == frozenset(assets.PII_CATEGORIES)
    assert parse(" Email, card ") == {"email", "card"}
    with pytest.raises(ValueError, match="LOG_MASK: phone is not a category"):
        parse("email,phone")
