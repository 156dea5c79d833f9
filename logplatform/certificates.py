"""The cluster's certificate authority and node certificates, made once on first start.

The layout is the one `elasticsearch-certutil --pem` produces and Elastic's compose example mounts:
`ca/ca.crt`, `ca/ca.key`, `<node>/<node>.crt`, `<node>/<node>.key` (PEM, RSA 2048, PKCS#1 keys). Every
certificate names the node's service names and `localhost`/127.0.0.1, so clients verify the hostname both
inside the compose network and through the published port.

Permissions: certificates and node keys are readable by group 0 (Elasticsearch, Kibana, Filebeat and our
services run as uid 1000 in group 0); the CA key is root's alone, so no service can mint certificates the
cluster trusts.

Renewal: every start (`ensure`) renews a certificate that expires within the renewal window (RENEW_DAYS), has
expired, names other hosts than it would be issued for today, or was not issued by the CA. Both keep their
key: a node's certificate is re-signed by the same CA and only the .crt file changes (replaced whole), so
Elasticsearch, which watches its SSL files, never reads a key and certificate that do not belong together;
the CA is re-certified with its own key and name, so every certificate it signed, and every copy of the old
ca.crt a client holds, keeps verifying (the old copy until its own expiry date).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from logplatform.files import replace_whole

VALID_DAYS = 3 * 365  # certutil's default
RENEW_DAYS = 30  # renewed on the first start within this many days of expiry (CERT_RENEW_DAYS in .env)


@dataclass(frozen=True)
class Node:
    name: str
    dns: tuple[str, ...]


# es01 also answers as `elasticsearch` (its network alias); es02/es03 are the cluster profile's nodes
NODES = (
    Node("es01", ("es01", "elasticsearch", "localhost")),
    Node("es02", ("es02", "localhost")),
    Node("es03", ("es03", "localhost")),
)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_whole(path, data, mode=mode)  # a crash never leaves half a certificate behind


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey, valid_days: float
) -> x509.CertificateBuilder:
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def make_ca(certs: Path, valid_days: float = VALID_DAYS, key: rsa.RSAPrivateKey | None = None) -> None:
    """A new CA; with `key`, the same CA (name and key) certified again for `valid_days`."""
    new_key = key is None
    key = key or _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Log-Platform CA")])
    cert = (
        _builder(name, name, key.public_key(), valid_days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    if new_key:
        _write(certs / "ca" / "ca.key", _pem_key(key), 0o600)
    _write(certs / "ca" / "ca.crt", cert.public_bytes(serialization.Encoding.PEM), 0o640)


def _names(node: Node) -> list[x509.GeneralName]:
    """The subject alternative names a node's certificate is issued with today."""
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in node.dns]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    return names


def make_node(certs: Path, node: Node, valid_days: float = VALID_DAYS, key: rsa.RSAPrivateKey | None = None) -> None:
    """The node's certificate, signed by the CA; with `key`, for that key (only the .crt file is written)."""
    ca_key = _load_key(certs / "ca" / "ca.key")
    ca_cert = x509.load_pem_x509_certificate((certs / "ca" / "ca.crt").read_bytes())
    assert ca_key is not None, "the CA key does not load"
    new_key = key is None
    key = key or _key()
    cert = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node.name)]),
            ca_cert.subject,
            key.public_key(),
            valid_days,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_names(node)), critical=False)
        # HTTP and transport TLS: each node is server and client of the others
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    if new_key:
        _write(certs / node.name / f"{node.name}.key", _pem_key(key), 0o640)
    _write(certs / node.name / f"{node.name}.crt", cert.public_bytes(serialization.Encoding.PEM), 0o640)


def _expiry_reason(cert: x509.Certificate, renew_days: float, now: datetime.datetime) -> str | None:
    ends = cert.not_valid_after_utc
    if ends <= now:
        return f"expired on {ends:%Y-%m-%d}"
    if ends - now < datetime.timedelta(days=renew_days):
        return (
            f"expires in {days_left(cert, now)} days, on {ends:%Y-%m-%d}, within the renewal window "
            f"of {renew_days:g} days"
        )
    return None


def _node_reason(
    cert: x509.Certificate, node: Node, ca: x509.Certificate, renew_days: float, now: datetime.datetime
) -> str | None:
    """Why the node's certificate must be issued again, or None while it is good."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return "not issued by the current certificate authority"
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        has = {str(n.value) for n in san}
    except x509.ExtensionNotFound:
        has = set()
    wants = {str(n.value) for n in _names(node)}
    if has != wants:
        return f"it names {', '.join(sorted(has)) or 'no host'}, not {', '.join(sorted(wants))}"
    return _expiry_reason(cert, renew_days, now)


def _until(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return f"{cert.not_valid_after_utc:%Y-%m-%d}"


def ensure(certs: Path, nodes: tuple[Node, ...] = NODES, renew_days: float = RENEW_DAYS) -> list[str]:
    """Makes what is missing and renews what is due (see the module's docstring); returns one line for each."""
    done = []
    now = _now()
    ca_crt, ca_key_file = certs / "ca" / "ca.crt", certs / "ca" / "ca.key"
    ca_key = _load_key(ca_key_file)
    ca = _load_cert(ca_crt)
    if ca is None or ca_key is None or ca.public_key() != ca_key.public_key():
        make_ca(certs)
        done.append("certificate authority")
    else:
        reason = _expiry_reason(ca, renew_days, now)
        if reason:
            make_ca(certs, key=ca_key)
            done.append(
                f"renewed the certificate authority ({reason}), same key and name, now valid until "
                f"{_until(ca_crt)}; a copy of the old ca.crt keeps working until {ca.not_valid_after_utc:%Y-%m-%d}: "
                "fetch ca.crt again before then, and restart the services (they read it when they start)"
            )
    ca = x509.load_pem_x509_certificate(ca_crt.read_bytes())
    for node in nodes:
        crt = certs / node.name / f"{node.name}.crt"
        cert = _load_cert(crt)
        if cert is None:
            make_node(certs, node)
            done.append(f"certificate {node.name}")
            continue
        reason = _node_reason(cert, node, ca, renew_days, now)
        key = _load_key(certs / node.name / f"{node.name}.key")
        if key is not None and key.public_key() != cert.public_key():
            key = None
        if reason is None and key is None:
            reason = "its key is missing or does not match it"
        if reason:
            make_node(certs, node, key=key)
            done.append(f"renewed certificate {node.name} ({reason}): valid until {_until(crt)}")
    _permissions(certs)
    return done


def days_left(cert: x509.Certificate, now: datetime.datetime | None = None) -> int:
    """Whole days until the certificate expires (negative once it has)."""
    return (cert.not_valid_after_utc - (now or _now())).days


@dataclass(frozen=True)
class Expiry:
    path: Path
    subject: str
    not_after: datetime.datetime
    days_left: int


def expiries(certs: Path) -> list[Expiry]:
    """The CA's and every node's certificate in `certs` (readable by group 0, as doctor runs), CA first."""
    found = []
    for path in [certs / "ca" / "ca.crt", *sorted(p for p in certs.glob("*/*.crt") if p.parent.name != "ca")]:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        found.append(Expiry(path, cert.subject.rfc4514_string(), cert.not_valid_after_utc, days_left(cert)))
    return found


def _permissions(certs: Path) -> None:
    """root:root, directories 750 and files 640 (group 0 reads), the CA key 600 (root only)."""
    for path in [certs, *certs.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, 0, 0)
        os.chmod(path, 0o750 if path.is_dir() else 0o640)
    os.chmod(certs / "ca" / "ca.key", 0o600)
