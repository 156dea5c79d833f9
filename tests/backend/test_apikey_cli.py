"""`logplatform apikey`: the keys it makes open POST /logs, revoked ones do not."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from logplatform.api_keys import KeyStore
from logplatform.cli import main


def test_create_list_revoke(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.json"
    runner = CliRunner()
    keys = ["apikey", "--keys-file", str(store_file)]
    created = runner.invoke(main, [*keys, "create", "payments", "--rate-limit", "50"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("lp_")
    store = KeyStore(store_file)
    assert store.verify(key) is not None and store.verify(key).rate_limit_per_s == 50
    listed = runner.invoke(main, ["apikey", "--keys-file", str(store_file), "list"])
    assert "payments" in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    revoked = runner.invoke(main, ["apikey", "--keys-file", str(store_file), "revoke", "payments"])
    assert revoked.exit_code == 0
    assert KeyStore(store_file).verify(key) is None
    again = runner.invoke(main, ["apikey", "--keys-file", str(store_file), "revoke", "payments"])
    assert again.exit_code == 1


def test_a_key_gets_ingest_alone_unless_asked_and_list_shows_scopes(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.json"
    runner = CliRunner()
    keys = ["apikey", "--keys-file", str(store_file)]
    writer = runner.invoke(main, [*keys, "create", "shipper"]).stdout.strip()
    reader = runner.invoke(main, [*keys, "create", "me", "--scope", "read", "--scope", "ingest"]).stdout.strip()
    store = KeyStore(store_file)
    assert store.verify(writer).scopes == ["ingest"]  # type: ignore[union-attr]
    assert sorted(store.verify(reader).scopes) == ["ingest", "read"]  # type: ignore[union-attr]
    listed = runner.invoke(main, [*keys, "list"]).stdout
    assert "\tingest\t" in listed and ("\tread,ingest\t" in listed or "\tingest,read\t" in listed)
    refused = runner.invoke(main, [*keys, "create", "x", "--scope", "admin"])
    assert refused.exit_code == 2 and "admin" in refused.output
