"""`logplatform search`: the query language people type in Kibana, against a running backend, newest first."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner

from logplatform import kql
from logplatform.api_keys import KeyStore
from logplatform.cli import main
from logplatform.reading import since
from tests.support.backend_process import BackendProcess
from tests.support.search_engine import SearchEngine


def test_since_reads_spans_and_refuses_others() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert since("15m", now) == (now - timedelta(minutes=15)).isoformat()
    assert since("2d", now) == (now - timedelta(days=2)).isoformat()
    with pytest.raises(ValueError, match="15m, 2h, 7d"):
        since("yesterday", now)


def test_kql_as_people_type_it_becomes_query_dsl() -> None:
    dsl = kql.to_dsl(kql.parse('service.name : "pay" and not log.level : info and timeout'))
    assert dsl == {
        "bool": {
            "filter": [
                {"match_phrase": {"service.name": "pay"}},
                {"bool": {"must_not": [{"match_phrase": {"log.level": "info"}}]}},
                {"match": {"message": {"query": "timeout", "operator": "and"}}},  # no field: free text in message
            ]
        }
    }
    assert kql.to_dsl(kql.parse("user.name : adm*")) == {"wildcard": {"user.name": {"value": "adm*"}}}
    words = kql.to_dsl(kql.parse("card declined or service.name : x"))
    assert words["bool"]["should"][0] == {"match": {"message": {"query": "card declined", "operator": "and"}}}
    assert kql.to_dsl(kql.parse('"card declined"')) == {"match_phrase": {"message": "card declined"}}
    with pytest.raises(ValueError, match="unexpected"):
        kql.parse("log.level : error )")


@pytest.fixture(scope="module")
def running(installed: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    work = tmp_path_factory.mktemp("search-cli")
    stream = "logs-logplatform-searchcli"
    backend = BackendProcess(work, installed.client_url, work / "volume", stream)
    backend.start()
    now = datetime.now(UTC)
    events = [
        {"service": "payments", "level": "error", "message": "card declined: timeout at the provider"},
        {"service": "payments", "level": "info", "message": "card accepted"},
        {"service": "orders", "level": "error", "message": "inventory timeout"},
        {"service": "auth", "level": "warning", "message": "login failed", "user": {"name": "admin"}},
    ]
    for i, event in enumerate(events):
        event["@timestamp"] = (now - timedelta(minutes=len(events) - i)).isoformat()
    old = {"service": "payments", "level": "error", "message": "an old timeout", "@timestamp": "2026-01-01T00:00:00Z"}
    answer = httpx.post(f"{backend.url}/logs", json=[*events, old], headers={"X-API-Key": backend.key}, timeout=30)
    assert answer.status_code == 200, answer.text
    installed.refresh(stream)
    yield backend
    backend.stop()
    installed.cluster.request("DELETE", f"/_data_stream/{stream}")


def _search(backend: BackendProcess, *args: str) -> list[str]:
    result = CliRunner().invoke(main, ["search", *args, "--url", backend.url, "--api-key", backend.key])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


@pytest.mark.engine
def test_search_with_kql_newest_first_one_json_document_a_line(running: BackendProcess) -> None:
    lines = _search(running, "log.level : error and timeout")
    messages = [json.loads(line)["message"] for line in lines]
    assert messages == ["inventory timeout", "card declined: timeout at the provider", "an old timeout"]
    recent = _search(running, "timeout", "--since", "1h", "--service", "payments")
    assert [json.loads(line)["message"] for line in recent] == ["card declined: timeout at the provider"]
    assert [json.loads(x)["user"]["name"] for x in _search(running, "user.name : adm*")] == ["admin"]
    assert len(_search(running, "--limit", "2")) == 2


@pytest.mark.engine
def test_search_for_a_person_shows_time_service_level_and_message(running: BackendProcess) -> None:
    (line,) = _search(running, "card accepted", "--format", "text")
    assert line.split()[1:] == ["payments", "INFO", "card", "accepted"]


@pytest.mark.engine
def test_search_says_what_is_wrong(running: BackendProcess) -> None:
    bad = CliRunner().invoke(main, ["search", "level : (", "--url", running.url, "--api-key", running.key])
    assert bad.exit_code == 1 and "422" in bad.output and "kql" in bad.output
    writer = KeyStore(running.keys_file).create("writer")  # ingest only
    time.sleep(KeyStore.RELOAD_EVERY_S + 0.5)  # the backend sees a new key within a second
    refused = CliRunner().invoke(main, ["search", "--url", running.url, "--api-key", writer])
    assert refused.exit_code == 1 and "403" in refused.output and "--scope read" in refused.output
