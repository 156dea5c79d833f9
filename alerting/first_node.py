"""Prints the first node of ES_HOSTS that answers, as `host port`, for elastalert-create-index.

Why: the image's run.sh runs `elastalert-create-index` before `elastalert`, under `set -e`, and create-index
connects to one host only (`--host`, else ES_HOST, else the config's es_host; it never reads ES_HOSTS). With
es_host's node down, alerting would exit at every start until that node came back, although `elastalert` itself
fails over across ES_HOSTS. entrypoint.sh hands the node printed here to create-index as ES_HOST and ES_PORT;
elastalert keeps ES_HOSTS (which it reads over ES_HOST) and so every node.

"Answers": `GET /` (what create-index asks first, for the version) gets an HTTP answer below 500. A node that
refuses the login still counts: create-index then fails on it with the error that says what is wrong. When no
node answers, the first is printed, and create-index's own error ends the start as before (compose restarts it).

Runs with the Python and PyYAML of the ElastAlert2 image (no other dependency):
    python first_node.py [--config /opt/elastalert/config.yaml]
"""

from __future__ import annotations

import argparse
import base64
import os
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

import yaml

TIMEOUT_SECONDS = 5


def nodes(hosts: str, default_port: int) -> list[tuple[str, int]]:
    """ES_HOSTS (`host:port,host:port`) as ElastAlert2 reads it, the config's es_port where a port is missing."""
    out = []
    for entry in hosts.split(","):
        host, sep, port = entry.strip().rpartition(":")
        out.append((host, int(port)) if sep else (port, default_port))
    return [n for n in out if n[0]]


def answers(host: str, port: int, conf: dict[str, Any], env: dict[str, str]) -> bool:
    use_ssl = str(env.get("ES_USE_SSL", conf.get("use_ssl", False))).lower() in ("1", "true", "yes")
    context = None
    if use_ssl:
        if conf.get("verify_certs", True) is False:
            context = ssl._create_unverified_context()
        else:
            context = ssl.create_default_context(cafile=conf.get("ca_certs"))
    request = urllib.request.Request(f"{'https' if use_ssl else 'http'}://{host}:{port}/")
    username = env.get("ES_USERNAME") or conf.get("es_username")
    if username:
        password = env.get("ES_PASSWORD") or conf.get("es_password") or ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except (OSError, ValueError):  # refused, unresolvable, timed out, TLS failed
        return False


def first_node(hosts: str, conf: dict[str, Any], env: dict[str, str]) -> tuple[str, int]:
    listed = nodes(hosts, int(env.get("ES_PORT") or conf.get("es_port") or 9200))
    if not listed:
        raise ValueError(f"ES_HOSTS names no node: {hosts!r}")
    for host, port in listed:
        if answers(host, port, conf, env):
            return host, port
        print(f"alerting: {host}:{port} does not answer; trying the next node of ES_HOSTS", file=sys.stderr)
    print("alerting: no node of ES_HOSTS answers", file=sys.stderr)
    return listed[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="/opt/elastalert/config.yaml")
    args = parser.parse_args()
    with open(args.config) as f:
        conf = yaml.safe_load(f) or {}
    host, port = first_node(os.environ.get("ES_HOSTS", ""), conf, dict(os.environ))
    print(host, port)


if __name__ == "__main__":
    main()
