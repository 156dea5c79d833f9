"""Every raw line in es/ingest-pipelines/_dev/test/pipeline/ becomes exactly the expected document,
both through _simulate and when really indexed into the data stream (mappings applied)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from logplatform import assets, names
from logplatform.event_ids import new_event_id
from tests.support.pipeline_cases import GENERATE, Case, all_cases, comparable, simulate
from tests.support.search_engine import SearchEngine

CASES = all_cases()
STEP_FILES = assets.ES_DIR / "ingest-pipelines" / "event"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40
    lines = sum(len(c.lines()) for c in CASES)
    assert lines >= 60


@pytest.mark.engine
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_simulate_matches_expected(installed: SearchEngine, case: Case) -> None:
    # _simulate shows "_id" where the pipeline set no id
    docs = simulate(installed, case.inputs())
    got = [comparable(d["_id"] if d["_id"] != "_id" else None, d["_source"]) for d in docs]
    if GENERATE:
        case.write_expected(got)
    assert got == case.expected()


@pytest.mark.engine
def test_indexed_documents_match_expected(installed: SearchEngine, data_stream: str) -> None:
    """Bulk-index every case into a real data stream, then read each document back by its id."""
    docs: list[tuple[Case, dict, dict]] = []
    bulk = []
    for case in CASES:
        for source, expected in zip(case.inputs(), case.expected(), strict=True):
            docs.append((case, source, expected))
            bulk.append(json.dumps({"create": {"_index": data_stream}}))
            bulk.append(json.dumps(source))
    status, result = installed.cluster.request("POST", "/_bulk?refresh=true", "\n".join(bulk) + "\n")
    assert status == 200
    created, conflicts = [], []
    for (case, _source, expected), item in zip(docs, result["items"], strict=True):
        outcome = item["create"]
        if outcome["status"] == 409:
            conflicts.append(case.name)  # a re-sent event: same _id as the first copy
            continue
        assert outcome["status"] == 201, f"{case.name}: {outcome}"
        if expected["_id"]:
            assert outcome["_id"] == expected["_id"], case.name
        created.append((case, outcome["_id"], expected))
    assert conflicts == ["resend-with-event-id"], "only the re-sent event is refused as a duplicate"

    hits = installed.search(data_stream, {"size": 1000, "query": {"match_all": {}}})["hits"]["hits"]
    by_id = {h["_id"]: h["_source"] for h in hits}
    assert len(hits) == len(created)
    namespace = data_stream.rsplit("-", 1)[1]  # the expected documents were made for logs-logplatform-default
    for case, doc_id, expected in created:
        if "data_stream" in expected:
            expected = {**expected, "data_stream": {**expected["data_stream"], "namespace": namespace}}
        assert comparable(expected["_id"], by_id[doc_id]) == expected, case.name


@pytest.mark.engine
def test_no_case_falls_into_the_pipeline_failure_handler(installed: SearchEngine) -> None:
    """The failure handler keeps a document, but only the normal path normalizes it: none may end there."""
    for case in CASES:
        for doc in simulate(installed, case.inputs()):
            assert doc["_source"].get("error", {}).get("type") != "logplatform.pipeline_failure", (
                case.name,
                doc["_source"]["error"],
            )


@pytest.mark.engine
def test_a_failing_processor_is_named_in_the_kept_document(installed: SearchEngine) -> None:
    """Should a processor ever fail, the document is kept and error.message says which one (its type and tag),
    as Elastic's integrations report it: the event pipeline with a failing processor put first."""
    pipeline = assets.pipeline_body(names.EVENT_PIPELINE)
    pipeline["processors"].insert(0, {"fail": {"tag": "made-to-fail", "message": "a test failure"}})
    line = CASES[0].inputs()[0]
    out = installed.cluster.ok(
        "POST", "/_ingest/pipeline/_simulate", {"pipeline": pipeline, "docs": [{"_source": line}]}
    )
    kept = out["docs"][0]["doc"]["_source"]
    assert kept["error"]["type"] == "logplatform.pipeline_failure" and kept["message"] == line["message"]
    assert "in its fail processor 'made-to-fail'" in kept["error"]["message"], kept["error"]
    assert "a test failure" in kept["error"]["message"]


def _painless_function(name: str) -> str:
    """One function of the event pipeline's scripts, as its text (from its signature to the closing brace at column
    0)."""
    source = "\n".join(assets.script_source(f"event/{p.name}") for p in sorted(STEP_FILES.glob("*.painless")))
    start = source.index(f" {name}(")
    start = source.rindex("\n", 0, start) + 1
    return source[start : source.index("\n}\n", start) + 3]


@pytest.mark.engine
@pytest.mark.parametrize(
    ("clock", "stored"),
    [
        ("2026-12-01T16:32:13.123456789Z", "2026-12-01T16:32:13.123Z"),
        ("2026-12-01T16:32:13.123456Z", "2026-12-01T16:32:13.123Z"),
        ("2026-12-01T16:32:13.1Z", "2026-12-01T16:32:13.100Z"),
        ("2026-12-01T16:32:13Z", "2026-12-01T16:32:13.000Z"),  # java.time leaves out a zero fraction...
        ("2026-12-01T16:32Z", "2026-12-01T16:32:00.000Z"),  # ...and zero seconds
        ("2026-12-01T16:32:13.987654321+01:00", "2026-12-01T16:32:13.987+01:00"),
    ],
)
def test_ingest_time_is_kept_to_the_millisecond(installed: SearchEngine, clock: str, stored: str) -> None:
    """The engine's clock (_ingest.timestamp, rendered by java.time) cut to what the date field keeps, in
    whatever shape java.time prints it: the painless function itself, run by the engine."""
    script = _painless_function("toMillis") + "return toMillis(params.t);"
    out = installed.cluster.ok(
        "POST", "/_scripts/painless/_execute", {"script": {"source": script, "params": {"t": clock}}}
    )
    assert out["result"] == stored


@pytest.mark.engine
def test_a_version_7_event_id_is_the_document_id_as_its_bytes(installed: SearchEngine) -> None:
    """The ids our producers make (logplatform/event_ids.py) become document ids that keep their time order (the
    engine compares the bytes a base64url id stands for), in either case; anything else is not taken as one (the
    pipeline then hashes it, as the case file test-ordered-event-ids.log shows)."""
    ids = [new_event_id() for _ in range(300)]
    not_ordered = [str(uuid.uuid4()), ids[0].replace("-", ""), ids[0][:19] + "c" + ids[0][20:], ids[0][:-1] + "\u0669"]
    script = _painless_function("orderedId") + (
        "List out = []; for (String i : params.ids) { out.add(String.valueOf(orderedId(i))); }"
        " return String.join(' ', out);"
    )
    sent = ids + [i.upper() for i in ids] + not_ordered
    out = installed.cluster.ok(
        "POST", "/_scripts/painless/_execute", {"script": {"source": script, "params": {"ids": sent}}}
    )
    got = [None if d == "null" else d for d in out["result"].split(" ")]
    expected = [base64.urlsafe_b64encode(uuid.UUID(i).bytes).decode().rstrip("=") for i in ids]
    assert got[: len(ids)] == expected and got[len(ids) : 2 * len(ids)] == expected
    assert got[2 * len(ids) :] == [None] * len(not_ordered)
    assert [base64.urlsafe_b64decode(d + "==") for d in expected] == sorted(uuid.UUID(i).bytes for i in ids)


def _patterns(installed: SearchEngine, events: list[dict[str, str]]) -> list[dict[str, str]]:
    docs = simulate(installed, [{"message": json.dumps(e)} for e in events])
    return [d["_source"]["logplatform"]["pattern"] for d in docs]


@pytest.mark.engine
@pytest.mark.parametrize(
    ("message", "pattern"),
    [
        ("Payment 5123 failed", "Payment <num> failed"),
        ("user 'bob' not found", "user <str> not found"),
        ('key="some value" other=42', "key=<str> other=<num>"),
        ("GET /api/users/123 took 125ms", "GET /api/users/<num> took <num>ms"),
        ("order ORD-12345 shipped to alice@example.com", "order ORD-<num> shipped to [email]"),  # masked first
        ("connection to 10.0.0.5:5432 refused", "connection to <ip> refused"),
        ("trace 3fa85f64-5717-4562-b3fc-2c963f66afa6 done", "trace <uuid> done"),
        ("object deadbeef42 missing", "object <hex> missing"),
        ("retrying in 3s (attempt 2/5)", "retrying in <num>s (attempt <num>/<num>)"),
        ("disk 95% full.", "disk <num>% full."),
        ("timeout at 12:30:45 on 2026-12-01", "timeout at <num> on <num>"),
        ("it's done", "it's done"),  # an apostrophe is not a quoted value
        ("Database connection pool exhausted", "Database connection pool exhausted"),
        ("ValueError: bad row 17\n  File 'x.py', line 3", "ValueError: bad row <num>"),  # the first line only
    ],
)
def test_a_message_pattern_replaces_the_variable_parts(installed: SearchEngine, message: str, pattern: str) -> None:
    (got,) = _patterns(installed, [{"service": "svc", "message": message}])
    assert got["text"] == pattern


@pytest.mark.engine
def test_pattern_ids_group_what_differs_only_in_values(installed: SearchEngine) -> None:
    """The id is the pattern's per service: the same error with other ids is one pattern; another error, or the
    same one in another service, is another."""
    same_a, same_b, other, elsewhere, no_message = _patterns(
        installed,
        [
            {"service": "payment", "message": "Payment 5123 failed for user 42 after 300ms"},
            {"service": "payment", "message": "Payment 98 failed for user 7 after 12ms"},
            {"service": "payment", "message": "Payment 5123 refused for user 42 after 300ms"},
            {"service": "orders", "message": "Payment 5123 failed for user 42 after 300ms"},
            {"service": "payment", "error": {"message": "socket closed by 10.1.2.3"}},
        ],
    )
    assert same_a == same_b and len(same_a["id"]) == 12
    assert other["id"] != same_a["id"] and elsewhere["id"] != same_a["id"]
    assert elsewhere["text"] == same_a["text"]
    assert no_message["text"] == "socket closed by <ip>"  # error.message when there is no message


def _through(installed: SearchEngine, options: assets.PipelineOptions, event: dict[str, Any]) -> dict[str, Any]:
    """One event through the event pipeline as setup would install it with these options."""
    body = {
        "pipeline": assets.pipeline_body(names.EVENT_PIPELINE, options),
        "docs": [{"_index": names.DATA_STREAM, "_source": {"message": json.dumps(event)}}],
    }
    doc: dict[str, Any] = installed.cluster.ok("POST", "/_ingest/pipeline/_simulate", body)["docs"][0]["doc"]["_source"]
    return doc


@pytest.mark.engine
def test_what_log_mask_names_is_what_is_masked(installed: SearchEngine) -> None:
    """LOG_MASK as setup applies it: none leaves every value as it came; user_email, off by default, masks the
    explicit user.email field when named."""
    event = {"message": "mail jane@example.com card 4111 1111 1111 1111", "user": {"email": "jane@example.com"}}
    default = _through(installed, assets.PipelineOptions(), event)
    assert default["message"] == "mail [email] card [card]" and default["user"]["email"] == "jane@example.com"
    assert default["logplatform"]["masked"] == {"email": 1, "card": 1} and "_lp_pii_masked" in default["tags"]
    nothing = _through(installed, assets.PipelineOptions(mask=assets.PipelineOptions.parse_mask("none")), event)
    assert nothing["message"] == event["message"] and "masked" not in nothing["logplatform"]
    assert "tags" not in nothing
    everything = _through(installed, assets.PipelineOptions(mask=assets.PipelineOptions.parse_mask("all")), event)
    assert everything["user"]["email"] == "[email]" and everything["logplatform"]["masked"]["user_email"] == 1
    only_cards = _through(installed, assets.PipelineOptions(mask=frozenset({"card"})), event)
    assert only_cards["message"] == "mail jane@example.com card [card]"


@pytest.mark.engine
def test_the_raw_line_does_not_keep_what_the_document_hides(installed: SearchEngine) -> None:
    """With every raw line kept (LOG_KEEP_ORIGINAL=true), event.original is masked like the fields it repeats."""
    event = {"message": "login password=hunter2 from jane@example.com", "service": "auth"}
    doc = _through(installed, assets.PipelineOptions(keep_original=True), event)
    assert doc["message"] == "login password=[secret] from [email]"
    assert "hunter2" not in doc["event"]["original"] and "jane@example.com" not in doc["event"]["original"]
    assert doc["logplatform"]["masked"] == {"secret": 1, "email": 1}  # counted once: the raw line repeats them
