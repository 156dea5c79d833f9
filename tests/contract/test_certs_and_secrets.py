"""`logplatform setup certs-and-secrets`, the first step of `docker compose up -d`: certificates every client can
verify, secrets generated once and kept, values from .env validated and switched over."""

from __future__ import annotations

import datetime
import json
import re
import ssl
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from logplatform import certificates, secret_store
from logplatform.cli import main
from tests.support.unreachable import unreachable_url


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


# --- renewal: a certificate near its expiry is issued again on the next start (issue 42) --------------------


def _handshake(ca_file: Path, certs: Path, node: str, hostname: str) -> None:
    """A TLS handshake, in memory, between a client that trusts `ca_file` and a server holding the node's pair,
    as Kibana, Filebeat and the backend meet Elasticsearch: raises unless the client verifies the server."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certs / node / f"{node}.crt", certs / node / f"{node}.key")
    client_ctx = ssl.create_default_context(cafile=str(ca_file))
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _reissue(certs: Path, name: str, valid_days: float, dns: tuple[str, ...] | None = None) -> None:
    """Issues `name`'s certificate again (the CA's own for "ca", with its own key) as if it had been made long
    ago: valid `valid_days` from now, with the given names. Written here with cryptography, not the module's
    functions, so that it stands for a certificate of any earlier version."""
    ca_key = serialization.load_pem_private_key((certs / "ca" / "ca.key").read_bytes(), password=None)
    ca = _cert(certs / "ca" / "ca.crt")
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    path = certs / name / f"{name}.crt"
    old = _cert(path)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(ca.subject)
        .public_key(old.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1000))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
    )
    for ext in old.extensions:
        if dns is not None and isinstance(ext.value, x509.SubjectAlternativeName):
            names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        else:
            builder = builder.add_extension(ext.value, critical=ext.critical)
    path.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def _sans(cert: x509.Certificate) -> set[str]:
    return {str(n.value) for n in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value}


def _files(certs: Path) -> dict[str, bytes]:
    return {str(p.relative_to(certs)): p.read_bytes() for p in sorted(certs.rglob("*")) if p.is_file()}


def _modes(certs: Path) -> dict[str, int]:
    return {str(p.relative_to(certs)): stat.S_IMODE(p.stat().st_mode) for p in [certs, *certs.rglob("*")]}


def _years_left(cert: x509.Certificate) -> float:
    return (cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days / 365


def test_a_node_certificate_near_its_expiry_is_renewed_by_the_same_ca_and_the_others_left_alone(
    tmp_path: Path,
) -> None:
    assert run(tmp_path)[0] == 0
    certs = tmp_path / "certs"
    _reissue(certs, "es01", valid_days=10)  # as if made almost 3 years ago
    before, modes = _files(certs), _modes(certs)
    old = _cert(certs / "es01" / "es01.crt")

    code, out = run(tmp_path)
    assert code == 0, out
    # one line, saying what, why and until when
    [said] = [line for line in out.splitlines() if "renewed" in line]
    assert "certificate es01" in said and "expires in 9 days" in said, said
    new = _cert(certs / "es01" / "es01.crt")
    assert f"valid until {new.not_valid_after_utc:%Y-%m-%d}" in said and _years_left(new) > 2.9
    after = _files(certs)
    # the CA is the same: everything that trusts it trusts the new certificate
    assert after["ca/ca.crt"] == before["ca/ca.crt"] and after["ca/ca.key"] == before["ca/ca.key"]
    assert after["es01/es01.crt"] != before["es01/es01.crt"]
    # the key is kept: only the .crt changes, so Elasticsearch never reloads a half-changed pair
    assert after["es01/es01.key"] == before["es01/es01.key"]
    assert _sans(new) == _sans(old) and new.subject == old.subject
    for hostname in ("es01", "elasticsearch", "localhost"):
        _handshake(certs / "ca" / "ca.crt", certs, "es01", hostname)
    # the certificates that are not due: the same bytes; and modes exactly as on the first start
    assert {k: v for k, v in after.items() if not k.startswith("es01/")} == {
        k: v for k, v in before.items() if not k.startswith("es01/")
    }
    assert _modes(certs) == modes
    assert _modes(certs)["ca/ca.key"] == 0o600 and _modes(certs)["es01/es01.crt"] == 0o640

    code, out = run(tmp_path)  # renewed once: the next start has nothing to do
    assert code == 0 and "nothing to do" in out and _files(certs) == after


def test_the_renewal_window_is_set_by_cert_renew_days(tmp_path: Path) -> None:
    assert run(tmp_path)[0] == 0
    certs = tmp_path / "certs"
    _reissue(certs, "es02", valid_days=60)
    before = _files(certs)
    code, out = run(tmp_path)  # 60 days left: outside the default window of 30
    assert code == 0 and "renewed" not in out and _files(certs) == before
    code, out = run(tmp_path, {"LOGPLATFORM_CERT_RENEW_DAYS": "90"})
    assert code == 0 and "renewed certificate es02" in out and "renewal window of 90 days" in out, out
    assert _years_left(_cert(certs / "es02" / "es02.crt")) > 2.9


def test_an_expired_certificate_and_one_whose_names_changed_are_issued_again(tmp_path: Path) -> None:
    assert run(tmp_path)[0] == 0
    certs = tmp_path / "certs"
    _reissue(certs, "es01", valid_days=-1 / 24 / 60)  # expired a minute ago
    _reissue(certs, "es02", valid_days=400, dns=("es02",))  # made before `localhost` was one of its names
    code, out = run(tmp_path)
    assert code == 0, out
    assert "renewed certificate es01 (expired on" in out, out
    assert "renewed certificate es02 (it names es02, not 127.0.0.1, es02, localhost)" in out, out
    assert "localhost" in _sans(_cert(certs / "es02" / "es02.crt"))
    for node, hostname in (("es01", "elasticsearch"), ("es02", "localhost")):
        _handshake(certs / "ca" / "ca.crt", certs, node, hostname)


def test_a_ca_near_its_expiry_is_renewed_with_its_own_key_so_old_and_new_copies_both_verify(
    tmp_path: Path,
) -> None:
    assert run(tmp_path)[0] == 0
    certs = tmp_path / "certs"
    _reissue(certs, "ca", valid_days=10)  # the CA of a platform started almost 3 years ago
    old_copy = tmp_path / "copied-ca.crt"  # what a client took with `docker compose cp`
    old_copy.write_bytes((certs / "ca" / "ca.crt").read_bytes())
    before = _files(certs)

    code, out = run(tmp_path)
    assert code == 0, out
    assert "renewed the certificate authority (expires in 9 days" in out, out
    assert "fetch ca.crt again" in out
    after = _files(certs)
    assert after["ca/ca.key"] == before["ca/ca.key"] and after["ca/ca.crt"] != before["ca/ca.crt"]
    assert _years_left(_cert(certs / "ca" / "ca.crt")) > 2.9
    # node certificates signed by the same key verify against both: no client breaks on the day of renewal
    assert {k: v for k, v in after.items() if k.startswith("es")} == {
        k: v for k, v in before.items() if k.startswith("es")
    }
    for ca_file in (certs / "ca" / "ca.crt", old_copy):
        _handshake(ca_file, certs, "es01", "es01")
    assert _modes(certs)["ca/ca.key"] == 0o600 and _modes(certs)["ca/ca.crt"] == 0o640


def test_doctor_shows_each_certificate_s_expiry_and_fails_on_one_within_the_window(tmp_path: Path) -> None:
    from logplatform.cluster import Cluster
    from logplatform.doctor import run_checks

    assert run(tmp_path)[0] == 0
    certs = tmp_path / "certs"
    down = unreachable_url()  # the certificates are checked even when Elasticsearch does not answer
    [ok, _] = run_checks(Cluster(down), None, None, certs_dir=certs)
    assert ok.hop == "certificates" and ok.ok, ok
    for subject in ("CN=Log-Platform CA", "CN=es01", "CN=es02", "CN=es03"):
        assert f"{subject} until " in ok.detail
    assert re.search(r"CN=es01 until \d{4}-\d\d-\d\d \(109[45] days left\)", ok.detail), ok.detail

    _reissue(certs, "es03", valid_days=12)
    [due, _] = run_checks(Cluster(down), None, None, certs_dir=certs)
    assert not due.ok and "1 within the renewal window of 30 days" in due.detail, due.detail
    assert re.search(r"CN=es03 until \S+ \(11 days left\)", due.detail) and "docker compose up -d" in due.fix
    # as the README runs it: the certificates found from --ca-certs (/certs/ca/ca.crt in the setup container)
    result = CliRunner().invoke(main, ["doctor", "--url", down, "--ca-certs", str(certs / "ca" / "ca.crt")])
    assert result.exit_code == 1
    assert re.search(
        r"^FAIL certificates +RuntimeError: 1 within the renewal window .*\(11 days left\)", result.output, re.M
    )
    assert "fix: docker compose up -d" in result.output
    # the next start renews it, and doctor is content again
    assert "renewed certificate es03" in run(tmp_path)[1]
    result = CliRunner().invoke(main, ["doctor", "--url", down, "--ca-certs", str(certs / "ca" / "ca.crt")])
    assert re.search(r"^ok   certificates +CN=Log-Platform CA until", result.output, re.M), result.output
