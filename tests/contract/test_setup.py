"""`logplatform setup elasticsearch` against the real engine: the first run installs, the second changes nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logplatform import names
from logplatform.api_keys import KeyStore, new_key
from logplatform.cli import main
from logplatform.cluster import Cluster
from tests.support.pipeline_cases import simulate
from tests.support.search_engine import SearchEngine
from tests.support.shipper import FILEBEAT, filebeat_doc
from tests.support.unreachable import unreachable_url

pytestmark = pytest.mark.engine


def test_setup_installs_then_is_a_no_op(engine: SearchEngine, tmp_path: Path) -> None:
    cluster = engine.cluster
    cluster.request("DELETE", f"/_index_template/{names.INDEX_TEMPLATE}")
    cluster.request("DELETE", f"/_ingest/pipeline/{names.PIPELINE}")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key = new_key()
    (secrets / "generator_api_key").write_text(key)
    keys = tmp_path / "api-keys.json"
    args = [
        "setup",
        "elasticsearch",
        "--url",
        cluster.url,
        "--secrets-dir",
        str(secrets),
        "--keys-file",
        str(keys),
        "--generator-rate-limit",
        "100",
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert f"asset {names.PIPELINE}: installed" in first.output
    assert "pipeline: checked with a test event" in first.output
    assert "done," in first.output
    stored = KeyStore(keys).verify(key)
    assert stored is not None and stored.name == "generator" and stored.rate_limit_per_s == 100
    assert stored.scopes == ["ingest"]  # the generator sends logs; it may not read them
    keys_before = keys.read_text()

    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "nothing to do" in second.output and "installed" not in second.output
    assert keys.read_text() == keys_before  # never resets a credential
    assert cluster.ok("GET", f"/_ingest/pipeline/{names.PIPELINE}")


def test_setup_waits_then_fails_clearly_when_nothing_answers(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["setup", "elasticsearch", "--url", "http://127.0.0.1:9", "--timeout", "2"])
    assert result.exit_code == 1
    assert "waiting" in result.output and "not ready after 2s" in result.output


def test_doctor_names_the_broken_hop_and_the_fix(installed: SearchEngine, data_stream: str) -> None:
    from logplatform.doctor import run_checks

    checks = {c.hop: c for c in run_checks(installed.cluster, "http://127.0.0.1:9", None)}
    assert checks["elasticsearch"].ok and checks["pipeline"].ok and checks["index template"].ok
    assert not checks["backend"].ok and "docker compose logs backend" in checks["backend"].fix
    result = CliRunner().invoke(main, ["doctor", "--url", installed.cluster.url, "--backend-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "ok   pipeline" in result.output and "FAIL backend" in result.output and "fix:" in result.output


def test_setup_goes_on_when_the_first_node_it_knows_is_down(engine: SearchEngine, tmp_path: Path) -> None:
    """The three-node profile gives setup every node: a node that is down is passed over, not fatal."""
    nodes = f"{unreachable_url()},{engine.cluster.url}"
    result = CliRunner().invoke(main, ["setup", "elasticsearch", "--url", nodes])
    assert result.exit_code == 0, result.output
    cluster = Cluster(nodes)
    assert cluster.ok("GET", f"/_index_template/{names.INDEX_TEMPLATE}")["index_templates"]
    assert cluster.url == engine.cluster.url  # stays on the node that answered
    cluster.close()
    with pytest.raises(httpx.TransportError):
        Cluster(f"{unreachable_url()},{unreachable_url()}").request("GET", "/")


def test_the_raw_line_is_kept_for_lines_that_did_not_parse_and_for_all_when_asked(engine: SearchEngine) -> None:
    """LOG_KEEP_ORIGINAL (setup's --keep-original): off by default, as in Elastic's integrations, so a line that
    parsed is stored once (its fields); a line that did not parse always keeps the raw line."""
    lines = ['{"message": "parsed", "service": "keep"}', '{"message": "broken JSON", ']
    shipped = [
        filebeat_doc(line, "/var/log/logplatform/keep.log", i * 100, agent=FILEBEAT) for i, line in enumerate(lines)
    ]
    try:
        for flag, parsed_keeps in (("--no-keep-original", False), ("--keep-original", True)):
            result = CliRunner().invoke(main, ["setup", "elasticsearch", "--url", engine.cluster.url, flag])
            assert result.exit_code == 0, result.output
            parsed, broken = (doc["_source"] for doc in simulate(engine, shipped))
            assert ("original" in parsed["event"]) is parsed_keeps, flag
            assert broken["event"]["original"] == lines[1] and broken["error"]["type"] == "logplatform.invalid_json"
        assert "event.original: kept for every line" in result.output
    finally:
        assert CliRunner().invoke(main, ["setup", "elasticsearch", "--url", engine.cluster.url]).exit_code == 0


def test_doctor_stops_at_elasticsearch_when_it_does_not_answer() -> None:
    """Nothing after the first hop can be checked without it: one line, with the fix, not ten timeouts."""
    from logplatform.doctor import run_checks

    checks = run_checks(Cluster(unreachable_url()), "http://127.0.0.1:9", ("http://127.0.0.1:9", "elastic", "x"))
    assert [(c.hop, c.ok) for c in checks] == [("elasticsearch", False)]
    assert "ConnectError" in checks[0].detail and "docker compose logs es01" in checks[0].fix
