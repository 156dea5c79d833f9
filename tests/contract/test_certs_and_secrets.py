"""`logplatform setup certs-and-secrets`, the first step of `docker compose up -d`: certificates every client can
verify, secrets generated once and kept, values from .env validated and switched over."""

from __future__ import annotations

import json
import ssl
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from logplatform import certificates, secret_store
from logplatform.cli import main


def run(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "setup",
            "certs-and-secrets",
            "--certs-dir",
            str(tmp_path / "certs"),
            "--secrets-dir",
            str(tmp_path / "secrets"),
            "--logs-dir",
            str(tmp_path / "logs"),
            "--keys-dir",
            str(tmp_path / "keys"),
        ],
        env=env or {},
    )
    return result.exit_code, result.output


def test_node_certificates_verify_against_the_ca_for_every_name_clients_use(tmp_path: Path) -> None:
    code, out = run(tmp_path)
    assert code == 0, out
    certs = tmp_path / "certs"
    for node in certificates.NODES:
        context = ssl.create_default_context(cafile=str(certs / "ca" / "ca.crt"))
        cert = x509.load_pem_x509_certificate((certs / node.name / f"{node.name}.crt").read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(node.dns) <= set(sans.get_values_for_type(x509.DNSName))
        assert "127.0.0.1" in {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
        # the key and certificate load as a TLS server's pair (what Elasticsearch does with them)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(certs / node.name / f"{node.name}.crt", certs / node.name / f"{node.name}.key")
        assert context.verify_mode == ssl.CERT_REQUIRED
    ca = x509.load_pem_x509_certificate((certs / "ca" / "ca.crt").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_ca_key_is_not_readable_by_group_0(tmp_path: Path) -> None:
    run(tmp_path)
    certs = tmp_path / "certs"
    assert stat.S_IMODE((certs / "ca" / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((certs / "ca" / "ca.crt").stat().st_mode) == 0o640
    assert stat.S_IMODE((certs / "es01" / "es01.key").stat().st_mode) == 0o640


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    run(tmp_path)
    secrets = tmp_path / "secrets"
    first = {p.name: p.read_text() for p in secrets.iterdir()}
    assert set(first) == {s.file for s in secret_store.SPECS} | {secret_store.GENERATOR_API_KEY}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets.iterdir())
    assert len(first["kibana_encryption_key"]) >= 32 and first["generator_api_key"].startswith("lp_")
    ca_before = (tmp_path / "certs" / "ca" / "ca.crt").read_bytes()
    code, out = run(tmp_path)
    assert code == 0 and "nothing to do" in out
    assert {p.name: p.read_text() for p in secrets.iterdir()} == first
    assert (tmp_path / "certs" / "ca" / "ca.crt").read_bytes() == ca_before


def test_a_password_changed_in_env_keeps_the_old_one_for_the_switch_over(tmp_path: Path) -> None:
    run(tmp_path)
    old = (tmp_path / "secrets" / "elastic_password").read_text()
    code, out = run(tmp_path, {"ELASTIC_PASSWORD": "a-new-Password.1"})
    assert code == 0, out
    assert (tmp_path / "secrets" / "elastic_password").read_text() == "a-new-Password.1"
    assert (tmp_path / "secrets" / "elastic_password.previous").read_text() == old


def test_every_kibana_key_moved_away_from_stays_a_decryption_only_key(tmp_path: Path) -> None:
    """Saved objects encrypted with an old key stay readable only while Kibana is given that key: two
    rotations keep both old keys (newest first); going back to an old key takes it out of the list."""
    secrets = tmp_path / "secrets"
    run(tmp_path)
    generated = (secrets / "kibana_encryption_key").read_text()
    assert secret_store.decryption_only_keys(secrets) == []
    second, third = "k2-" + "b" * 40, "k3-" + "c" * 40
    for key in (second, third):
        code, out = run(tmp_path, {"KIBANA_ENCRYPTION_KEY": key})
        assert code == 0 and "kept in kibana_decryption_only_keys" in out, out
    assert (secrets / "kibana_encryption_key").read_text() == third
    assert json.loads((secrets / "kibana_decryption_only_keys").read_text()) == [second, generated]
    assert stat.S_IMODE((secrets / "kibana_decryption_only_keys").stat().st_mode) == 0o600
    code, out = run(tmp_path, {"KIBANA_ENCRYPTION_KEY": generated})
    assert code == 0, out
    assert secret_store.decryption_only_keys(secrets) == [third, second]
    code, out = run(tmp_path, {"KIBANA_ENCRYPTION_KEY": generated})  # unchanged: nothing moves
    assert secret_store.decryption_only_keys(secrets) == [third, second]


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("KIBANA_ENCRYPTION_KEY", "too-short-for-kibana", "at least 32 characters"),
        ("KIBANA_SYSTEM_PASSWORD", "abc", "at least 6 characters"),
        ("ELASTIC_PASSWORD", "has spaces in it", "may only contain"),
        ("FILEBEAT_PASSWORD", "glob*chars?", "may only contain"),
    ],
)
def test_a_secret_that_breaks_a_rule_is_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str, rule: str
) -> None:
    code, out = run(tmp_path, {variable: value})
    assert code == 1
    assert variable in out and rule in out and "Fix it in .env" in out
    assert not (tmp_path / "secrets").exists() or not any((tmp_path / "secrets").iterdir())  # nothing half-written
