"""`logplatform setup`: make a running cluster ready for the platform, idempotently.

Elasticsearch: log in as elastic (moving it to a password changed in .env), set kibana_system's password,
create least-privilege users for Filebeat and the backend, install es/ (pipeline, templates, lifecycle),
and store the generator's API key for the backend. Kibana: import kibana/*.ndjson and set the default data
view. A second run changes nothing and never resets a credential.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from logplatform import assets, names, packaged
from logplatform.cluster import Cluster

KIBANA_DIR = packaged.KIBANA_DIR
DEFAULT_DATA_VIEW = "logs-logplatform"

ROLES: dict[str, dict[str, Any]] = {
    "logplatform_filebeat": {
        "cluster": ["monitor", "read_pipeline"],
        # the dead-letter stream: where Filebeat sets aside the lines the engine refuses
        "indices": [
            {
                "names": [names.INDEX_PATTERN, names.DEAD_LETTER_PATTERN],
                "privileges": ["create_doc", "auto_configure", "view_index_metadata"],
            }
        ],
    },
    "logplatform_backend": {
        "cluster": ["monitor", "read_pipeline"],
        "indices": [
            {
                "names": [names.INDEX_PATTERN],
                "privileges": ["create_doc", "auto_configure", "read", "view_index_metadata"],
            }
        ],
    },
    # ElastAlert2: reads our logs, and owns its writeback indices (creates them at its first start)
    "logplatform_alerting": {
        "cluster": ["monitor"],
        "indices": [
            {"names": [names.INDEX_PATTERN], "privileges": ["read", "view_index_metadata"]},
            {"names": [f"{names.ALERTS_INDEX}*"], "privileges": ["all"]},
        ],
    },
}
# user -> (role, secret file holding its password)
USERS = {
    "logplatform_filebeat": ("logplatform_filebeat", "filebeat_password"),
    "logplatform_backend": ("logplatform_backend", "backend_password"),
    "logplatform_alerting": ("logplatform_alerting", "alerting_password"),
}

Echo = Callable[[str], None]


class SetupError(RuntimeError):
    pass


@dataclass
class Secrets:
    directory: Path

    def get(self, name: str) -> str:
        path = self.directory / name
        if not path.exists():
            raise SetupError(f"secret {path} is missing: the setup-certs step makes it (docker compose up -d)")
        return path.read_text().strip()

    def previous(self, name: str) -> str | None:
        path = self.directory / f"{name}.previous"
        return path.read_text().strip() if path.exists() else None


def wait_for(what: str, check: Callable[[], str | None], echo: Echo, timeout: float = 600, every: float = 5) -> None:
    """Polls check() (None = ready, else why not) and shows progress until ready or timeout."""
    started = time.monotonic()
    last_said = 0.0
    while True:
        why = check()
        if why is None:
            echo(f"{what}: ready after {time.monotonic() - started:.0f}s")
            return
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise SetupError(f"{what} not ready after {timeout:.0f}s: {why}")
        if elapsed - last_said >= every or last_said == 0:
            echo(f"{what}: waiting ({elapsed:.0f}s) - {why}")
            last_said = elapsed or 0.001
        time.sleep(1)


def _probe(cluster: Cluster) -> str | None:
    try:
        status, _ = cluster.request("GET", "/")
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if status in (200, 401):  # 401: up, TLS fine, security on
        return None
    return f"answered {status}"


def _authenticates(url: str, ca: str | None, user: str, password: str) -> bool:
    probe = Cluster(url, user, password, ca_certs=ca)
    try:
        status, _ = probe.request("GET", "/_security/_authenticate")
        return status == 200
    finally:
        probe.close()


def elastic_login(url: str, ca: str | None, secrets: Secrets, echo: Echo, timeout: float = 180) -> Cluster:
    """Logs in as elastic; if only the previous password works, moves elastic to the current one.

    Elasticsearch answers HTTP (and the anonymous 401 the healthcheck looks for) before its security index has
    recovered, and until then it refuses even the right password with the same 401 as a wrong one. So a refusal
    is tried again for up to `timeout` seconds, as Elastic's own compose example and start-local loop on an
    authenticated call, before it is taken to mean the kept password is wrong.
    """
    current = secrets.get("elastic_password")
    old = secrets.previous("elastic_password")
    working: list[str] = []

    def logged_in() -> str | None:
        try:
            for password in (current, old):
                if password and _authenticates(url, ca, "elastic", password):
                    working.append(password)
                    return None
        except httpx.HTTPError as exc:  # Elasticsearch went away again (restarting): wait for it as well
            return f"{type(exc).__name__}: {exc}"
        return "elastic is refused (401): the security index may still be recovering"

    try:
        wait_for("Elasticsearch login as elastic", logged_in, echo, timeout)
    except SetupError:
        raise SetupError(
            "cannot log in as elastic with the kept password. If you changed ELASTIC_PASSWORD after "
            "the first start, keep the old one as secrets/elastic_password.previous, or reset: "
            "docker compose down -v (deletes all data)"
        ) from None
    if working[-1] != current:
        admin = Cluster(url, "elastic", working[-1], ca_certs=ca)
        admin.ok("POST", "/_security/user/elastic/_password", {"password": current})
        echo("elastic: password changed to the one in .env")
        admin.close()
    return Cluster(url, "elastic", current, ca_certs=ca)


def ensure_security(admin: Cluster, url: str, ca: str | None, secrets: Secrets, echo: Echo) -> list[str]:
    changed = []
    password = secrets.get("kibana_system_password")
    if len(password) < 6:
        raise SetupError("KIBANA_SYSTEM_PASSWORD must have at least 6 characters")
    if not _authenticates(url, ca, "kibana_system", password):
        admin.ok("POST", "/_security/user/kibana_system/_password", {"password": password})
        changed.append("kibana_system password")
    for role, body in ROLES.items():
        status, current = admin.request("GET", f"/_security/role/{role}")
        if status != 200 or not assets._same(body, current.get(role)):
            admin.ok("PUT", f"/_security/role/{role}", body)
            changed.append(f"role {role}")
    for user, (role, secret) in USERS.items():
        password = secrets.get(secret)
        status, current = admin.request("GET", f"/_security/user/{user}")
        same_roles = status == 200 and current.get(user, {}).get("roles") == [role]
        if not same_roles or not _authenticates(url, ca, user, password):
            admin.ok(
                "PUT",
                f"/_security/user/{user}",
                {"password": password, "roles": [role], "full_name": f"Log-Platform {user.split('_')[1]}"},
            )
            changed.append(f"user {user}")
    for item in changed:
        echo(f"security: set {item}")
    if not changed:
        echo("security: users, roles and passwords already as wanted")
    return changed


def setup_elasticsearch(
    url: str,
    ca: str | None,
    secrets_dir: Path | None,
    keys_file: Path | None,
    generator_rate_limit: float | None,
    echo: Echo,
    timeout: float = 600,
    retention: assets.Retention | None = None,
    options: assets.PipelineOptions | None = None,
) -> list[str]:
    """Returns what it changed (empty on a second run)."""
    anonymous = Cluster(url, ca_certs=ca)
    wait_for(f"Elasticsearch at {url}", lambda: _probe(anonymous), echo, timeout)
    status, _ = anonymous.request("GET", "/")
    changed: list[str] = []
    if status == 401:  # Elasticsearch with security on, as the compose stack runs it
        if secrets_dir is None:
            raise SetupError("Elasticsearch asks for credentials: give --secrets-dir")
        secrets = Secrets(secrets_dir)
        admin = elastic_login(url, ca, secrets, echo)
        engine = "elasticsearch"
        changed += ensure_security(admin, url, ca, secrets, echo)
    else:
        admin = anonymous
        engine = assets.detect_engine(anonymous)
        echo(f"security: off on this cluster ({engine}), users and roles skipped")
    if engine == "elasticsearch" and retention is not None:
        echo(f"retention: logs kept {retention.keep} after rollover, rollover daily or at {retention.rollover_size}")
    options = options or assets.PipelineOptions()
    for line in options.describe():
        echo(line)
    for result in assets.install(admin, engine, retention, options):
        echo(str(result))
        if result.changed:
            changed.append(f"asset {result.name}")
    problem = assets.pipeline_problem(admin, "setup")
    if problem:
        raise SetupError(f"the installed pipeline does not work: {problem}")
    echo("pipeline: checked with a test event")
    if keys_file is not None and secrets_dir is not None and (secrets_dir / "generator_api_key").exists():
        from logplatform.api_keys import KeyStore

        key = (secrets_dir / "generator_api_key").read_text().strip()
        store = KeyStore(keys_file)
        before = {k.id for k in store.keys()}  # noqa: SIM118 - KeyStore.keys() lists ApiKey entries
        entry = store.import_key("generator", key, generator_rate_limit)
        if entry.id not in before:
            changed.append("generator API key")
            echo("api keys: stored the generator's key")
    admin.close()
    return changed


def setup_kibana(
    url: str,
    username: str,
    password: str,
    echo: Echo,
    timeout: float = 900,
    directory: Path = KIBANA_DIR,
    transport: httpx.BaseTransport | None = None,
) -> list[str]:
    client = httpx.Client(
        base_url=url.rstrip("/"),
        auth=(username, password),
        timeout=60,
        headers={"kbn-xsrf": "logplatform-setup"},
        transport=transport,
    )

    degraded: list[str] = []  # the summary, when Kibana answered degraded

    def ready() -> str | None:
        # Kibana's GET /api/status answers 503 while its core services are unavailable, else 200 with the overall
        # level, the worst of core's and every plugin's (src/core/packages/status/server-internal/src/routes/
        # status.ts). "degraded" is common (Task Manager while its health stats are stale) and Kibana serves its
        # APIs then: go on. "unavailable" (a plugin) or "critical": wait.
        try:
            r = client.get("/api/status")
            overall = r.json().get("status", {}).get("overall", {}) if r.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            return f"{type(exc).__name__}"
        if r.status_code != 200:
            return f"status {r.status_code}"
        level = overall.get("level")
        if level == "degraded":
            degraded[:] = [str(overall.get("summary", ""))]
            return None
        return None if level == "available" else f"overall status {level}"

    wait_for(f"Kibana at {url}", ready, echo, timeout)
    if degraded:
        echo(f"kibana: going on while Kibana is degraded ({degraded[0]}): its APIs answer when degraded")
    # one import for every file, so references between files (a dashboard's saved search, every panel's
    # data view) resolve within the request whatever order the files sort in
    files = sorted(packaged.require(directory).glob("*.ndjson"))
    bundle = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in files)
    r = client.post(
        "/api/saved_objects/_import",
        params={"overwrite": "true"},
        files={"file": ("logplatform.ndjson", bundle, "application/ndjson")},
    )
    try:
        body = r.json()
    except ValueError:
        body = {"answer": r.text[:500]}
    # the import answers 200 even when objects failed: check success and errors
    if r.status_code != 200 or not body.get("success") or body.get("errors"):
        raise SetupError(f"importing {', '.join(p.name for p in files)}: {r.status_code} {_import_errors(body)}")
    echo(f"kibana: imported {body.get('successCount', 0)} objects from {', '.join(p.name for p in files)}")
    r = client.post("/api/data_views/default", json={"data_view_id": DEFAULT_DATA_VIEW, "force": True})
    if r.status_code != 200:
        raise SetupError(f"setting the default data view: {r.status_code} {r.text[:300]}")
    echo(f"kibana: default data view {DEFAULT_DATA_VIEW}")
    client.close()
    return [p.name for p in files]


def _import_errors(body: dict[str, Any]) -> str:
    """Kibana's per-object import errors as one line each: type/id (title): what went wrong."""
    errors = body.get("errors") or []
    if not errors:
        return json.dumps(body)[:1000]
    lines = []
    for e in errors:
        err = e.get("error", {})
        detail = err.get("type", "")
        if err.get("references"):
            detail += " " + ", ".join(f"{x.get('type')}/{x.get('id')}" for x in err["references"])
        lines.append(f"{e.get('type')}/{e.get('id')} ({e.get('meta', {}).get('title', '')}): {detail}".strip())
    return "; ".join(lines)
