"""Static checks of docker-compose.yml, .env.example and filebeat.yml (Docker cannot run here), against the
Compose spec, the runtime traps in shared/reference/elastic-compose-facts.md, and our own names."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from logplatform import names
from logplatform.certificates import NODES
from logplatform.stack_version import ELASTIC_STACK_VERSION
from tests.support.reference import REFERENCE, REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def env_example() -> dict[str, str]:
    out = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    schema = json.loads((REFERENCE / "compose-spec.json").read_text())
    jsonschema.validate(compose(), schema)


def test_every_long_running_service_has_a_healthcheck_and_one_shots_do_not_restart() -> None:
    for name, svc in services().items():
        if svc.get("restart") == "no":
            assert "healthcheck" not in svc, name
        else:
            assert "healthcheck" in svc, f"{name} runs for good but has no healthcheck"
            test = svc["healthcheck"]["test"]
            if isinstance(test, list) and test[0] == "CMD":
                assert not any("|" in part for part in test), f"{name}: a pipe needs CMD-SHELL"


def test_start_order_has_no_cycle_and_puts_setup_first() -> None:
    deps = {n: set((s.get("depends_on") or {}).keys()) for n, s in services().items()}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        assert n not in visiting, f"dependency cycle through {n}"
        if n in order:
            return
        visiting.add(n)
        for d in deps[n]:
            visit(d)
        visiting.discard(n)
        order.append(n)

    for n in deps:
        visit(n)

    def before(a: str, b: str) -> bool:
        return order.index(a) < order.index(b)

    assert before("setup-certs", "es01") and before("es01", "setup")
    for user in ("kibana", "filebeat", "backend", "generator"):
        assert before("setup", user), user
    assert before("kibana", "kibana-setup")
    for name, svc in services().items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            dep_svc = services()[dep]
            wanted = "service_completed_successfully" if dep_svc.get("restart") == "no" else "service_healthy"
            assert cond["condition"] == wanted, f"{name} -> {dep}"
            # an always-on service may not depend on a profile-gated one
            if "profiles" not in svc:
                assert "profiles" not in dep_svc, f"{name} depends on profile-only {dep}"


def test_every_one_shot_is_waited_for_so_up_wait_succeeds() -> None:
    """`docker compose up -d --wait` fails on a container that exited, even with 0, unless some service depends on
    it with service_completed_successfully (docker/compose v2.40.3 pkg/compose/start.go getDependencyCondition,
    pkg/compose/convergence.go isServiceHealthy); the rehearsal runs `up -d --wait`."""
    for name, svc in services().items():
        if svc.get("restart") == "no":
            waiters = [
                n
                for n, s in services().items()
                if (s.get("depends_on") or {}).get(name, {}).get("condition") == "service_completed_successfully"
            ]
            assert waiters, f"{name} is a one-shot nothing waits for: up -d --wait would fail when it exits 0"


def test_every_variable_has_a_default_or_is_in_env_example() -> None:
    documented = env_example()
    text = COMPOSE_FILE.read_text()
    for m in VAR.finditer(text.replace("$$", "")):
        name = m.group(1) or m.group(4)
        if m.group(2) == ":?" or m.group(2) == "?":
            pytest.fail(f"${{{name}:?}} aborts the whole project without .env")
        has_default = m.group(2) in (":-", "-")
        assert has_default, f"${name} has no default"
        assert name in documented, f"{name} is not in .env.example"


def test_every_service_rotates_its_container_output() -> None:
    """Docker's json-file driver keeps a container's output forever unless told to rotate: a chatty service fills
    the host's disk. Every service of both compose files logs to json-file (what container-logs ships) with a
    bounded size and count, settable in .env."""
    queue = yaml.safe_load((REPO / "kafka" / "queue.compose.yml").read_text())["services"]
    for name, service in [*services().items(), *((n, s) for n, s in queue.items() if "image" in s)]:
        logging = service.get("logging") or {}
        options = logging.get("options") or {}
        assert logging.get("driver") == "json-file", f"{name} does not log to json-file"
        assert options.get("max-size") == "${DOCKER_LOG_MAX_SIZE:-10m}", f"{name} has no rotation size"
        assert options.get("max-file") == "${DOCKER_LOG_MAX_FILE:-3}", f"{name} keeps every rotated file"


def test_every_long_running_service_has_a_memory_limit_settable_in_env() -> None:
    """A container without a limit can take the host's memory from the others; each has one, from .env
    (`mem_limit: ${X_MEM_LIMIT:-default}`, X_MEM_LIMIT in .env.example with the same default). Both compose files."""
    queue = yaml.safe_load((REPO / "kafka" / "queue.compose.yml").read_text())["services"]
    documented = env_example()
    for name, service in [*services().items(), *((n, s) for n, s in queue.items() if "image" in s)]:
        if service.get("restart") == "no" and "mem_limit" not in service:
            continue  # a one-shot may go without; ours have one (below)
        m = re.fullmatch(r"\$\{([A-Z0-9_]+_MEM_LIMIT):-(\d+[mg])\}", str(service.get("mem_limit")))
        assert m, f"{name} has no memory limit settable in .env: {service.get('mem_limit')}"
        assert documented.get(m.group(1)) == m.group(2), f"{m.group(1)}={m.group(2)} is not in .env.example"
    for one_shot in ("setup-certs", "setup", "kibana-setup"):
        assert services()[one_shot]["mem_limit"] == "${SETUP_MEM_LIMIT:-512m}", one_shot


def test_the_generator_is_one_switch_that_keeps_it_a_service() -> None:
    """GENERATOR_ENABLED (default on) reaches the generator through its command, which `docker compose run --rm
    generator <story>` replaces (a story runs with the switch off); switched off it keeps running, healthy (its
    healthcheck reads the file it leaves), so kibana-setup, which only the generator waits for, still lets
    `up -d --wait` succeed."""
    from generator.cli import SWITCHED_OFF

    generator = services()["generator"]
    assert generator["command"] == ["--enabled", "${GENERATOR_ENABLED:-true}"]
    assert env_example()["GENERATOR_ENABLED"] == "true"
    assert "profiles" not in generator and generator["restart"] == "unless-stopped"
    assert f"/tmp/{SWITCHED_OFF}" in " ".join(generator["healthcheck"]["test"])
    assert generator["depends_on"]["kibana-setup"]["condition"] == "service_completed_successfully"


def test_one_pinned_elastic_version_everywhere() -> None:
    images = {n: s["image"] for n, s in services().items() if "image" in s}
    elastic = {n: i for n, i in images.items() if i.startswith("docker.elastic.co/")}
    assert {"es01", "kibana", "filebeat"} <= elastic.keys()
    for name, image in elastic.items():
        assert image.endswith(f":${{ELASTIC_VERSION:-{ELASTIC_STACK_VERSION}}}"), f"{name}: {image}"
    assert env_example()["ELASTIC_VERSION"] == ELASTIC_STACK_VERSION
    for name, image in images.items():
        assert not image.endswith(":latest") and ":" in image, f"{name}: {image} is not pinned"
    for dockerfile in (REPO / "backend" / "Dockerfile", REPO / "generator" / "Dockerfile"):
        base = re.search(r"^FROM (\S+)", dockerfile.read_text(), re.M).group(1)
        assert re.search(r":\d+\.\d+\.\d+", base), f"{dockerfile}: {base} is not pinned"
        assert re.search(r"^USER 1000:0$", dockerfile.read_text(), re.M), f"{dockerfile} must not run as root"


def test_published_ports_are_loopback_only() -> None:
    for name, svc in services().items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_no_password_in_the_repository() -> None:
    documented = env_example()
    for key in (
        "ELASTIC_PASSWORD",
        "KIBANA_SYSTEM_PASSWORD",
        "FILEBEAT_PASSWORD",
        "BACKEND_ES_PASSWORD",
        "KIBANA_ENCRYPTION_KEY",
    ):
        assert documented[key] == "", f"{key} must be empty in .env.example (generated on first start)"
    text = COMPOSE_FILE.read_text().lower()
    assert "changeme" not in text
    for name, svc in services().items():
        env = svc.get("environment") or {}
        for key, value in env.items():
            if "PASSWORD" in key and not key.endswith("_FILE"):
                assert str(value).startswith("${") and str(value).endswith(":-}"), f"{name}: {key}={value}"


def test_elastic_runtime_traps() -> None:
    es = services()["es01"]["environment"]
    assert "ELASTIC_PASSWORD" not in es and es["ELASTIC_PASSWORD_FILE"]  # both at once is an error
    assert "bootstrap.memory_lock" in es and es["bootstrap.memory_lock"] == "false"  # memlock fails rootless
    assert "memlock" not in (services()["es01"].get("ulimits") or {})
    single = (REPO / "es/node/single-node.env").read_text()
    assert "discovery.type=single-node" in single and "initial_master_nodes" not in single
    # SSL paths relative to the config directory, certificates mounted inside it
    for key, value in es.items():
        if key.startswith("xpack.security") and key.endswith((".key", ".certificate", ".certificate_authorities")):
            assert value.startswith("certs/"), key
    kibana = services()["kibana"]
    allowed = {
        "ELASTICSEARCH_HOSTS",
        "ELASTICSEARCH_USERNAME",
        "ELASTICSEARCH_PASSWORD",
        "ELASTICSEARCH_SERVICEACCOUNTTOKEN",
        "ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES",
        "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY",
        "XPACK_SECURITY_ENCRYPTIONKEY",
        "XPACK_REPORTING_ENCRYPTIONKEY",
        "XPACK_ENCRYPTEDSAVEDOBJECTS_KEYROTATION_DECRYPTIONONLYKEYS",
        "SERVER_NAME",
    }
    # read by our command wrapper (and unset before Kibana starts), so a change in .env recreates Kibana
    ours = {"KIBANA_SYSTEM_PASSWORD", "KIBANA_ENCRYPTION_KEY"}
    assert set(kibana["environment"]) <= allowed | ours
    assert "unset KIBANA_SYSTEM_PASSWORD KIBANA_ENCRYPTION_KEY" in " ".join(kibana["command"])
    assert kibana["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"
    command = " ".join(kibana["command"])
    assert "$$(cat" in command and "exec /usr/local/bin/kibana-docker" in command
    # what the command exports must be a variable kibana-docker maps to a setting, or Kibana never sees it
    exported = set(re.findall(r"\b([A-Z][A-Z_]+)=\"", command))
    assert "XPACK_ENCRYPTEDSAVEDOBJECTS_KEYROTATION_DECRYPTIONONLYKEYS" in exported
    assert exported <= allowed, exported - allowed
    assert "wget" not in COMPOSE_FILE.read_text()
    for name, svc in services().items():
        for part in ([svc["healthcheck"]["test"]] if "healthcheck" in svc else []) + [svc.get("command", "")]:
            flat = json.dumps(part)
            assert not re.search(r"(?<!\$)\$\((?!\$)", flat), f"{name}: container-side $( needs $$"


def test_log_volume_agrees_between_writers_and_filebeat() -> None:
    svc = services()

    def mount(service: str, volume: str) -> str:
        for m in svc[service]["volumes"]:
            if m.split(":")[0] == volume:
                return m.split(":")[1]
        raise AssertionError(f"{service} does not mount {volume}")

    log_dir = svc["backend"]["environment"]["LOGPLATFORM_LOG_DIR"]
    assert mount("backend", "logs") == log_dir
    assert svc["generator"]["environment"]["LOGPLATFORM_GENERATOR_LOG_DIR"] == log_dir
    assert mount("generator", "logs") == log_dir
    assert svc["filebeat"]["environment"]["LOGPLATFORM_LOG_DIR"] == log_dir
    assert mount("filebeat", "logs") == log_dir
    fb = yaml.safe_load((REPO / "filebeat/filebeat.yml").read_text())
    paths = fb["filebeat.inputs"][0]["paths"]
    # what the backend (own log, spool) and the generator (services/) write is what Filebeat reads
    assert any(p.endswith("}/*.log*") for p in paths)
    assert any(p.endswith("}/services/*.log*") for p in paths)
    assert any(p.endswith("}/spool/*.ndjson*") for p in paths)


def test_names_agree_across_filebeat_es_and_code() -> None:
    fb = yaml.safe_load((REPO / "filebeat/filebeat.yml").read_text())
    out = fb["output.elasticsearch"]
    assert out["index"] == names.DATA_STREAM
    assert out["pipeline"] == names.PIPELINE
    assert fb["setup.template.enabled"] is False and fb["setup.ilm.enabled"] is False
    assert fb["http.enabled"] is True and fb["http.port"] == 5066
    assert "curl -fs http://localhost:5066/" in json.dumps(services()["filebeat"]["healthcheck"])
    assert not any("add_cloud_metadata" in json.dumps(p) for p in fb.get("processors") or [])
    template = json.loads((REPO / "es/index-templates/logs-logplatform.json").read_text())
    assert re.fullmatch(template["index_patterns"][0].replace("*", ".*"), names.DATA_STREAM)
    from backend.settings import Settings

    assert Settings(_env_file=None).data_stream == names.DATA_STREAM  # type: ignore[call-arg]
    assert Settings(_env_file=None).pipeline == names.PIPELINE  # type: ignore[call-arg]
    inputs = fb["filebeat.inputs"]
    assert len({i["id"] for i in inputs}) == len(inputs) and all(i["id"] for i in inputs)
    assert inputs[0]["prospector.scanner.fingerprint.length"] < 1024  # small files are read too


def _reference_keys(text: str) -> set[str]:
    """Dotted key paths in filebeat.reference.yml, commented-out settings included ("[]" marks a list item).

    Settings are written `#key: value` at their indentation (prose comments are `# text`), so the
    indentation gives the nesting; list items may stand at their parent key's indentation.
    """
    keys: set[str] = set()
    stack: list[tuple[int, str, bool]] = []  # (indent, path, is a list item marker)
    for raw in text.splitlines():
        m = re.match(r"^(\s*)#?(- )?([A-Za-z_][\w.]*):(\s|$)", raw)
        if not m:
            continue
        indent, item, key = len(m.group(1)), m.group(2), m.group(3)
        if item:
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            parent = stack[-1][1] if stack else ""
            stack.append((indent, parent + "[]", True))
            indent += 2
        else:
            while stack and stack[-1][0] >= indent and not (stack[-1][2] and stack[-1][0] + 2 <= indent):
                stack.pop()
        parent = stack[-1][1] if stack else ""
        path = f"{parent}{key}" if parent.endswith("[]") or not parent else f"{parent}.{key}"
        keys.add(path)
        stack.append((indent, path, False))
    return keys


def _our_keys(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix and not prefix.endswith("[]") else f"{prefix}{k}"
            out.add(path)
            if isinstance(v, (dict, list)) and k != "paths":
                out |= _our_keys(v, path)
    elif isinstance(value, list):
        for item in value:
            out |= _our_keys(item, prefix + "[]")
    return out


@pytest.mark.tools
def test_every_filebeat_key_is_an_option_of_the_pinned_filebeat() -> None:
    from tests.filebeat.build import beats_source

    reference = (beats_source() / "filebeat" / "filebeat.reference.yml").read_text()
    # the output's own reference page documents a few options the reference config leaves out
    # (non_indexable_policy.dead_letter_index, beta): its YAML examples count as documentation
    output_docs = (beats_source() / "libbeat/outputs/elasticsearch/docs/elasticsearch.asciidoc").read_text()
    known = _reference_keys(reference) | _reference_keys(output_docs)
    ours = _our_keys(yaml.safe_load((REPO / "filebeat/filebeat.yml").read_text()))
    unknown = sorted(ours - known)
    assert not unknown, f"not options of Filebeat {ELASTIC_STACK_VERSION}: {unknown}"


@pytest.mark.tools
def test_the_tested_filebeat_is_the_pinned_version() -> None:
    from tests.filebeat.build import build, version

    build(quiet=True)
    assert version() == ELASTIC_STACK_VERSION


@pytest.mark.tools
def test_alerting_service_runs_the_tested_elastalert_with_our_rules_and_least_privilege() -> None:
    from alerting import render
    from logplatform import secret_store
    from logplatform.setup import ROLES, USERS
    from tests.alerting.build import VERSION, build

    svc = services()["alerting"]
    # the tests run the release the image pins: the one installed in their venv says which it is
    installed = subprocess.run(
        [str(build(quiet=True)), "-c", "from importlib.metadata import version; print(version('elastalert2'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert svc["image"] == f"jertel/elastalert2:{installed.stdout.strip()}"
    # Elasticsearch 9 support arrived in ElastAlert2 2.26.0 (its CHANGELOG); older releases speak 7.x and 8.x
    assert tuple(map(int, VERSION.split("."))) >= (2, 26, 0)
    assert ELASTIC_STACK_VERSION.startswith("9.")
    assert svc["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    mounts = {m.split(":")[1]: m.split(":")[0] for m in svc["volumes"]}
    assert mounts["/opt/logplatform/alerting"] == "./alerting"
    assert mounts["/opt/elastalert/config.yaml"] == "./alerting/config.yaml"  # where the image's run.sh reads it
    entrypoint = (REPO / "alerting/entrypoint.sh").read_text()
    assert svc["entrypoint"] == ["sh", "/opt/logplatform/alerting/entrypoint.sh"]
    assert "exec /opt/elastalert/run.sh" in entrypoint and "--prometheus_port 9979" in entrypoint
    assert "9979" in json.dumps(svc["healthcheck"]["test"])
    conf = yaml.safe_load((REPO / "alerting/config.yaml").read_text())
    assert f"--out {conf['rules_folder']}" in entrypoint
    assert conf["writeback_index"] == names.ALERTS_INDEX
    assert conf["es_host"] == "es01" and conf["use_ssl"] is True and conf["verify_certs"] is True
    assert conf["ca_certs"].startswith(mounts_of("alerting", "certs"))
    # its own user, reading logs and owning only its writeback indices; the password is a generated secret
    role, secret = USERS[conf["es_username"]]
    assert svc["environment"]["ALERTING_PASSWORD_FILE"] == f"/run/logplatform/secrets/{secret}"
    assert secret in {spec.file for spec in secret_store.SPECS}
    indices = {tuple(i["names"]): i["privileges"] for i in ROLES[role]["indices"]}
    assert indices[(names.INDEX_PATTERN,)] == ["read", "view_index_metadata"]
    assert indices[(f"{names.ALERTS_INDEX}*",)] == ["all"]
    # every threshold and channel setting reaches the container
    for name in [*render.THRESHOLDS, "ALERT_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "ALERT_EMAIL_TO", "SMTP_HOST"]:
        assert name in svc["environment"], name


def mounts_of(service: str, volume: str) -> str:
    return next(m.split(":")[1] for m in services()[service]["volumes"] if m.split(":")[0] == volume)


CLUSTER_FILE = REPO / "es" / "node" / "cluster.compose.yml"
# a client of Elasticsearch: the variable it is told where the cluster is by, and how it reads a list of nodes
CLIENTS = {
    "setup": ("LOGPLATFORM_ELASTICSEARCH_URL", "comma"),
    "backend": ("LOGPLATFORM_ELASTICSEARCH_URL", "comma"),
    "filebeat": ("ELASTICSEARCH_HOSTS", "comma"),
    "kibana": ("ELASTICSEARCH_HOSTS", "json"),
    "alerting": ("ES_HOSTS", "host:port"),
}


class _ComposeLoader(yaml.SafeLoader):
    """Reads Compose's merge tags (`!override`, `!reset`) as (tag, value)."""


def _merge_tag(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return node.tag, value


for _tag in ("!override", "!reset"):
    _ComposeLoader.add_constructor(_tag, _merge_tag)


def _nodes(value: str, form: str) -> set[str]:
    if form == "json":
        return set(json.loads(value))
    if form == "host:port":
        return {f"https://{hp}" for hp in value.split(",")}
    return set(value.split(","))


def test_the_three_node_cluster_is_one_switch_and_every_client_knows_every_node() -> None:
    """`COMPOSE_FILE=docker-compose.yml:es/node/cluster.compose.yml` in .env is the whole switch: es01 leaves
    single-node discovery, es02 and es03 start, and every client lists all three nodes (losing es01 must stop
    nothing). The rehearsal resolves the same files with Compose itself."""
    overlay = yaml.load(CLUSTER_FILE.read_text(), Loader=_ComposeLoader)["services"]
    elasticsearch = sorted(n for n, s in services().items() if "elasticsearch/elasticsearch" in s.get("image", ""))
    assert elasticsearch == ["es01", "es02", "es03"] == [node.name for node in NODES]  # each has its certificate
    assert services()["es01"]["env_file"] == "es/node/single-node.env"
    assert overlay["es01"]["env_file"] == ("!override", "es/node/cluster.env")
    for name in ("es02", "es03"):
        assert services()[name]["profiles"] == ["cluster"]  # not started by default
        assert overlay[name]["profiles"] == ("!reset", [])
    settings = dict(
        line.split("=", 1)
        for line in (REPO / "es/node/cluster.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key in ("discovery.seed_hosts", "cluster.initial_master_nodes"):
        assert sorted(settings[key].split(",")) == elasticsearch
    urls = {f"https://{name}:9200" for name in elasticsearch}
    # every service that is told where Elasticsearch is appears in CLIENTS, and the overlay gives it every node
    told = {
        name
        for name, svc in services().items()
        if {"LOGPLATFORM_ELASTICSEARCH_URL", "ELASTICSEARCH_HOSTS"} & set(svc.get("environment") or {})
    }
    assert told | {"alerting"} == set(CLIENTS)
    for service, (variable, form) in CLIENTS.items():
        assert _nodes(overlay[service]["environment"][variable], form) == urls, service
    assert env_example().get("COMPOSE_FILE") is None  # off by default; .env.example shows the line commented
    assert "#COMPOSE_FILE=docker-compose.yml:es/node/cluster.compose.yml" in (REPO / ".env.example").read_text()
