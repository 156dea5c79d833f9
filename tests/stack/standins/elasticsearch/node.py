"""The Elasticsearch stand-in's node: the test engine (OpenSearch) on 127.0.0.1 inside the container, and in
front of it, on 0.0.0.0:9200 with TLS, the compatibility proxy with the security and lifecycle APIs our setup
uses (security.py). Settings are read from the environment the way Elasticsearch's image reads them (dotted
names); what the stand-in cannot do, it refuses with a message (tests/stack/standins.md).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bootstrap_checks  # beside this file in the image
from es_compat_proxy import CompatProxy
from security import Security

HOME = Path(os.environ.get("ES_HOME", "/usr/share/elasticsearch"))
CONFIG = HOME / "config"
ENGINE_PORT = 9250
READY_MARK = "LOGPLATFORM-ENGINE-READY"


def setting(name: str, default: str | None = None) -> str | None:
    return os.environ.get(
        name, os.environ.get("ES_SETTING_" + name.upper().replace("_", "__").replace(".", "_"), default)
    )


def config_file(name: str) -> Path:
    value = setting(name)
    if not value:
        sys.exit(f"ERROR: {name} must be set when xpack.security.http.ssl.enabled is true")
    path = (CONFIG / value).resolve()
    # Elasticsearch 8.18+ refuses SSL files outside its config directory
    if not str(path).startswith(str(CONFIG) + "/"):
        sys.exit(f"ERROR: [{name}] {value} is outside the config directory {CONFIG}")
    if not path.is_file():
        sys.exit(f"ERROR: [{name}] cannot read {path}")
    return path


def reload_certificates(server: Any, certificate: Path, key: Path, every: float = 5.0) -> None:
    """As Elasticsearch's SSLConfigurationReloader: the HTTP layer's certificate and key files are polled (a
    FileWatcher each, at resource.reload.interval.high, 5 s); when one changes, the next handshakes use the
    files as they are now, without a restart. A pair that does not load is said, and the old one kept."""

    def seen() -> list[tuple[int, int] | None]:
        stamps: list[tuple[int, int] | None] = []
        for f in (certificate, key):
            try:
                stamps.append((f.stat().st_mtime_ns, f.stat().st_size))
            except OSError:  # gone for now: a change as well
                stamps.append(None)
        return stamps

    last = seen()
    while True:
        time.sleep(every)
        if (now := seen()) == last:
            continue
        last = now
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(certificate, key)
        except (ssl.SSLError, OSError) as exc:
            print(f"stand-in: failed to reload the ssl configuration, the old one is kept: {exc}", flush=True)
            continue
        server.context = context  # each new connection's handshake reads it (_TLSServer.finish_request)
        print(f"stand-in: updated the ssl context of xpack.security.http.ssl using [{certificate}]", flush=True)


def apply_disk_watermarks() -> None:
    """The watermark settings our compose file gives, applied to the engine (the test engine starts without)."""
    wanted = {k: v for k, v in os.environ.items() if k.startswith("cluster.routing.allocation.disk.")}
    if not wanted:
        return
    body = json.dumps({"persistent": {"cluster.routing.allocation.disk.threshold_enabled": True, **wanted}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{ENGINE_PORT}/_cluster/settings",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        print(f"stand-in: disk watermarks {wanted}: {answer.status}", flush=True)


def main() -> None:
    if (setting("xpack.security.enabled") or "true") != "true" or setting("xpack.security.http.ssl.enabled") != "true":
        sys.exit("ERROR (stand-in): runs with security and HTTP TLS on only, as our compose file sets them")
    certificate = config_file("xpack.security.http.ssl.certificate")
    key = config_file("xpack.security.http.ssl.key")
    # as Elasticsearch: enforced (exit 78) in a cluster bound beyond loopback, warnings only on a single node
    bootstrap_checks.check(setting, bootstrap_checks.Host.read())
    if (setting("discovery.type") or "multi-node") != "single-node":
        sys.exit(
            "ERROR (stand-in): the bootstrap checks passed, but a cluster of several nodes is not emulated: "
            "the stand-in runs discovery.type=single-node only (tests/stack/standins.md)"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    password_file = os.environ.get("ELASTIC_PASSWORD_FILE")
    bootstrap = Path(password_file).read_text().strip() if password_file else os.environ.get("ELASTIC_PASSWORD")

    data = HOME / "data"
    heap = os.environ.get("LOGPLATFORM_STANDIN_HEAP", "768m")
    engine = subprocess.Popen(
        [
            str(HOME / "jdk" / "bin" / "java"),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-Dlog4j2.disable.jmx=true",
            "-cp",
            f"{HOME / 'lib'}/*:{HOME / 'lib' / 'classes'}",
            "logplatform.testengine.TestEngine",
            str(data / "engine"),
            str(ENGINE_PORT),
            *([setting("path.repo")] if setting("path.repo") else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def stop(signum: int, _frame: object) -> None:
        engine.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    assert engine.stdout is not None
    proxy = None
    for line in engine.stdout:
        print(line, end="", flush=True)
        if proxy is None and READY_MARK in line:
            security = Security(
                data / "standin-security.json",
                bootstrap,
                setting("cluster.name") or "docker-cluster",
                setting("node.name") or "es01",
                float(os.environ.get("LOGPLATFORM_STANDIN_SECURITY_RECOVERY_S", "30")),
            )
            proxy = CompatProxy(
                f"http://127.0.0.1:{ENGINE_PORT}", 9200, host="0.0.0.0", ssl_context=context, hooks=security
            )
            apply_disk_watermarks()
            threading.Thread(target=proxy.server.serve_forever, daemon=True).start()
            threading.Thread(target=reload_certificates, args=(proxy.server, certificate, key), daemon=True).start()
            print("stand-in: Elasticsearch API on https://0.0.0.0:9200 (security on)", flush=True)
    code = engine.wait()
    if proxy is not None:
        proxy.server.shutdown()
    sys.exit(code)


if __name__ == "__main__":
    main()
