"""Elasticsearch's bootstrap checks as the stand-in runs them, before its engine starts.

Read from elastic/elasticsearch `server/src/main/java/org/elasticsearch/bootstrap/BootstrapChecks.java`:
- `enforceLimits`: enforced when transport is bound or publishing to a non-loopback address and
  `discovery.type` is not `single-node` (or `-Des.enforce.bootstrap.checks=true`); otherwise every failure is
  only logged as a warning.
- the checks in `checks()` order that concern a container's host: file descriptors (65535), memory lock (only
  with `bootstrap.memory_lock: true`), threads (4096), virtual memory size and file size (unlimited),
  `vm.max_map_count` (262144, only while `node.store.allow_mmap` is true), discovery configured; then the
  security plugin's transport TLS check.
- failure: `node validation exception` with "[N] bootstrap checks failed. ..." and one "bootstrap check failure
  [i] of [N]: ..." line each, exit code 78 (`ExitCodes.CONFIG`, Bootstrap.exitWithNodeValidationException).
The JVM checks (heap, client VM, serial GC, system call filter, OnError, early access, byte order) concern
Elasticsearch's own JVM and options, which the stand-in does not run: not emulated (tests/stack/standins.md).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import resource
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

EXIT_CONFIG = 78  # org.elasticsearch.cli.ExitCodes.CONFIG
MAX_MAP_COUNT = 1 << 18
MAX_FILE_DESCRIPTORS = 65535
MAX_THREADS = 1 << 12
# ReferenceDocs: .../reference/<major.minor>/<page> (reference-docs-links.txt), for 9.3
DOCS = "https://www.elastic.co/guide/en/elasticsearch/reference/9.3/"
UNLIMITED = resource.RLIM_INFINITY

Setting = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Host:
    """What the checks read from the machine; -1 where it cannot be read (the check then passes, as in Java)."""

    max_map_count: int
    max_file_descriptors: int
    max_threads: int
    max_virtual_memory: int
    max_file_size: int
    memory_lockable: bool

    @classmethod
    def read(cls, max_map_count_path: Path = Path("/proc/sys/vm/max_map_count")) -> Host:
        try:
            max_map_count = int(max_map_count_path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            max_map_count = -1
        return cls(
            max_map_count=max_map_count,
            # the JVM raises its soft limit to the hard one (-XX:+MaxFDLimit): the hard limit is what ES sees
            max_file_descriptors=resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            max_threads=resource.getrlimit(resource.RLIMIT_NPROC)[0],
            max_virtual_memory=resource.getrlimit(resource.RLIMIT_AS)[0],
            max_file_size=resource.getrlimit(resource.RLIMIT_FSIZE)[0],
            # mlockall of the whole JVM succeeds only with an unlimited memlock limit (compose `memlock: -1`)
            memory_lockable=resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == UNLIMITED,
        )


def _true(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _loopback(value: str) -> bool:
    """A network.host-style value (comma-separated) names loopback addresses only."""
    for item in (v.strip() for v in value.split(",") if v.strip()):
        if item.startswith("_") and item.endswith("_"):
            name = item.strip("_").split(":")[0]
            if name not in ("local", "lo"):
                return False  # _site_, _global_, another interface
            continue
        try:
            if not ipaddress.ip_address(item.strip("[]")).is_loopback:
                return False
            continue
        except ValueError:
            pass
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(item, None)}
        except OSError:
            return False
        if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
            return False
    return True


def enforced(setting: Setting) -> bool:
    """BootstrapChecks.enforceLimits, with the image's `network.host: 0.0.0.0` (its elasticsearch.yml) as default,
    or the es.enforce.bootstrap.checks system property."""
    if "-Des.enforce.bootstrap.checks=true" in (os.environ.get("ES_JAVA_OPTS") or "").split():
        return True
    network = setting("network.host") or "0.0.0.0"
    bind = setting("transport.bind_host") or setting("transport.host") or setting("network.bind_host") or network
    publish = (
        setting("transport.publish_host") or setting("transport.host") or setting("network.publish_host") or network
    )
    bound = not (_loopback(bind) and _loopback(publish))
    return bound and (setting("discovery.type") or "multi-node") != "single-node"


def _limited(value: int) -> bool:
    return value not in (UNLIMITED, -1)


def failures(setting: Setting, host: Host) -> list[str]:
    """Every failing check's message, in the order Elasticsearch runs them."""
    user = "elasticsearch"
    out: list[tuple[str, str]] = []
    if _limited(host.max_file_descriptors) and host.max_file_descriptors < MAX_FILE_DESCRIPTORS:
        out.append(
            (
                f"max file descriptors [{host.max_file_descriptors}] for elasticsearch process is too low, "
                f"increase to at least [{MAX_FILE_DESCRIPTORS}]",
                "bootstrap-checks-file-descriptor.html",
            )
        )
    if _true(setting("bootstrap.memory_lock"), False) and not host.memory_lockable:
        out.append(
            (
                "memory locking requested for elasticsearch process but memory is not locked",
                "bootstrap-checks-memory-lock.html",
            )
        )
    if _limited(host.max_threads) and host.max_threads < MAX_THREADS:
        out.append(
            (
                f"max number of threads [{host.max_threads}] for user [{user}] is too low, "
                f"increase to at least [{MAX_THREADS}]",
                "max-number-threads-check.html",
            )
        )
    if _limited(host.max_virtual_memory):
        out.append(
            (
                f"max size virtual memory [{host.max_virtual_memory}] for user [{user}] is too low, "
                "increase to [unlimited]",
                "max-size-virtual-memory-check.html",
            )
        )
    if _limited(host.max_file_size):
        out.append(
            (
                f"max file size [{host.max_file_size}] for user [{user}] is too low, increase to [unlimited]",
                "bootstrap-checks-max-file-size.html",
            )
        )
    if _true(setting("node.store.allow_mmap"), True) and -1 < host.max_map_count < MAX_MAP_COUNT:
        out.append(
            (
                f"max virtual memory areas vm.max_map_count [{host.max_map_count}] is too low, "
                f"increase to at least [{MAX_MAP_COUNT}]",
                "bootstrap-checks-max-map-count.html",
            )
        )
    discovery = ("discovery.seed_hosts", "discovery.seed_providers", "cluster.initial_master_nodes")
    if (setting("discovery.type") or "multi-node") == "multi-node" and not any(setting(s) for s in discovery):
        out.append(
            (
                "the default discovery settings are unsuitable for production use; at least one of "
                f"[{', '.join(discovery)}] must be configured",
                "bootstrap-checks-discovery-configuration.html",
            )
        )
    # x-pack security's check, added after the built-in ones
    if _true(setting("xpack.security.enabled"), True) and not _true(
        setting("xpack.security.transport.ssl.enabled"), False
    ):
        out.append(
            (
                "Transport SSL must be enabled if security is enabled. Please set "
                "[xpack.security.transport.ssl.enabled] to [true] or disable security by setting "
                "[xpack.security.enabled] to [false]",
                "bootstrap-checks-xpack.html#bootstrap-checks-tls",
            )
        )
    return [f"{message}; for more information see [{DOCS}{page}]" for message, page in out]


def _log(out: TextIO, level: str, logger: str, message: str, setting: Setting) -> None:
    """One line of the image's console log (ECS JSON)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    line = {
        "@timestamp": now,
        "log.level": level,
        "message": message,
        "ecs.version": "1.2.0",
        "service.name": "ES_ECS",
        "event.dataset": "elasticsearch.server",
        "process.thread.name": "main",
        "log.logger": logger,
        "elasticsearch.node.name": setting("node.name") or socket.gethostname(),
        "elasticsearch.cluster.name": setting("cluster.name") or "docker-cluster",
    }
    print(json.dumps(line), file=out, flush=True)


def check(setting: Setting, host: Host, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
    """Warn about each failure, or, where enforced, log them as Elasticsearch does and exit 78."""
    errors = failures(setting, host)
    logger = "org.elasticsearch.bootstrap.BootstrapChecks"
    if not enforced(setting):
        for error in errors:
            _log(out, "WARN", logger, error, setting)
        return
    _log(out, "INFO", logger, "bound or publishing to a non-loopback address, enforcing bootstrap checks", setting)
    if not errors:
        return
    n = len(errors)
    lines = [
        f"[{n}] bootstrap checks failed. You must address the points described in the following [{n}] lines "
        f"before starting Elasticsearch. For more information see [{DOCS}bootstrap-checks.html]",
        *(f"bootstrap check failure [{i}] of [{n}]: {error}" for i, error in enumerate(errors, 1)),
    ]
    _log(
        out,
        "ERROR",
        "org.elasticsearch.bootstrap.Elasticsearch",
        "node validation exception\n" + "\n".join(lines),
        setting,
    )
    cluster = setting("cluster.name") or "docker-cluster"
    print(
        f"ERROR: Elasticsearch did not exit normally - check the logs at /usr/share/elasticsearch/logs/{cluster}.log",
        file=err,
        flush=True,
    )
    print(f"ERROR: Elasticsearch exited unexpectedly, with exit code {EXIT_CONFIG}", file=err, flush=True)
    raise SystemExit(EXIT_CONFIG)
