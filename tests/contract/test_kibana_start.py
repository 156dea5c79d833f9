"""What we hand Kibana starts it, as Elastic's image passes it (the stand-in's reading of kibana-docker and Kibana's
command line, tests/stack/test_kibana_standin.py), and kibana-setup goes on when Kibana is up but degraded."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from logplatform import doctor, secret_store
from logplatform.cli import main
from logplatform.setup import SetupError, setup_kibana
from tests.support.kibana_standin import load

ROTATION = "XPACK_ENCRYPTEDSAVEDOBJECTS_KEYROTATION_DECRYPTIONONLYKEYS"


def _kibana_env(secrets: Path) -> dict[str, str]:
    """The variables the kibana service exports from the secrets volume (docker-compose.yml)."""
    key = (secrets / "kibana_encryption_key").read_text()
    return {
        "ELASTICSEARCH_USERNAME": "kibana_system",
        "ELASTICSEARCH_PASSWORD": (secrets / "kibana_system_password").read_text(),
        "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY": key,
        "XPACK_SECURITY_ENCRYPTIONKEY": key,
        "XPACK_REPORTING_ENCRYPTIONKEY": key,
        ROTATION: (secrets / "kibana_decryption_only_keys").read_text(),
    }


def test_kibana_starts_with_every_old_key_after_three_key_changes(tmp_path: Path) -> None:
    """From the second change on the list holds several keys; Kibana's image must still start with it."""
    secrets = tmp_path / "secrets"
    secret_store.ensure(secrets, {})
    first = (secrets / "kibana_encryption_key").read_text()
    keys = [f"key-number-{n}-" + "x" * 32 for n in (2, 3, 4)]
    for key in keys:
        secret_store.ensure(secrets, {"KIBANA_ENCRYPTION_KEY": key})
    assert " " not in (secrets / "kibana_decryption_only_keys").read_text()
    conf = load().settings(_kibana_env(secrets))  # raises Refused (Kibana's exit 78) for a list with spaces
    assert conf["primary"] == keys[2]
    assert conf["old_keys"] == [keys[1], keys[0], first]


def test_a_list_written_with_spaces_by_an_earlier_version_is_rewritten(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secret_store.ensure(secrets, {})
    old = ["old-key-two-" + "b" * 32, "old-key-one-" + "a" * 32]
    (secrets / "kibana_decryption_only_keys").write_text(json.dumps(old))  # '["...", "..."]'
    done = secret_store.ensure(secrets, {})
    assert any("kibana_decryption_only_keys rewritten" in line for line in done)
    assert (secrets / "kibana_decryption_only_keys").read_text() == json.dumps(old, separators=(",", ":"))
    assert load().settings(_kibana_env(secrets))["old_keys"] == old
    assert not any("rewritten" in line for line in secret_store.ensure(secrets, {}))  # once


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KIBANA_ENCRYPTION_KEY", "1" * 40), ("KIBANA_SYSTEM_PASSWORD", "123456789012345678901234"),
     ("KIBANA_SYSTEM_PASSWORD", "-12.5e3000")],
)  # fmt: skip
def test_a_number_is_refused_where_kibana_reads_it_as_json(tmp_path: Path, variable: str, value: str) -> None:
    """Kibana would read it as a number: the key stops Kibana, the password becomes "1.2345678901234569e+23"."""
    result = CliRunner().invoke(
        main,
        ["setup", "certs-and-secrets", "--certs-dir", str(tmp_path / "certs"), "--secrets-dir",
         str(tmp_path / "secrets"), "--logs-dir", str(tmp_path / "logs"), "--keys-dir", str(tmp_path / "keys")],
        env={variable: value},
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"{variable} may not be a number" in result.output and "Fix it in .env" in result.output
    assert value not in result.output


def test_numbers_stay_allowed_where_kibana_does_not_read_them(tmp_path: Path) -> None:
    secret_store.ensure(tmp_path, {"ELASTIC_PASSWORD": "123456789012", "KIBANA_SYSTEM_PASSWORD": "0123456789"})
    assert (tmp_path / "elastic_password").read_text() == "123456789012"
    assert (tmp_path / "kibana_system_password").read_text() == "0123456789"  # not JSON: stays text in Kibana


def _kibana(code: int, overall: dict[str, str]) -> tuple[httpx.MockTransport, list[str]]:
    """Kibana answering GET /api/status as its status route does (200 unless core is unavailable)."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/api/status":
            core = {"elasticsearch": {"level": "available", "summary": "Elasticsearch is available"}}
            return httpx.Response(code, json={"name": "kibana", "status": {"overall": overall, "core": core}})
        if request.url.path == "/api/saved_objects/_import":
            return httpx.Response(200, json={"success": True, "successCount": 7})
        return httpx.Response(200, json={"acknowledged": True})

    return httpx.MockTransport(answer), calls


def test_setup_goes_on_when_kibana_is_degraded_and_says_so() -> None:
    degraded = {"level": "degraded", "summary": "0 service(s) and 1 plugin(s) are degraded: taskManager"}
    transport, calls = _kibana(200, degraded)
    said: list[str] = []
    setup_kibana("http://kibana:5601", "elastic", "pw", said.append, timeout=3, transport=transport)
    assert "/api/saved_objects/_import" in calls and "/api/data_views/default" in calls
    assert any("degraded" in line and "taskManager" in line for line in said), said


@pytest.mark.parametrize(
    ("code", "level"), [(503, "unavailable"), (200, "unavailable"), (503, "critical")]
)  # a plugin unavailable answers 200 with overall unavailable; core unavailable answers 503
def test_setup_keeps_waiting_while_kibana_is_unavailable(code: int, level: str) -> None:
    transport, calls = _kibana(code, {"level": level, "summary": "Elasticsearch is unavailable"})
    with pytest.raises(SetupError, match="not ready after 2s"):
        setup_kibana("http://kibana:5601", "elastic", "pw", lambda _: None, timeout=2, transport=transport)
    assert set(calls) == {"/api/status"}


@pytest.mark.parametrize(
    ("code", "level", "ok"), [(200, "available", True), (200, "degraded", True), (200, "unavailable", False),
                              (503, "critical", False)]
)  # fmt: skip
def test_doctor_counts_a_degraded_kibana_as_serving_and_names_the_plugin(
    monkeypatch: pytest.MonkeyPatch, code: int, level: str, ok: bool
) -> None:
    summary = "0 service(s) and 1 plugin(s) are degraded: taskManager"
    transport, _ = _kibana(code, {"level": level, "summary": summary})
    with httpx.Client(transport=transport, base_url="http://kibana:5601") as client:
        monkeypatch.setattr(doctor.httpx, "get", lambda url, **kw: client.get(url, auth=kw.get("auth")))
        context = doctor.Context(cluster=None, backend_url=None, kibana=("http://kibana:5601", "elastic", "pw"),  # type: ignore[arg-type]
                                 alerts_index="logplatform-alerts")  # fmt: skip
        if ok:
            assert doctor._kibana(context).startswith(level)
            if level == "degraded":
                assert "taskManager" in doctor._kibana(context)
        else:
            with pytest.raises(RuntimeError, match=f"answered {code}"):
                doctor._kibana(context)
