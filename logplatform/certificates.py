"""The cluster's certificate authority and node certificates, made once on first start.

The layout is the one `elasticsearch-certutil --pem` produces and Elastic's compose example mounts:
`ca/ca.crt`, `ca/ca.key`, `<node>/<node>.crt`, `<node>/<node>.key` (PEM, RSA 2048, PKCS#1 keys). Every
certificate names the node's service names and `localhost`/127.0.0.1, so clients verify the hostname both
inside the compose network and through the published port.

Permissions: certificates and node keys are readable by group 0 (Elasticsearch, Kibana, Filebeat and our
services run as uid 1000 in group 0); the CA key is root's alone, so no service can mint certificates the
cluster trusts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from logplatform.files import replace_whole

VALID_DAYS = 3 * 365  # certutil's default


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


def _builder(subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
    )


def make_ca(certs: Path) -> None:
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Log-Platform CA")])
    cert = (
        _builder(name, name, key.public_key())
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
    _write(certs / "ca" / "ca.key", _pem_key(key), 0o600)
    _write(certs / "ca" / "ca.crt", cert.public_bytes(serialization.Encoding.PEM), 0o640)


def make_node(certs: Path, node: Node) -> None:
    ca_key = serialization.load_pem_private_key((certs / "ca" / "ca.key").read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((certs / "ca" / "ca.crt").read_bytes())
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = _key()
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in node.dns]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node.name)]), ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # HTTP and transport TLS: each node is server and client of the others
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(certs / node.name / f"{node.name}.key", _pem_key(key), 0o640)
    _write(certs / node.name / f"{node.name}.crt", cert.public_bytes(serialization.Encoding.PEM), 0o640)


def ensure(certs: Path, nodes: tuple[Node, ...] = NODES) -> list[str]:
    """Makes what is missing; returns what it made. Existing certificates are never replaced."""
    made = []
    if not (certs / "ca" / "ca.crt").exists() or not (certs / "ca" / "ca.key").exists():
        make_ca(certs)
        made.append("certificate authority")
    for node in nodes:
        if not (certs / node.name / f"{node.name}.crt").exists():
            make_node(certs, node)
            made.append(f"certificate {node.name}")
    _permissions(certs)
    return made


def _permissions(certs: Path) -> None:
    """root:root, directories 750 and files 640 (group 0 reads), the CA key 600 (root only)."""
    for path in [certs, *certs.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, 0, 0)
        os.chmod(path, 0o750 if path.is_dir() else 0o640)
    os.chmod(certs / "ca" / "ca.key", 0o600)
