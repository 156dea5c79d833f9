"""The Elasticsearch stand-in runs Elasticsearch's bootstrap checks exactly when Elasticsearch would: enforced
(exit 78, Elasticsearch's message) for the three-node profile's settings, warnings only for the single node."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "stack" / "standins" / "elasticsearch"
DOCS = "https://www.elastic.co/guide/en/elasticsearch/reference/9.3/"
FD = (
    "max file descriptors [{}] for elasticsearch process is too low, increase to at least [65535]; "
    f"for more information see [{DOCS}bootstrap-checks-file-descriptor.html]"
)
MAP = (
    "max virtual memory areas vm.max_map_count [{}] is too low, increase to at least [262144]; "
    f"for more information see [{DOCS}bootstrap-checks-max-map-count.html]"
)


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap_checks", STANDIN / "bootstrap_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bootstrap_checks"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


checks = _module()


def _env_file(path: Path) -> dict[str, str]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return dict(ln.split("=", 1) for ln in lines)


def node_env(node: str, profile: str) -> dict[str, str]:
    """The environment docker-compose.yml gives a node, with the env_file of the profile (cluster or single-node)."""
    service = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"][node]
    return {**{k: str(v) for k, v in service["environment"].items()}, **_env_file(REPO / "es" / "node" / profile)}


def host(**changes: Any) -> Any:
    default = dict(
        max_map_count=65530,
        max_file_descriptors=20000,
        max_threads=-1,
        max_virtual_memory=-1,
        max_file_size=-1,
        memory_lockable=False,
    )
    return checks.Host(**{**default, **changes})


def run(env: dict[str, str], machine: Any) -> tuple[int | None, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = None
    try:
        checks.check(env.get, machine, out, err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_three_node_profile_is_refused_by_the_stand_in_on_this_machine_as_elasticsearch_refuses(
    tmp_path: Path,
) -> None:
    """node.py itself, with es02's settings from our compose files: what `docker compose logs es02` shows here."""
    certs = tmp_path / "config" / "certs" / "es02"
    certs.mkdir(parents=True)
    (certs / "es02.crt").write_text("")
    (certs / "es02.key").write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "ES_HOME": str(tmp_path),
        "PYTHONPATH": f"{STANDIN}:{REPO / 'tests' / 'support'}:{REPO}",
        **node_env("es02", "cluster.env"),
    }
    proc = subprocess.run(
        [sys.executable, str(STANDIN / "node.py")], env=env, capture_output=True, text=True, timeout=60
    )
    # what this machine gives, read here independently of the stand-in
    map_count = int(Path("/proc/sys/vm/max_map_count").read_text())
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = [FD.format(nofile)] if 0 <= nofile < 65535 else []
    expected += [MAP.format(map_count)] if map_count < 262144 else []
    if not expected:
        assert proc.returncode == 1 and "not emulated" in proc.stderr, proc.stderr
        return
    n = len(expected)
    logged = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 78, proc.stderr
    assert logged[-1]["log.level"] == "ERROR"
    assert logged[-1]["log.logger"] == "org.elasticsearch.bootstrap.Elasticsearch"
    assert logged[-1]["message"].splitlines() == [
        "node validation exception",
        f"[{n}] bootstrap checks failed. You must address the points described in the following [{n}] lines "
        f"before starting Elasticsearch. For more information see [{DOCS}bootstrap-checks.html]",
        *(f"bootstrap check failure [{i}] of [{n}]: {e}" for i, e in enumerate(expected, 1)),
    ]
    assert proc.stderr.splitlines()[-2:] == [
        "ERROR: Elasticsearch did not exit normally - check the logs at /usr/share/elasticsearch/logs/log-platform.log",
        "ERROR: Elasticsearch exited unexpectedly, with exit code 78",
    ]


def test_single_node_default_only_warns() -> None:
    code, logged, err = run(node_env("es01", "single-node.env"), host())
    assert code is None and err == ""
    assert [(line["log.level"], line["message"]) for line in logged] == [
        ("WARN", FD.format(20000)),
        ("WARN", MAP.format(65530)),
    ]


def test_cluster_with_the_documented_fix_gets_past_max_map_count_and_fails_on_file_descriptors_only() -> None:
    code, logged, _ = run(node_env("es01", "cluster.env"), host(max_map_count=262144))
    assert code == 78
    assert logged[-1]["message"].splitlines()[2:] == [f"bootstrap check failure [1] of [1]: {FD.format(20000)}"]
    code, logged, _ = run(node_env("es01", "cluster.env"), host(max_map_count=262144, max_file_descriptors=65535))
    assert code is None
    assert [line["message"] for line in logged] == [
        "bound or publishing to a non-loopback address, enforcing bootstrap checks"
    ]


@pytest.mark.parametrize(
    ("extra", "enforced"),
    [
        ({}, True),  # the image's network.host 0.0.0.0
        ({"network.host": "127.0.0.1"}, False),
        ({"transport.host": "_local_"}, False),
        ({"network.host": "localhost"}, False),
        ({"network.host": "127.0.0.1", "transport.publish_host": "_site_"}, True),
        ({"network.host": "127.0.0.1", "ES_JAVA_OPTS": "-Des.enforce.bootstrap.checks=true"}, True),
        ({"discovery.type": "single-node"}, False),
    ],
)
def test_enforced_exactly_when_transport_leaves_loopback_and_discovery_is_not_single_node(
    extra: dict[str, str], enforced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ES_JAVA_OPTS", raising=False)
    if "ES_JAVA_OPTS" in extra:
        monkeypatch.setenv("ES_JAVA_OPTS", extra.pop("ES_JAVA_OPTS"))
    env = {**node_env("es01", "cluster.env"), **extra}
    code, logged, _ = run(env, host())
    assert (code == 78) is enforced
    assert all(line["log.level"] == "WARN" for line in logged) is not enforced


def test_memory_lock_discovery_and_transport_tls_checks_in_elasticsearch_order() -> None:
    env = {
        "xpack.security.enabled": "true",
        "xpack.security.transport.ssl.enabled": "false",
        "bootstrap.memory_lock": "true",
    }
    code, logged, _ = run(env, host(max_file_descriptors=65535, max_map_count=262144, max_threads=1024))
    assert code == 78
    reasons = [line.split(": ", 1)[1].split("; for more")[0] for line in logged[-1]["message"].splitlines()[2:]]
    assert reasons == [
        "memory locking requested for elasticsearch process but memory is not locked",
        "max number of threads [1024] for user [elasticsearch] is too low, increase to at least [4096]",
        "the default discovery settings are unsuitable for production use; at least one of "
        "[discovery.seed_hosts, discovery.seed_providers, cluster.initial_master_nodes] must be configured",
        "Transport SSL must be enabled if security is enabled. Please set [xpack.security.transport.ssl.enabled] "
        "to [true] or disable security by setting [xpack.security.enabled] to [false]",
    ]
    # node.store.allow_mmap false: no max_map_count check at all
    code, logged, _ = run({**node_env("es01", "cluster.env"), "node.store.allow_mmap": "false"}, host())
    assert "vm.max_map_count" not in logged[-1]["message"]
