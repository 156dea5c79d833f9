"""The event pipeline as named steps (es/ingest-pipelines/event/): a step that fails is named in the document kept;
every script the engine compiles stays well under its size limit; a line with text after its JSON object becomes the
same document whether the engine's json processor refuses it (Elasticsearch) or parses its first object (OpenSearch).
"""

from __future__ import annotations

from typing import Any

import pytest

from logplatform import assets, names
from tests.support.pipeline_cases import all_cases, comparable, simulate
from tests.support.search_engine import SearchEngine

# script.max_size_in_bytes: 65,535 by default on Elasticsearch 9 and OpenSearch 3; a script over it is refused and
# the pipeline does not install
MAX_SCRIPT_BYTES = 65_535
HEADROOM = 0.75


def _scripts(processors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(where, painless source) of every script the engine compiles for these processors: script processors and `if`
    conditions, in on_failure handlers too."""
    out = []
    for processor in processors:
        for kind, spec in processor.items():
            where = f"{kind} processor '{spec.get('tag')}'"
            if kind == "script":
                out.append((where, spec["source"]))
            if "if" in spec:
                out.append((f"if of the {where}", spec["if"]))
            out += _scripts(spec.get("on_failure", []))
    return out


@pytest.mark.parametrize("options", [assets.PipelineOptions(), assets.PipelineOptions(True, frozenset({"email"}))])
def test_every_inline_script_is_well_under_the_engines_size_limit(options: assets.PipelineOptions) -> None:
    for pipeline in (names.EVENT_PIPELINE, names.DEAD_LETTER_PIPELINE, names.PIPELINE):
        body = assets.pipeline_body(pipeline, options)
        for where, source in _scripts(body["processors"]) + _scripts(body.get("on_failure", [])):
            size = len(source.encode("utf-8"))
            assert size < HEADROOM * MAX_SCRIPT_BYTES, f"{pipeline}: the {where} is {size:,} bytes"


def test_every_processor_that_can_fail_has_a_tag_and_every_script_a_description() -> None:
    """As Elastic's integrations require of their pipelines: the tag is what error.message names."""
    processors = assets.pipeline_body(names.EVENT_PIPELINE)["processors"]
    for processor in processors:
        ((kind, spec),) = processor.items()
        assert spec.get("tag"), processor
        if kind == "script":
            assert spec.get("description"), spec["tag"]
    tags = [spec["tag"] for p in processors for spec in p.values()]
    assert len(tags) == len(set(tags)), tags


def _forced_to_fail(function: str, tag: str) -> dict[str, Any]:
    """The event pipeline as setup installs it, with one painless function of the step `tag` made to throw."""
    pipeline = assets.pipeline_body(names.EVENT_PIPELINE)
    script = next(p["script"] for p in pipeline["processors"] if p.get("script", {}).get("tag") == tag)
    source: str = script["source"]
    signature = source.index(f" {function}(")
    body = source.index("{", signature) + 1
    # painless refuses a statement after an unconditional throw: the condition only keeps the compiler quiet
    forced = " if (Math.abs(-1) > 0) { throw new IllegalStateException('forced failure'); }"
    script["source"] = source[:body] + forced + source[body:]
    return pipeline


@pytest.mark.engine
@pytest.mark.parametrize(
    ("function", "tag", "step"),
    [
        ("expandDots", "event", "decode"),
        ("takeTimestamp", "event", "timestamp"),
        ("takeTags", "event", "tags"),
        ("takeTheRest", "event", "the-rest"),
        ("guard", "document", "type-guard"),
        ("maskDocument", "document", "mask"),
        ("messagePattern", "document", "pattern"),
        ("shortId", "document", "document-id"),
        ("toMillis", "document", "received-time"),
        ("hugeValues", "document", "huge-values"),
        ("bounds", "document", "bounds"),
    ],
)
def test_a_failing_step_is_named_in_the_kept_document(
    installed: SearchEngine, function: str, tag: str, step: str
) -> None:
    """Should a step ever fail, the document is kept (error.type logplatform.pipeline_failure, the raw line in message)
    and error.message names the step: its script processor's tag and the step's name."""
    line = {
        "message": '{"service": "checkout", "level": "error", "message": "payment 42 failed", "tags": ["x"], "a": 1}',
        "log": {"file": {"path": "/var/log/logplatform/checkout.log"}, "offset": 0},
        "input": {"type": "filestream"},
    }
    body = {"pipeline": _forced_to_fail(function, tag), "docs": [{"_index": names.DATA_STREAM, "_source": line}]}
    kept = installed.cluster.ok("POST", "/_ingest/pipeline/_simulate", body)["docs"][0]["doc"]["_source"]
    assert kept["error"]["type"] == "logplatform.pipeline_failure" and kept["message"] == line["message"]
    message = kept["error"]["message"]
    assert f"in its script processor '{tag}'" in message and f"step '{step}': forced failure" in message, message


TRAILING = next(c for c in all_cases() if c.name == "json-trailing-content")


@pytest.mark.engine
@pytest.mark.parametrize("index", range(len(TRAILING.lines()) - 1))  # the last line has only whitespace after it
def test_text_after_the_json_object_makes_the_same_document_as_on_elasticsearch(
    installed: SearchEngine, index: int
) -> None:
    """Elasticsearch's json processor parses strictly (modules/ingest-common JsonProcessor.java, strict_json_parsing,
    true by default: after the value the parser must be at the end, else "The input ... is not valid JSON and the
    strict_json_parsing parameter is true"), so each of these lines fails it there, and the failure handler of our
    decode-line processor records why. The test engine's (OpenSearch's) parses the first object and ignores the rest:
    the case file holds what it makes. The same line through the pipeline with its json processor failing as
    Elasticsearch's does becomes the same document."""
    pipeline = assets.pipeline_body(names.EVENT_PIPELINE)
    decode = next(p["json"] for p in pipeline["processors"] if p.get("json", {}).get("tag") == "decode-line")
    strict = "The input {{{message}}} is not valid JSON and the strict_json_parsing parameter is true"
    pipeline["processors"] = [
        {"fail": {"tag": "decode-line", "message": strict, "on_failure": decode["on_failure"]}} if "json" in p else p
        for p in pipeline["processors"]
    ]
    source = TRAILING.inputs()[index]
    body = {"pipeline": pipeline, "docs": [{"_index": names.DATA_STREAM, "_source": source}]}
    doc = installed.cluster.ok("POST", "/_ingest/pipeline/_simulate", body)["docs"][0]["doc"]
    as_on_elasticsearch = comparable(doc["_id"], doc["_source"])
    (as_here,) = simulate(installed, [source])
    assert as_on_elasticsearch == comparable(as_here["_id"], as_here["_source"]) == TRAILING.expected()[index]
    assert as_on_elasticsearch["error"]["type"] == "logplatform.invalid_json"
