"""The Elasticsearch stand-in reloads its HTTP certificate when setup-certs renews it, as Elasticsearch does: the
files are polled (Elasticsearch: a FileWatcher per SSL file at `resource.reload.interval.high`, 5 s) and the next
handshakes use the new certificate, without a restart; a pair that does not load leaves the old one in use.

Sources: elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ssl/
SSLConfigurationReloader.java (startWatching: a FileWatcher for each of the configuration's dependent files, added
at Frequency.HIGH; ChangeListener.onFileChanged reloads the SSL context and logs "updated ... ssl contexts"),
server/src/main/java/org/elasticsearch/watcher/ResourceWatcherService.java (Frequency.HIGH: 5 seconds); Elastic's
docs, "Update TLS certificates" (deploy-manage/security/updating-certificates.md)."""

from __future__ import annotations

import importlib.util
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cryptography import x509

from logplatform import certificates
from tests.support.es_compat_proxy import CompatProxy
from tests.support.unreachable import unreachable_url

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "stack" / "standins" / "elasticsearch"


def _node() -> ModuleType:
    """The stand-in's node.py, with what the image puts beside it (bootstrap_checks, es_compat_proxy, security)."""
    for where in (STANDIN, REPO / "tests" / "support"):
        if str(where) not in sys.path:
            sys.path.append(str(where))
    spec = importlib.util.spec_from_file_location("standin_es_node", STANDIN / "node.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """The certs volume as setup-certs makes it, and the stand-in's TLS front on es01's pair, reloading every
    0.1 s (5 s in Elasticsearch and in the image)."""
    certs = tmp_path / "certs"
    certificates.ensure(certs)
    crt, key = certs / "es01" / "es01.crt", certs / "es01" / "es01.key"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    proxy = CompatProxy(unreachable_url(), 0, ssl_context=context).start()
    threading.Thread(target=_node().reload_certificates, args=(proxy.server, crt, key, 0.1), daemon=True).start()
    yield certs, proxy.server.server_address[1]
    proxy.server.shutdown()


def _served(port: int, ca: Path) -> x509.Certificate:
    """The certificate a client that trusts `ca` verifies for `localhost` (as through the published port)."""
    client = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _file(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _until_served(port: int, ca: Path, wanted: x509.Certificate, seconds: float = 5) -> x509.Certificate:
    deadline = time.monotonic() + seconds
    while (served := _served(port, ca)).serial_number != wanted.serial_number and time.monotonic() < deadline:
        time.sleep(0.1)
    return served


def test_a_renewed_certificate_is_served_without_a_restart(serving: tuple[Path, int]) -> None:
    certs, port = serving
    ca, crt = certs / "ca" / "ca.crt", certs / "es01" / "es01.crt"
    before = _served(port, ca)
    assert before.serial_number == _file(crt).serial_number
    assert certificates.ensure(certs, renew_days=5000)  # every certificate is "due": renewed as on the next up
    renewed = _file(crt)
    assert renewed.serial_number != before.serial_number
    assert _until_served(port, ca, renewed).serial_number == renewed.serial_number


def test_a_pair_that_does_not_load_leaves_the_old_certificate_in_use(serving: tuple[Path, int]) -> None:
    certs, port = serving
    ca, crt = certs / "ca" / "ca.crt", certs / "es01" / "es01.crt"
    before = _served(port, ca)
    crt.write_bytes((certs / "es02" / "es02.crt").read_bytes())  # another node's certificate: not es01's key
    time.sleep(0.5)
    assert _served(port, ca).serial_number == before.serial_number
