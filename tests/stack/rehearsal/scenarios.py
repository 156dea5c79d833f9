"""What the rehearsal proves, one function a scenario: each returns what it saw, or raises saying what is wrong."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import ssl
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.stack.rehearsal.docker_host import run
from tests.stack.rehearsal.stack import ONE_SHOTS, OVERRIDE, QUEUE_OVERRIDE, REPO, Stack, wait_until

CLUSTER_OVERRIDE = REPO / "tests" / "stack" / "compose.rehearsal-cluster.yml"  # with es/node/cluster.compose.yml

GENERATOR_SERVICES = {
    "auth-service",
    "payment-service",
    "order-service",
    "inventory-service",
    "api-gateway",
    "notification-service",
}
# what differs between the same event shipped from a file and POSTed: how it travelled, when, and its id
TRANSPORT = (
    "log.file",
    "log.offset",
    "input",
    "agent",
    "host",
    "event.ingested",
    "event.original",
    "event.id",
    "ecs",
    "data_stream",
    "tags",
)


def _readme_blocks(heading: str) -> list[str]:
    """Every ```sh block of a README section (up to the next heading of its level or above), without their
    trailing comments (as bash runs them)."""
    readme = (REPO / "README.md").read_text()
    start = readme.index(heading) + len(heading)
    level = len(heading.split(" ")[0])
    end = re.search(rf"\n#{{1,{level}}} ", readme[start:])
    section = readme[start : start + end.start() if end else len(readme)]
    return [re.sub(r"\s+#.*$", "", b, flags=re.M) for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def _readme_block(heading: str) -> str:
    """The first ```sh block of a README section."""
    blocks = _readme_blocks(heading)
    if not blocks:
        raise AssertionError(f"the README has no sh block under {heading!r}")
    return blocks[0]


def _reaching(minimum: int, measure: Callable[[], int]) -> Callable[[], int | None]:
    """For wait_until: the measure once it reaches minimum, else None."""
    return lambda: (lambda n: n if n >= minimum else None)(measure())


def first_start(stack: Stack) -> str:
    stack.down(volumes=True)  # from nothing: no container, no volume of an earlier run
    started = time.monotonic()
    up = stack.compose("up", "-d", "--wait", "--wait-timeout", "900", check=False, timeout=1200)
    took = time.monotonic() - started
    states = stack.services()
    problems = []
    for name, row in states.items():
        if name in ONE_SHOTS:
            if row["State"] != "exited" or row.get("ExitCode") != 0:
                problems.append(f"{name}: {row['State']} exit {row.get('ExitCode')}")
        elif row.get("Health") != "healthy":
            problems.append(f"{name}: {row['State']} {row.get('Health') or ''}".strip())
    expected = {
        "setup-certs",
        "es01",
        "setup",
        "kibana",
        "kibana-setup",
        "filebeat",
        "backend",
        "generator",
        "alerting",
        "container-logs",
    }
    missing = expected - states.keys()
    if up.returncode != 0 or problems or missing:
        logs = stack.compose("logs", "--no-color", "--tail", "30", check=False).stdout[-6000:]
        raise AssertionError(
            f"up -d --wait exited {up.returncode}: {up.stderr[-1500:]}; problems: {problems}; "
            f"missing: {sorted(missing)}\n{logs}"
        )
    # On a first start the Kibana stand-in reports Task Manager degraded for a while, as Kibana often does
    # (status 200, overall level degraded): kibana-setup must go on rather than wait for "available".
    kibana_log = stack.compose("logs", "--no-color", "kibana", "kibana-setup", check=False).stdout
    if "Kibana is now degraded" not in kibana_log or "going on while Kibana is degraded" not in kibana_log:
        raise AssertionError(f"kibana-setup did not go on while Kibana was degraded:\n{kibana_log[-3000:]}")
    return (
        f"{len(states)} services converged in {took:.0f}s (one-shots exited 0, the rest healthy; kibana-setup went "
        "on while Kibana was degraded)"
    )


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for dotted in TRANSPORT:
        head, _, leaf = dotted.partition(".")
        if leaf and isinstance(doc.get(head), dict):
            doc[head].pop(leaf, None)
            if not doc[head]:
                doc.pop(head)
        elif not leaf:
            doc.pop(head, None)
    return doc


def ingest_paths_follow_the_contract(stack: Stack) -> str:
    shipped = wait_until(
        "generator lines shipped by the Filebeat container",
        lambda: stack.count(
            {
                "bool": {
                    "filter": [
                        {"term": {"agent.type": "filebeat"}},
                        {"terms": {"service.name": sorted(GENERATOR_SERVICES)}},
                    ]
                }
            }
        ),
        180,
    )
    key = stack.secret("generator_api_key")
    marker = uuid.uuid4().hex[:12]
    event = {
        "@timestamp": "2026-12-01T10:00:00.000Z",
        "service": "rehearsal-contract",
        "level": "ERROR",
        "message": f"Payment declined {marker}",
        "trace": {"id": marker},
        "meta": {"user_id": 123, "ip": "203.0.113.9", "amount": 12.5},
    }
    posted_id, line_id = f"rehearsal-{marker}-post", f"rehearsal-{marker}-file"
    r = httpx.post(
        "http://127.0.0.1:8000/logs", headers={"X-API-Key": key}, json={**event, "event": {"id": posted_id}}, timeout=30
    )
    if r.status_code != 200 or r.json()["items"][0]["status"] != "indexed":
        raise AssertionError(f"POST /logs answered {r.status_code}: {r.text[:500]}")
    line = json.dumps({**event, "event": {"id": line_id}}) + "\n"
    stack.compose(
        "exec",
        "-T",
        "backend",
        "sh",
        "-c",
        "cat >> /var/log/logplatform/services/rehearsal-contract.log",
        input_text=line,
    )
    docs = wait_until(
        "both copies of the event indexed",
        lambda: (lambda hits: hits if len(hits) == 2 else None)(stack.search({"term": {"trace.id": marker}})),
        120,
    )
    by_id = {d["_source"]["event"]["id"]: d["_source"] for d in docs}
    file_doc, post_doc = by_id[line_id], by_id[posted_id]
    if file_doc.get("agent", {}).get("type") != "filebeat":
        raise AssertionError(f"the line did not come through Filebeat: {file_doc.get('agent')}")
    if _strip(file_doc) != _strip(post_doc):
        raise AssertionError(f"not the same document:\nfile: {_strip(file_doc)}\npost: {_strip(post_doc)}")
    return (
        f"{shipped} generator lines via Filebeat; one event as a line and as POST /logs became the same "
        f"document ({len(_strip(post_doc))} top-level fields)"
    )


def doctor_reports_every_hop_ok(stack: Stack) -> str:
    readme = (REPO / "README.md").read_text()
    command = re.search(r"`(docker compose run --rm --no-deps setup logplatform doctor[^`]*)`", readme)
    if command is None:
        raise AssertionError("the README no longer shows how to run doctor")
    args = command.group(1).split()[2:]

    def all_ok() -> str | None:
        result = stack.compose(*args, check=False, timeout=300)
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith(("ok", "FAIL"))]
        if result.returncode == 0 and lines and all(ln.startswith("ok") for ln in lines):
            return result.stdout
        raise AssertionError(result.stdout[-2000:] + result.stderr[-1000:])

    out = wait_until("doctor reports every hop ok", all_ok, 240, every=15)
    hops = {ln[5:20].strip(): ln[20:].strip() for ln in out.splitlines() if ln.startswith("ok")}
    if "logs kept 30d after rollover" not in hops.get("retention", "") or "free" not in hops.get("disk", ""):
        raise AssertionError(f"doctor does not show retention and disk as setup made them: {hops}")
    return f"{len(hops)} hops ok: {', '.join(hops)}; retention: {hops['retention']}"


def second_up_changes_nothing_and_down_up_keeps_data(stack: Stack) -> str:
    before = stack.container_ids()
    started = {name: stack.started_at(name) for name in before}
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)
    after = stack.container_ids()
    if after != before or any(stack.started_at(n) != started[n] for n in before):
        raise AssertionError(f"a second up -d recreated or restarted services: {before} -> {after}")
    setup_log = stack.compose("logs", "--no-color", "setup").stdout
    if "setup elasticsearch: nothing to do" not in setup_log.splitlines()[-1]:
        raise AssertionError(f"setup changed something on the second run:\n{setup_log[-1500:]}")
    documents = stack.count()
    keys = stack.file("backend", "/var/lib/logplatform/api-keys.json")
    password = stack.secret("elastic_password")
    stack.reset_clients()
    stack.down()
    stack.compose("up", "-d", "--wait", "--wait-timeout", "900", timeout=1200)
    after_documents = stack.count()
    if after_documents < documents:
        raise AssertionError(f"down/up lost documents: {documents} -> {after_documents}")
    if stack.file("backend", "/var/lib/logplatform/api-keys.json") != keys:
        raise AssertionError("down/up changed the API keys")
    if stack.secret("elastic_password") != password:
        raise AssertionError("down/up changed the elastic password")
    return (
        f"second up: same {len(before)} containers, setup did nothing; down/up: {documents} -> {after_documents} "
        f"documents, API keys and secrets unchanged"
    )


def es_restart_loses_and_duplicates_nothing(stack: Stack) -> str:
    service = f"rehearsal-restart-{uuid.uuid4().hex[:6]}"
    count = 1500
    stack.compose(
        "run",
        "-d",
        "--rm",
        "--no-deps",
        "--name",
        f"{service}-generator",
        "generator",
        "--rate",
        "25",
        "--count",
        str(count),
        "--services",
        service,
        "--quiet",
    )
    of_service = {"term": {"service.name": service}}
    wait_until("the generator's first lines indexed", lambda: stack.count(of_service), 120)
    before = stack.count(of_service)
    # a `compose run` container is not in `compose ps`: Docker itself is asked
    state = ["docker", "inspect", "-f", "{{.State.Running}}", f"{service}-generator"]
    running = run(state, env=stack.docker_env, check=False).stdout.strip() == "true"
    if before >= count or not running:
        raise AssertionError(f"the generator had finished ({before} of {count} lines) before es01 restarted")
    stack.compose("restart", "es01", timeout=600)
    stack.reset_clients()
    wait_until("es01 healthy again", lambda: stack.services()["es01"].get("Health") == "healthy", 300)
    back = int(time.time() * 1000)

    def all_in() -> int | None:
        n = stack.count({"term": {"service.name": service}})
        if n > count:
            raise AssertionError(f"{n} documents for {count} lines: duplicates")
        return n if n == count else None

    n = wait_until(f"all {count} lines indexed after the restart", all_in, 300, every=5)
    time.sleep(5)  # a late duplicate would show up now
    final = stack.count(of_service)
    if final != count:
        raise AssertionError(f"{final} documents for {count} lines")
    after = stack.count({"bool": {"filter": [of_service, {"range": {"event.ingested": {"gte": back}}}]}})
    if after == 0:
        raise AssertionError("no line was indexed after es01 came back: the restart was not mid-run")
    return (
        f"es01 restarted mid-run ({before} of {count} lines in before it, {after} after it was back): "
        f"{n} of {count} lines indexed, none twice"
    )


def readme_commands_run_as_printed(stack: Stack) -> str:
    """The README's compose commands, run by bash in a directory of their own, exactly as printed."""
    readme = (REPO / "README.md").read_text()
    blocks = {heading: _readme_block(heading) for heading in ("### Credentials", "### Send a first log")}
    inline = [
        "docker compose ps -a",
        "docker compose run --rm setup",
        "docker compose logs alerting",
        "curl localhost:8000/readyz",
    ]
    for command in inline:
        if command not in readme:
            raise AssertionError(f"the README no longer prints `{command}`")
    # the streamed export's example, printed in the prose after the block, runs in the block's shell (its $KEY)
    export = re.search(r"e\.g\. `(curl [^`]*/logs/export[^`]*)`", readme)
    if export is None:
        raise AssertionError("the README no longer shows GET /logs/export with curl")
    blocks["### Send a first log"] += " ".join(export.group(1).split()) + "\ncat errors.csv\n"
    workdir = stack.workdir / "readme"
    workdir.mkdir(exist_ok=True)
    ran = []
    for heading, block in blocks.items():
        script = "set -euo pipefail\n" + block
        result = stack.compose_shell(script, workdir)
        if result.returncode != 0:
            raise AssertionError(
                f"{heading} block failed ({result.returncode}):\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
            )
        ran.append((result.stdout, result.stderr))
    credentials = ran[0][0]
    send = ran[1][0] + "\n" + ran[1][1]  # logplatform send says what became of the lines on stderr
    if credentials.strip() != stack.secret("elastic_password") or not (workdir / "ca.crt").exists():
        copied = (workdir / "ca.crt").exists()
        raise AssertionError(f"Credentials block printed {credentials!r}; ca.crt copied: {copied}")
    if '"status":"indexed"' not in send.replace(" ", "") or "Login failed" not in send:
        raise AssertionError(f"Send a first log: the POST was not indexed or GET did not find it:\n{send[-1500:]}")
    if "sent 2 lines: 2 indexed, 0 queued, 0 rejected, 0 failed" not in send:
        raise AssertionError(f"Send a first log: `logplatform send` did not store both lines:\n{send[-1500:]}")
    if '"message": "job done"' not in ran[1][0] or '"message": "job started"' in ran[1][0]:
        raise AssertionError(f"Send a first log: `logplatform search` found other than the line asked:\n{send[-1500:]}")
    exported = ran[1][0][ran[1][0].find("@timestamp,service.name,log.level,message,_id") :]
    if not exported or "auth-service,error,Login failed" not in exported:
        raise AssertionError(f"GET /logs/export as the README prints it did not export the error:\n{send[-1500:]}")
    for command in inline:
        result = stack.compose_shell(command, workdir)
        if result.returncode != 0:
            raise AssertionError(f"`{command}` exited {result.returncode}: {result.stderr[-1000:]}")
    return f"{sum(b.count(chr(10)) for b in blocks.values())} block lines and {len(inline)} inline commands ran"


def restart_es01_then_up_five_times(stack: Stack) -> str:
    """After a restart Elasticsearch answers HTTP before its security index has recovered (the stand-in refuses
    every password for 30 s, as Elasticsearch's 401 looks then); setup must wait for a login, not fail."""
    took = []
    for _ in range(5):
        started = time.monotonic()
        stack.compose("restart", "es01", timeout=600)
        up = stack.compose("up", "-d", "--wait", "--wait-timeout", "600", check=False, timeout=900)
        if up.returncode != 0:
            logs = stack.compose("logs", "--no-color", "--tail", "20", "setup", check=False).stdout
            raise AssertionError(f"up -d after a restart of es01 failed: {up.stderr[-800:]}\n{logs}")
        took.append(time.monotonic() - started)
    stack.reset_clients()
    setup_log = stack.compose("logs", "--no-color", "setup").stdout
    waited = setup_log.count("Elasticsearch login as elastic: waiting")
    if not waited:
        raise AssertionError("setup never met the recovering security index: the scenario proved nothing")
    return f"5 of 5 converged ({', '.join(f'{t:.0f}s' for t in took)}); setup waited for a login {waited} times"


def secrets_and_keys_are_guarded(stack: Stack) -> str:
    """The CA key is readable by no service; a secret from .env that breaks a rule stops the start, naming it."""
    readers = []
    for service, certs in (
        ("backend", "/certs"),
        ("filebeat", "/usr/share/filebeat/certs"),
        ("kibana", "/usr/share/kibana/config/certs"),
        ("alerting", "/usr/share/elastalert/certs"),
        ("es01", "/usr/share/elasticsearch/config/certs"),
    ):
        if stack.compose("exec", "-T", service, "cat", f"{certs}/ca/ca.key", check=False).returncode == 0:
            readers.append(service)
        if stack.compose("exec", "-T", service, "cat", f"{certs}/ca/ca.crt", check=False).returncode != 0:
            raise AssertionError(f"{service} cannot read the CA certificate")
    if readers:
        raise AssertionError(f"the CA private key is readable in {readers}")
    bad = stack.compose("up", "-d", check=False, timeout=600, dotenv={"KIBANA_ENCRYPTION_KEY": "only-20-characters.."})
    said = stack.compose("logs", "--no-color", "setup-certs", check=False).stdout
    if bad.returncode == 0 or "KIBANA_ENCRYPTION_KEY must have at least 32 characters" not in said:
        raise AssertionError(f"a short KIBANA_ENCRYPTION_KEY was not refused: {bad.stderr[-500:]}\n{said[-800:]}")
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)  # back to the kept secrets
    return "CA key unreadable in 5 services, CA certificate readable; a short KIBANA_ENCRYPTION_KEY stopped the start"


def certificates_renewed_by_up_are_served_without_a_restart(stack: Stack) -> str:
    """A CERT_RENEW_DAYS wider than the certificates' 3 years makes every one due: the next `up -d` renews them in
    the certs volume (modes and owners as on the first start, the node's key kept), es01 serves its new
    certificate without a restart, the backend, which read the CA when it started, goes on indexing, and with the
    default window again nothing more is renewed and doctor's certificates hop is ok."""
    certs = "/usr/share/elasticsearch/config/certs"
    listing = f"cd {certs} && stat -c '%n %a %u:%g' . ca ca/* es01 es01/* && sha256sum ca/ca.crt es01/es01.*"

    def volume() -> tuple[list[str], dict[str, str]]:
        out = stack.compose("exec", "-T", "es01", "sh", "-c", listing).stdout.splitlines()
        modes = [line for line in out if not re.match(r"[0-9a-f]{64} ", line)]
        return modes, {line.split()[1]: line.split()[0] for line in out if line not in modes}

    def served_is_file() -> bool:
        on_file = ssl.PEM_cert_to_DER_cert(stack.file("es01", f"{certs}/es01/es01.crt"))
        return ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", 9200))) == on_file

    if not served_is_file():
        raise AssertionError("es01 does not serve the certificate in the certs volume")
    started = stack.started_at("es01")
    modes, sums = volume()
    up = stack.compose(
        "up", "-d", "--wait", "--wait-timeout", "600", check=False, timeout=900, dotenv={"CERT_RENEW_DAYS": "5000"}
    )
    said = stack.compose("logs", "--no-color", "setup-certs", check=False).stdout
    renewed = [line for line in said.splitlines() if "certs-and-secrets: renewed" in line]
    if up.returncode != 0 or not any("renewed certificate es01 (expires in" in line for line in renewed):
        raise AssertionError(f"up -d with CERT_RENEW_DAYS=5000 renewed nothing: {up.stderr[-800:]}\n{said[-1500:]}")
    if not any("renewed the certificate authority" in line for line in renewed):
        raise AssertionError(f"the CA was not renewed:\n{said[-1500:]}")
    modes_after, sums_after = volume()
    if modes_after != modes:
        raise AssertionError(f"renewal changed modes or owners: {modes} -> {modes_after}")
    if sums_after["es01/es01.crt"] == sums["es01/es01.crt"] or sums_after["es01/es01.key"] != sums["es01/es01.key"]:
        raise AssertionError(f"es01's certificate not renewed, or its key not kept: {sums} -> {sums_after}")
    wait_until("es01 serves its renewed certificate", served_is_file, 60)
    if stack.started_at("es01") != started:
        raise AssertionError("es01 was restarted: the renewal was to be picked up without one")
    r = httpx.post(
        "http://127.0.0.1:8000/logs",
        headers={"X-API-Key": stack.secret("generator_api_key")},
        json={"service": "rehearsal-certificates", "message": "after the renewal"},
        timeout=30,
    )
    if r.status_code != 200 or r.json()["items"][0]["status"] != "indexed":
        raise AssertionError(f"the backend does not index after the renewal: {r.status_code} {r.text[:300]}")
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)  # the default window again
    again = stack.compose("logs", "--no-color", "setup-certs", check=False).stdout
    if "renewed" in again:
        raise AssertionError(f"the default window renewed again:\n{again[-1000:]}")
    doctor = stack.compose("run", "--rm", "--no-deps", "setup", "logplatform", "doctor", check=False, timeout=300)
    hop = next((ln for ln in doctor.stdout.splitlines() if ln[5:20].strip() == "certificates"), "")
    if not hop.startswith("ok") or "days left" not in hop:
        raise AssertionError(f"doctor's certificates hop after the renewal: {doctor.stdout[-1500:]}")
    return (
        f"{len(renewed)} certificates renewed by up -d (CERT_RENEW_DAYS=5000), modes and owners kept, es01 serves "
        f"the new one without a restart, POST /logs indexed; doctor: {hop[20:].strip()[:120]}"
    )


def passwords_changed_in_env_reach_every_service(stack: Stack) -> str:
    """Every password set anew in .env: after `up -d`, Kibana is ready, Filebeat still ships, POST /logs still
    indexes (not spools), alerting runs its rules, and doctor logs in with the new elastic password."""
    new = {
        var: f"rehearsal-{var.lower().replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        for var in (
            "ELASTIC_PASSWORD",
            "KIBANA_SYSTEM_PASSWORD",
            "FILEBEAT_PASSWORD",
            "BACKEND_ES_PASSWORD",
            "ALERTING_ES_PASSWORD",
        )
    }
    changed_at = time.time()
    up = stack.compose("up", "-d", "--wait", "--wait-timeout", "600", check=False, timeout=900, dotenv=new)
    if up.returncode != 0:
        logs = stack.compose("logs", "--no-color", "--tail", "15", "setup", "kibana", "filebeat", check=False).stdout
        raise AssertionError(f"up -d with new passwords failed: {up.stderr[-800:]}\n{logs[-3000:]}")
    up_done = time.time()
    stack.reset_clients()
    if stack.secret("elastic_password") != new["ELASTIC_PASSWORD"]:
        raise AssertionError("the elastic password in the secrets volume is not the one from .env")
    since = {"range": {"event.ingested": {"gte": int(changed_at * 1000) + 15_000}}}
    shipped = wait_until(
        "Filebeat ships with its new password",
        lambda: stack.count({"bool": {"filter": [{"term": {"agent.type": "filebeat"}}, since]}}),
        180,
    )
    r = httpx.post(
        "http://127.0.0.1:8000/logs",
        headers={"X-API-Key": stack.secret("generator_api_key")},
        json={"service": "rehearsal-passwords", "message": "after the change"},
        timeout=30,
    )
    if r.status_code != 200 or r.json()["items"][0]["status"] != "indexed":
        raise AssertionError(f"the backend does not index with its new password: {r.status_code} {r.text[:300]}")
    doctor = stack.compose(
        "run",
        "--rm",
        "--no-deps",
        "setup",
        "logplatform",
        "doctor",
        "--kibana-url",
        "http://kibana:5601",
        check=False,
        timeout=300,
        dotenv=new,
    )
    if doctor.returncode != 0:
        raise AssertionError(f"doctor after the change: {doctor.stdout[-1500:]}")
    runs = wait_until(
        "ElastAlert2 runs its rules with its new password",
        lambda: _alerting_runs_since(stack, up_done) or None,
        240,
        every=10,
    )
    # back to no .env values: the services read the secret files, which now hold the new passwords
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)
    return (
        f"5 passwords changed: Kibana ready, {shipped} lines shipped since, POST indexed, {runs} rule runs "
        "recorded by alerting, doctor all ok"
    )


def _alerting_runs_since(stack: Stack, since: float) -> int:
    """Rule runs ElastAlert2 recorded in its status index after `since`: it logged in and queried."""
    index = yaml.safe_load((REPO / "alerting" / "config.yaml").read_text())["writeback_index"] + "_status"
    recent = {"range": {"@timestamp": {"gte": int(since * 1000), "format": "epoch_millis"}}}
    r = stack.es().post(f"/{index}/_count", json={"query": recent})
    return int(r.json()["count"]) if r.status_code == 200 else 0


def three_node_switch_resolves_in_compose(stack: Stack) -> str:
    """The line .env.example shows for three nodes, resolved by Compose itself (the `!override` and `!reset`
    merge tags included): es01 leaves single-node discovery, es02 and es03 come in, every client gets every node.
    Not started: the Elasticsearch stand-in runs a single node (tests/stack/standins.md)."""
    line = next(ln for ln in (REPO / ".env.example").read_text().splitlines() if ln.startswith("#COMPOSE_FILE="))
    files = [str(REPO / f) for f in line.split("=", 1)[1].split(":")] + [str(OVERRIDE)]
    config = json.loads(stack.compose("config", "--format", "json", dotenv={"COMPOSE_FILE": ":".join(files)}).stdout)
    services = config["services"]
    nodes = sorted(name for name in services if re.fullmatch(r"es\d\d", name))
    es01 = services["es01"]["environment"]
    if (
        nodes != ["es01", "es02", "es03"]
        or "discovery.type" in es01
        or es01.get("discovery.seed_hosts") != "es01,es02,es03"
    ):
        raise AssertionError(f"the switch did not make a three-node cluster: {nodes}, es01: {es01}")
    hosts = {
        name: services[name]["environment"].get(var)
        for name, var in (
            ("setup", "LOGPLATFORM_ELASTICSEARCH_URL"),
            ("backend", "LOGPLATFORM_ELASTICSEARCH_URL"),
            ("filebeat", "ELASTICSEARCH_HOSTS"),
            ("kibana", "ELASTICSEARCH_HOSTS"),
            ("alerting", "ES_HOSTS"),
        )
    }
    missing = {name: value for name, value in hosts.items() if not value or any(n not in value for n in nodes)}
    if missing:
        raise AssertionError(f"clients that do not know every node: {missing}")
    default = json.loads(stack.compose("config", "--format", "json").stdout)["services"]
    if "es02" in default or "discovery.type" not in default["es01"]["environment"]:
        raise AssertionError("without the switch the platform is no longer one node")
    return f"Compose resolves the switch: {', '.join(nodes)}; {len(hosts)} clients know every node"


def _node_refusal(stack: Stack, node: str, dotenv: dict[str, str]) -> str:
    """The last `node validation exception` a node logged (Elasticsearch's console line, ECS JSON)."""
    logs = stack.compose("logs", "--no-color", "--no-log-prefix", node, dotenv=dotenv, check=False).stdout
    found = [
        json.loads(ln)["message"]
        for ln in logs.splitlines()
        if ln.startswith("{") and "node validation exception" in ln
    ]
    return found[-1] if found else ""


def three_node_profile_on_a_default_host(stack: Stack) -> str:
    """The three-node profile switched on as on a default Linux host (vm.max_map_count 65530): `up` fails at once
    on es-host-check, which prints the fix; a node started past it exits 78 with Elasticsearch's bootstrap-check
    message. Then the fix as docs/scaling.md prints it: the nodes get past vm.max_map_count and exit 78 on the
    file-descriptor check, for real (this machine caps open files at 20000, below 65535). The host's
    vm.max_map_count is put back as it was, and the single node started again."""
    line = next(ln for ln in (REPO / ".env.example").read_text().splitlines() if "es/node/cluster.compose" in ln)
    files = [*(str(REPO / f) for f in line.split("=", 1)[1].split(":")), str(OVERRIDE), str(CLUSTER_OVERRIDE)]
    dotenv = {"COMPOSE_FILE": ":".join(files)}
    nofile = int(stack.env["LOGPLATFORM_REHEARSAL_NOFILE"])
    docs = "https://www.elastic.co/guide/en/elasticsearch/reference/9.3/"
    fd = (
        f"max file descriptors [{nofile}] for elasticsearch process is too low, increase to at least [65535]; "
        f"for more information see [{docs}bootstrap-checks-file-descriptor.html]"
    )
    map_count = (
        "max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]; "
        f"for more information see [{docs}bootstrap-checks-max-map-count.html]"
    )

    def refusal(*failures: str) -> list[str]:
        n = len(failures)
        return [
            "node validation exception",
            f"[{n}] bootstrap checks failed. You must address the points described in the following [{n}] lines "
            f"before starting Elasticsearch. For more information see [{docs}bootstrap-checks.html]",
            *(f"bootstrap check failure [{i}] of [{n}]: {f}" for i, f in enumerate(failures, 1)),
        ]

    def exit_code(node: str) -> str:
        """The code the node exited with: it restarts (`unless-stopped`), so its code is read while Docker waits to
        restart it (status `restarting`; running again, it reads 0)."""
        cid = stack.compose("ps", "-a", "-q", node, dotenv=dotenv).stdout.strip()

        def exited() -> str | None:
            inspect = ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", cid]
            status, code = run(inspect, env=stack.docker_env).stdout.split()
            return code if status in ("restarting", "exited") else None

        return wait_until(f"{node} to exit", exited, 60, every=0.2)

    sysctl = Path("/proc/sys/vm/max_map_count")
    before = sysctl.read_text().strip()
    if nofile >= 65535:
        raise AssertionError(f"this machine allows {nofile} open files: the scenario expects the 20000 cap")
    try:
        run(["sysctl", "-w", "vm.max_map_count=65530"])
        up = stack.compose("up", "-d", dotenv=dotenv, check=False, timeout=600)
        check_log = stack.compose("logs", "--no-color", "es-host-check", dotenv=dotenv, check=False).stdout
        if up.returncode == 0 or "es-host-check" not in up.stderr or "exit 78" not in up.stderr:
            raise AssertionError(f"up on a default host did not stop at es-host-check: {up.stderr[-1500:]}")
        if "vm.max_map_count is 65530 on this Docker host" not in check_log or (
            "sudo sysctl -w vm.max_map_count=262144" not in check_log
        ):
            raise AssertionError(f"es-host-check did not print the value and the fix: {check_log[-1500:]}")
        states = stack.compose("ps", "-a", "--format", "{{.Service}} {{.State}}", dotenv=dotenv).stdout
        running = {ln.split()[0] for ln in states.splitlines() if ln.endswith(" running")}
        if {"es01", "es02", "es03"} & running:
            raise AssertionError(f"nodes started although the host check failed: {sorted(running)}")
        # what a node says without the check in front of it (Elasticsearch's own refusal)
        stack.compose("up", "-d", "--no-deps", "es02", dotenv=dotenv, timeout=300)
        wait_until("es02 refusing on its bootstrap checks", lambda: _node_refusal(stack, "es02", dotenv), 120)
        default_host = _node_refusal(stack, "es02", dotenv).splitlines()
        code = exit_code("es02")
        if default_host != refusal(fd, map_count) or code != "78":
            raise AssertionError(f"es02 on a default host: exit {code}, {default_host}")

        run(["sysctl", "-w", "vm.max_map_count=262144"])  # the fix, as docs/scaling.md prints it
        fixed = stack.compose("up", "-d", "es01", "es02", "es03", dotenv=dotenv, check=False, timeout=600)
        if fixed.returncode != 0:
            raise AssertionError(f"with the fix, es-host-check still stopped up: {fixed.stderr[-1500:]}")
        refused = {}
        for node in ("es01", "es02", "es03"):

            def on_fd_only(node: str = node) -> bool:
                return _node_refusal(stack, node, dotenv).splitlines() == refusal(fd)

            wait_until(f"{node} refusing on file descriptors only", on_fd_only, 120)
            refused[node] = exit_code(node)
        if set(refused.values()) != {"78"}:
            raise AssertionError(f"exit codes with the fix: {refused}")
    finally:
        run(["sysctl", "-w", f"vm.max_map_count={before}"], check=False)
        stack.compose("rm", "-fsv", "es02", "es03", "es-host-check", dotenv=dotenv, check=False)
        stack.compose("up", "-d", "--wait", "--wait-timeout", "600", "--remove-orphans", timeout=900)
    if sysctl.read_text().strip() != before:
        raise AssertionError(f"vm.max_map_count not restored to {before}")
    return (
        f"default host: up stopped by es-host-check with the fix; es02 exited 78 on [fd {nofile}, max_map_count "
        f"65530]; fixed: es01-es03 exited 78 on the file-descriptor check only (machine cap {nofile}); "
        f"vm.max_map_count back to {before}, single node up again"
    )


def readme_backup_and_restore_run_as_printed(stack: Stack) -> str:
    """*Backup and restore*, line by line as printed: an event indexed before the snapshot is back after the
    restore, one indexed after it is gone, and every service is healthy again at the end."""
    lines = [ln.strip() for ln in _readme_block("### Backup and restore").splitlines() if ln.strip()]
    create = next(i for i, ln in enumerate(lines) if "snapshot create" in ln)
    workdir = stack.workdir / "readme"
    workdir.mkdir(exist_ok=True)

    def post(marker: str) -> None:
        r = httpx.post(
            "http://127.0.0.1:8000/logs",
            headers={"X-API-Key": stack.secret("generator_api_key")},
            json={"service": "rehearsal-backup", "message": marker},
            timeout=30,
        )
        if r.status_code != 200 or r.json()["items"][0]["status"] != "indexed":
            raise AssertionError(f"POST {marker}: {r.status_code} {r.text[:300]}")

    def present(marker: str) -> int:
        return stack.count({"match_phrase": {"message": marker}})

    before, after = (f"backup-{when}-{uuid.uuid4().hex[:8]}" for when in ("before", "after"))
    post(before)
    for i, line in enumerate(lines):
        result = stack.compose_shell(line, workdir)
        if result.returncode != 0:
            raise AssertionError(f"`{line}` exited {result.returncode}: {result.stdout[-800:]}{result.stderr[-800:]}")
        if i == create:
            post(after)
            if not present(after):
                raise AssertionError("the event POSTed after the snapshot is not indexed")
    stack.reset_clients()
    if present(before) != 1 or present(after) != 0:
        raise AssertionError(
            f"after the restore: before-snapshot event {present(before)}x (want 1), "
            f"after-snapshot event {present(after)}x (want 0)"
        )
    up = stack.compose("up", "-d", "--wait", "--wait-timeout", "300", check=False, timeout=600)
    if up.returncode != 0:
        raise AssertionError(f"the platform did not come back after the restore: {up.stderr[-800:]}")
    return f"{len(lines)} commands ran; the restore brought back the snapshot's event and not the later one"


def kibana_key_rotation_keeps_every_old_key(stack: Stack) -> str:
    """KIBANA_ENCRYPTION_KEY changed in .env twice: after each `up -d` Kibana is ready on the new key and holds
    every earlier key as a decryption-only key, newest first (Kibana logs a hash of each key it holds). From the
    second change on Kibana is given a list of several keys, which must survive kibana-docker's unquoted expansion
    (the stand-in splits it as bash does: a list written with a space stops Kibana)."""
    first = stack.secret("kibana_encryption_key")
    keys = [f"rehearsal-kibana-key-{uuid.uuid4().hex}" for _ in range(2)]
    for key in keys:
        up = stack.compose(
            "up",
            "-d",
            "--wait",
            "--wait-timeout",
            "600",
            check=False,
            timeout=900,
            dotenv={"KIBANA_ENCRYPTION_KEY": key},
        )
        if up.returncode != 0:
            logs = stack.compose("logs", "--no-color", "--tail", "15", "setup-certs", "kibana", check=False).stdout
            raise AssertionError(f"up -d with a new Kibana key failed: {up.stderr[-800:]}\n{logs[-3000:]}")
    log = stack.compose("logs", "--no-color", "kibana").stdout

    def hashes(setting: str) -> str:
        lines = re.findall(rf"Hashed '{re.escape(setting)}' for this instance: (\S+)", log)
        return lines[-1] if lines else ""

    want = ",".join(_key_hash(k) for k in (keys[0], first))
    held = hashes("xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys")
    if hashes("xpack.encryptedSavedObjects.encryptionKey") != _key_hash(keys[1]) or held != want:
        raise AssertionError(f"Kibana does not hold the new key and both old ones: {log[-2000:]}")
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)  # the kept key, now keys[1]
    return "2 key changes: Kibana ready on the newest key, both earlier keys kept for decryption, newest first"


def _key_hash(key: str) -> str:
    """How Kibana logs a key it holds: SHA3-256, base64."""
    return base64.b64encode(hashlib.sha3_256(key.encode()).digest()).decode()


def readme_generator_stories_run_as_printed(stack: Stack) -> str:
    """Two of *The generator*'s commands, exactly as printed: the attack (120 s, through Filebeat) and the load
    through the backend (100,000 events over HTTP with the generated key). The other two take 5 and 10 minutes.
    The attack is demo traffic (tags: demo): alerting runs over it and raises nothing (ALERT_ON_DEMO is false)."""
    block = _readme_block("### The generator")
    attack, load = (
        next(ln.strip() for ln in block.splitlines() if marker in ln) for marker in ("--scenario attack", "--mode http")
    )
    workdir = stack.workdir / "readme"
    workdir.mkdir(exist_ok=True)
    failed_logins = {
        "bool": {"filter": [{"term": {"event.action": "user-login"}}, {"term": {"event.outcome": "failure"}}]}
    }
    logins_before = stack.count(failed_logins)
    rule = yaml.safe_load((REPO / "alerting" / "rules" / "failed-logins-by-ip.yaml").read_text())["name"]
    alerts_before = _alerts_sent(stack, rule)
    said = []
    for command in (attack, load):
        started = time.time()
        result = stack.compose_shell(command, workdir)
        if result.returncode != 0:
            raise AssertionError(f"`{command}` exited {result.returncode}: {result.stderr[-800:]}")
        said.append(f"`{command}` {time.time() - started:.0f}s")
    # the load ran last, and nothing else POSTs meanwhile: the backend's documents since it began are the load's,
    # indexed by the backend (no log.file.path) or from its spool by Filebeat; every other writer ships files
    through_backend = {
        "bool": {
            "filter": [{"range": {"event.ingested": {"gte": int(started * 1000)}}}],
            "should": [
                {"bool": {"must_not": [{"exists": {"field": "log.file.path"}}]}},
                {"prefix": {"log.file.path": "/var/log/logplatform/spool/"}},
            ],
            "minimum_should_match": 1,
        }
    }
    logins = wait_until(
        "the attack's failed logins indexed", _reaching(1000, lambda: stack.count(failed_logins) - logins_before), 180
    )
    loaded = wait_until(
        "100,000 events through the backend", _reaching(100_000, lambda: stack.count(through_backend)), 300, every=5
    )
    time.sleep(5)  # a late duplicate would show up now
    if loaded != 100_000 or stack.count(through_backend) != 100_000:
        raise AssertionError(f"{stack.count(through_backend)} documents through the backend for 100,000 events sent")
    demo = {"bool": {"filter": [failed_logins, {"term": {"tags": "demo"}}]}}
    if stack.count(demo) - logins_before < logins:
        raise AssertionError(f"the attack's failed logins are not all tagged demo ({stack.count(demo)})")
    indexed = time.time()  # every rule has run twice over the attack by the time it has run twice since now
    rules = len(list((REPO / "alerting" / "rules").glob("*.yaml")))
    wait_until("alerting runs over the attack", _reaching(2 * rules, lambda: _alerting_runs_since(stack, indexed)), 300)
    if (alerts := _alerts_sent(stack, rule) - alerts_before) != 0:
        raise AssertionError(f"the generator's demo attack raised {alerts} '{rule}' alert(s)")
    return (
        f"{'; '.join(said)}: {logins} failed logins via Filebeat (tags: demo), {loaded} events through the backend, "
        f"each once; alerting ran over the attack and '{rule}' stayed quiet"
    )


def generator_switched_off_only_a_real_silence_alerts(stack: Stack) -> str:
    """README, *The generator*: GENERATOR_ENABLED=false and `up -d`: the generator stays, healthy, writing nothing,
    and over a window in which its services (learned from the data before the switch) would have gone silent no
    alert names them; a real service that logs, then goes quiet, raises the silence alert once, and no more while it
    stays quiet. ALERT_SILENCE_MINUTES=1 shortens the story. `up -d` without the setting switches it back on."""
    off = {"GENERATOR_ENABLED": "false", "ALERT_SILENCE_MINUTES": "1"}
    up = stack.compose("up", "-d", "--wait", "--wait-timeout", "600", check=False, timeout=900, dotenv=off)
    if up.returncode != 0 or stack.services()["generator"].get("Health") != "healthy":
        raise AssertionError(f"up -d --wait with the generator off: {up.returncode} {up.stderr[-800:]}")
    said = stack.compose("logs", "--no-color", "generator", check=False).stdout
    if "switched off (GENERATOR_ENABLED=false)" not in said:
        raise AssertionError(f"the generator does not say it is off:\n{said[-1500:]}")
    switched = time.time()
    service = f"rehearsal-billing-{uuid.uuid4().hex[:6]}"
    key = {"X-API-Key": stack.secret("generator_api_key")}
    while time.time() - switched < 100:  # a real service logs for longer than the silence window, then stops
        r = httpx.post("http://127.0.0.1:8000/logs", headers=key, json={"service": service, "message": "tick"})
        if r.status_code not in (200, 202):
            raise AssertionError(f"POST /logs: {r.status_code} {r.text[:300]}")
        time.sleep(5)
    rule = re.search(r"^name: (.+)$", (REPO / "alerting" / "rules" / "service-silent.yaml").read_text(), re.M)[1]
    wait_until(f"'{rule}' for {service}", lambda: _silent_keys(stack, rule, switched).get(service), 300, every=10)
    time.sleep(180)  # three more silence windows: a second alert for it would come now
    keys = _silent_keys(stack, rule, switched)
    demo = (GENERATOR_SERVICES | {"generator"}) & keys.keys()
    written = stack.count({"bool": {"filter": [{"term": {"tags": "demo"}}, _ingested_since(switched + 30)]}})
    if keys.get(service) != 1 or demo or written:
        raise AssertionError(f"alerts by service since the switch: {keys}; demo events written since: {written}")
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)  # the setting gone: on again
    back = time.time()
    wait_until("demo events again", lambda: stack.count({"bool": {"filter": [_ingested_since(back)]}}), 180)
    return (
        f"generator off: healthy, nothing written, no alert for its services; {service} went quiet: "
        f"'{rule}' once, and not again over 3 minutes; switched on again, it writes within {time.time() - back:.0f}s"
    )


def _ingested_since(since: float) -> dict[str, Any]:
    return {"range": {"event.ingested": {"gte": int(since * 1000)}}}


def _silent_keys(stack: Stack, rule: str, since: float) -> dict[str, int]:
    """Alerts of the silence rule sent since `since`, by the service they name (match_body.key)."""
    index = yaml.safe_load((REPO / "alerting" / "config.yaml").read_text())["writeback_index"]
    stack.es().post(f"/{index}/_refresh")
    query = {
        "bool": {
            "filter": [
                {"term": {"rule_name": rule}},
                {"term": {"alert_sent": True}},
                {"range": {"alert_time": {"gte": int(since * 1000), "format": "epoch_millis"}}},
            ]
        }
    }
    r = stack.es().post(f"/{index}/_search", json={"size": 500, "query": query})
    out: dict[str, int] = {}
    for hit in r.json().get("hits", {}).get("hits", []) if r.status_code == 200 else []:
        name = str(hit["_source"].get("match_body", {}).get("key"))
        out[name] = out.get(name, 0) + 1
    return out


def _alerts_sent(stack: Stack, rule: str) -> int:
    """Alerts ElastAlert2 recorded as sent in its writeback index (alerting/config.yaml)."""
    index = yaml.safe_load((REPO / "alerting" / "config.yaml").read_text())["writeback_index"]
    r = stack.es().post(
        f"/{index}/_count",
        json={"query": {"bool": {"filter": [{"term": {"rule_name": rule}}, {"term": {"alert_sent": True}}]}}},
    )
    return int(r.json()["count"]) if r.status_code == 200 else 0


def container_output_is_shipped_by_label(stack: Stack) -> str:
    """The README's volume and container examples as printed; the platform's own containers' output; a container
    without the label not shipped."""
    volume_block, container_block = _readme_blocks("### Four ways in")
    workdir = stack.workdir / "four-ways"
    workdir.mkdir(exist_ok=True)
    unmarked = "lp-rehearsal-unmarked"
    try:
        for block in (volume_block, container_block):
            result = stack.compose_shell("set -euo pipefail\n" + block, workdir)
            if result.returncode != 0:
                raise AssertionError(f"README block failed ({result.returncode}): {result.stderr[-1500:]}\n{block}")
        run(
            [
                "docker",
                "run",
                "-d",
                "--name",
                unmarked,
                "--network",
                "none",
                "log-platform:local",
                "python",
                "-c",
                "print('not for the platform')",
            ],
            env=stack.docker_env,
        )
        from_file = wait_until(
            "the README's line appended to the volume",
            lambda: stack.search({"term": {"service.name": "my-batch"}}),
            120,
        )
        hello = wait_until(
            "the README container's three events",
            lambda: (lambda hits: hits if len(hits) >= 3 else None)(
                stack.search({"term": {"container.name": "hello-container"}})
            ),
            120,
        )
        # by content, not by order: Python buffers stdout when it is no terminal, so the traceback comes first
        docs = {h["_source"]["message"]: h["_source"] for h in hello}
        json_line = docs.get("hello from a container", {})
        plain = docs.get("WARN a plain line", {})
        crash = docs.get("ZeroDivisionError: division by zero", {})
        problems = []
        if from_file[0]["_source"]["message"] != "hello from a file on the log volume":
            problems.append(f"volume line: {from_file[0]['_source']}")
        if json_line.get("log", {}).get("level") != "info":
            problems.append(f"JSON line: {json_line or sorted(docs)}")
        if plain.get("log", {}).get("level") != "warning" or "error" in plain:
            problems.append(f"plain line: {plain or sorted(docs)}")
        if (
            crash.get("error", {}).get("type") != "ZeroDivisionError"
            or "Traceback" not in crash["error"].get("stack_trace", "")
            or crash.get("log", {}).get("flags") != ["multiline"]
        ):
            problems.append(f"traceback not joined into one event: {crash}")
        image = json_line.get("container", {}).get("image", {}).get("name")
        if image != "python:3.13.13-slim-trixie" or json_line.get("service", {}).get("name") != "hello-container":
            problems.append(f"attribution: {json_line.get('container')} service {json_line.get('service')}")
        own = {
            name: stack.count({"term": {"container.labels.com_docker_compose_service": name}})
            for name in ("es01", "kibana", "filebeat", "setup", "container-logs")
        }
        problems += [f"no output of the platform's own {name}" for name, n in own.items() if n == 0]
        if stack.count({"term": {"container.name": unmarked}}):
            problems.append("the unmarked container's output was shipped")
        if problems:
            raise AssertionError("; ".join(problems))
    finally:
        run(["docker", "rm", "-f", "hello-container", unmarked], env=stack.docker_env, check=False)
    return f"README volume and container examples indexed and parsed; own services' output: {own}"


def queue_switch_runs_end_to_end(stack: Stack) -> str:
    """The queue switched on as a user does (.env's COMPOSE_FILE): Kafka and the indexer start, POST /logs answers
    queued, the generator's lines and posted events arrive through Kafka, doctor checks the queue's hops, and with
    Elasticsearch stopped the events wait in Kafka and arrive once when it is back. Then switched off again."""
    switch = re.search(r"^#?(COMPOSE_FILE=\S*kafka/queue\.compose\.yml)$", (REPO / ".env.example").read_text(), re.M)
    if switch is None:
        raise AssertionError(".env.example no longer shows the queue switch")
    files = switch.group(1).split("=", 1)[1].split(":")
    queued_files = ":".join([*(str(REPO / f) for f in files), str(OVERRIDE), str(QUEUE_OVERRIDE)])
    dotenv = {"COMPOSE_FILE": queued_files}
    up = stack.compose("up", "-d", "--wait", "--wait-timeout", "600", dotenv=dotenv, check=False, timeout=900)
    states = stack.compose("ps", "-a", "--format", "{{.Service}} {{.State}} {{.Health}}", dotenv=dotenv).stdout
    if up.returncode != 0 or not re.search(r"^indexer running healthy$", states, re.M):
        logs = stack.compose("logs", "--no-color", "--tail", "20", "kafka", "queue-setup", "indexer",
                             dotenv=dotenv, check=False).stdout  # fmt: skip
        raise AssertionError(
            f"the queue switch did not come up ({up.returncode}): {up.stderr[-1500:]}\n{states}\n{logs[-4000:]}"
        )
    key = stack.secret("generator_api_key")
    marker = uuid.uuid4().hex[:10]

    def post(n: int, tag: str) -> list[str]:
        events = [{"service": f"queue-{marker}", "level": "info", "message": f"{tag} {i}"} for i in range(n)]
        r = httpx.post("http://127.0.0.1:8000/logs", headers={"X-API-Key": key}, json=events, timeout=60)
        return [item["status"] for item in r.json()["items"]]

    statuses = post(20, "before")
    if set(statuses) != {"queued"}:
        raise AssertionError(f"POST /logs with the queue on answered {statuses[:3]}, not queued")
    of_marker = {"term": {"service.name": f"queue-{marker}"}}
    wait_until("the posted events indexed through Kafka", _reaching(20, lambda: stack.count(of_marker)), 120)
    # lines of our own on the volume, as a service writes them: each indexed through Kafka, once
    lines = 300
    stack.compose("run", "--rm", "--no-deps", "generator", "--rate", "100", "--count", str(lines),
                  "--services", f"queue-file-{marker}", "--quiet", dotenv=dotenv, timeout=300)  # fmt: skip
    file_lines = {
        "bool": {
            "filter": [
                {"term": {"service.name": f"queue-file-{marker}"}},
                {"term": {"input.type": "kafka"}},
                {"exists": {"field": "log.file.path"}},
            ]
        }
    }
    shipped = wait_until(
        "the volume's lines indexed through Kafka", _reaching(lines, lambda: stack.count(file_lines)), 180
    )
    time.sleep(5)  # a late duplicate would show up now
    if shipped != lines or stack.count(file_lines) != lines:
        raise AssertionError(f"{stack.count(file_lines)} documents through Kafka for {lines} lines written")
    doctor = stack.compose("run", "--rm", "--no-deps", "setup", "logplatform", "doctor", dotenv=dotenv,
                           check=False, timeout=300).stdout  # fmt: skip
    queue_hops = [ln for ln in doctor.splitlines() if "queue " in ln[:20]]
    if len(queue_hops) != 3 or not all(ln.startswith("ok") for ln in queue_hops):
        raise AssertionError(f"doctor did not report the queue's three hops ok:\n{doctor[-2000:]}")

    stack.compose("stop", "es01", dotenv=dotenv, timeout=300)
    stack.reset_clients()
    during = post(200, "during")  # Kafka takes them: queued at once, Elasticsearch down or not
    time.sleep(20)
    stack.compose("start", "es01", dotenv=dotenv, timeout=300)
    wait_until("es01 healthy again", lambda: stack.services()["es01"].get("Health") == "healthy", 300)
    stack.reset_clients()
    n = wait_until("the events posted while es01 was stopped", _reaching(220, lambda: stack.count(of_marker)), 300)
    time.sleep(5)
    if set(during) != {"queued"} or stack.count(of_marker) != 220:
        raise AssertionError(f"{stack.count(of_marker)} documents for 220 events (during: {set(during)})")
    # switched off: the compose files as before; Kafka and the indexer go
    stack.compose("up", "-d", "--wait", "--wait-timeout", "600", "--remove-orphans", timeout=900)
    left = set(stack.services())
    if {"kafka", "indexer"} & left:
        raise AssertionError(f"switching the queue off left {sorted({'kafka', 'indexer'} & left)} running")
    return (
        f"queue on: {shipped} volume lines and {n} posted events (200 while es01 was stopped) indexed through "
        f"Kafka once each; doctor: {'; '.join(ln[5:].strip() for ln in queue_hops)}; switched off cleanly"
    )


SCENARIOS = [
    first_start,
    ingest_paths_follow_the_contract,
    doctor_reports_every_hop_ok,
    second_up_changes_nothing_and_down_up_keeps_data,
    es_restart_loses_and_duplicates_nothing,
    restart_es01_then_up_five_times,
    secrets_and_keys_are_guarded,
    certificates_renewed_by_up_are_served_without_a_restart,
    passwords_changed_in_env_reach_every_service,
    kibana_key_rotation_keeps_every_old_key,
    three_node_switch_resolves_in_compose,
    three_node_profile_on_a_default_host,
    readme_backup_and_restore_run_as_printed,
    readme_commands_run_as_printed,
    readme_generator_stories_run_as_printed,
    generator_switched_off_only_a_real_silence_alerts,
    container_output_is_shipped_by_label,
    queue_switch_runs_end_to_end,
]
