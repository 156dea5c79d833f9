"""The Kibana stand-in reads its settings as Elastic's image does (kibana-docker's unquoted `${longopts}`, Kibana's
command line, Kibana's config schemas), and docker-compose.yml's kibana command gives it what Kibana accepts.

Sources: elastic/dockerfiles (branch 9.2) kibana/bin/kibana-docker lines 457-468 and 487; tj/commander.js v4.1.1
index.js lines 833-869 and 955-1021; elastic/kibana src/cli/command.ts lines 58-101 (JSON.parse of every value),
src/platform/packages/shared/kbn-config-schema/src/internals/index.ts (an array given as text is JSON-parsed),
types/string_type.ts (a number is not a string), src/core/packages/elasticsearch/server-internal/src/
elasticsearch_config.ts (password: coerceFromNumber), src/core/packages/status/server-internal/src/routes/status.ts
(200 unless core is unavailable)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from tests.support.kibana_standin import load
from tests.support.reference import REPO

KEY_NOW, KEY_2, KEY_1 = "c" * 40, "rehearsal-kibana-key-" + "b" * 24, "a1" * 24
# what docker-compose.yml's kibana command exports, with the current key
ENV = {
    "ELASTICSEARCH_HOSTS": "https://es01:9200",
    "ELASTICSEARCH_USERNAME": "kibana_system",
    "ELASTICSEARCH_PASSWORD": "Kibana-system-pw1",
    "ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES": "config/certs/ca/ca.crt",
    "SERVER_NAME": "kibana",
    "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY": KEY_NOW,
    "XPACK_SECURITY_ENCRYPTIONKEY": KEY_NOW,
    "XPACK_REPORTING_ENCRYPTIONKEY": KEY_NOW,
}
ROTATION = "XPACK_ENCRYPTEDSAVEDOBJECTS_KEYROTATION_DECRYPTIONONLYKEYS"


def test_two_decryption_only_keys_with_a_space_stop_kibana_and_without_one_start_it() -> None:
    """After the second key change the list holds two keys: `["k2", "k1"]` reaches Kibana as the words
    `--...decryptionOnlyKeys=["k2",` and `"k1"]`, the value `["k2",` parses as no array and Kibana exits 78."""
    standin = load()
    spaced = dict(ENV, **{ROTATION: json.dumps([KEY_2, KEY_1])})
    assert json.dumps([KEY_2, KEY_1]) == f'["{KEY_2}", "{KEY_1}"]'
    argv = standin.kibana_docker_argv(spaced)
    assert f'--xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys=["{KEY_2}",' in argv
    assert f'"{KEY_1}"]' in argv
    with pytest.raises(standin.Refused) as refused:
        standin.settings(spaced)
    assert refused.value.code == 78
    assert str(refused.value) == (
        "[config validation of [xpack.encryptedSavedObjects].keyRotation.decryptionOnlyKeys]: "
        "could not parse array value from json input"
    )
    compact = dict(ENV, **{ROTATION: json.dumps([KEY_2, KEY_1], separators=(",", ":"))})
    assert standin.settings(compact)["old_keys"] == [KEY_2, KEY_1]
    one = dict(ENV, **{ROTATION: json.dumps([KEY_1])})  # one key has no space: the first change always worked
    assert standin.settings(one)["old_keys"] == [KEY_1]


@pytest.mark.parametrize(
    "value",
    ['["one", "two"]', "tab\there", "new\nline", "  padded  ", '["x","y"]', "--*", "[ab]c", "plain"],
)
def test_the_standin_splits_and_expands_as_bash_does(tmp_path: Path, value: str) -> None:
    """The same expansion kibana-docker makes (`longopts+=" --setting=${value}"`, then `${longopts}` unquoted),
    run by bash itself in a directory where some of the patterns match a file."""
    for name in ("--server.name=--x", "--server.name=[ab]c", "--server.name=ac"):
        (tmp_path / name).touch()
    script = 'longopts=""; value=$SERVER_NAME; longopts+=" --server.name=${value}"; printf "%s\\0" ${longopts}'
    bash = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env={"SERVER_NAME": value}, capture_output=True, check=True
    )
    words = bash.stdout.decode().split("\0")[:-1]
    assert load().kibana_docker_argv({"SERVER_NAME": value}, str(tmp_path))[2:] == words


def test_only_the_whitelisted_variables_become_settings() -> None:
    argv = load().kibana_docker_argv({"SERVER_NAME": "kibana", "SERVERNAME": "x", "KIBANA_ENCRYPTION_KEY": KEY_NOW})
    assert argv == ["--ops.cGroupOverrides.cpuPath=/", "--ops.cGroupOverrides.cpuAcctPath=/", "--server.name=kibana"]


def test_values_that_parse_as_numbers_are_numbers_to_kibana() -> None:
    """A digits-only encryption key fails the string schema (exit 78); a long digits-only password is coerced
    back to text in JavaScript's notation, a different password than the one Elasticsearch holds."""
    standin = load()
    digits_key = "1" * 40
    with pytest.raises(standin.Refused) as refused:
        standin.settings(dict(ENV, XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY=digits_key))
    assert refused.value.code == 78
    assert "[xpack.encryptedSavedObjects].encryptionKey]: expected value of type [string] but got [number]" in str(
        refused.value
    )
    password = "123456789012345678901234"
    assert standin.settings(dict(ENV, ELASTICSEARCH_PASSWORD=password))["password"] == "1.2345678901234569e+23"
    assert standin.settings(dict(ENV, ELASTICSEARCH_PASSWORD="0123456789"))["password"] == "0123456789"  # no JSON


@pytest.mark.parametrize(
    ("number", "javascript"),
    [(1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345678.0, "123456789012345680"),
     (1e-7, "1e-7"), (0.000001, "0.000001"), (1.5, "1.5"), (-2.0, "-2")],
)  # fmt: skip
def test_numbers_turn_back_into_text_as_javascript_writes_them(number: float, javascript: str) -> None:
    """Each expected text is what Node.js prints for String(JSON.parse(...)) of that number."""
    assert load().js_number_string(number) == javascript


def _compose_command_env(tmp_path: Path, keys_file_text: str) -> dict[str, str]:
    """Runs the kibana service's command from docker-compose.yml in bash, with the secrets volume in tmp_path and
    `env` in place of kibana-docker: the environment kibana-docker would be started with."""
    kibana = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["kibana"]
    shell, flag, script = kibana["command"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kibana_encryption_key").write_text(KEY_NOW)
    (secrets / "kibana_system_password").write_text("Kibana-system-pw1")
    (secrets / "kibana_decryption_only_keys").write_text(keys_file_text)
    script = (
        script.replace("$$", "$")  # Compose's escape of a literal $
        .replace("/run/logplatform/secrets", str(secrets))
        .replace("exec /usr/local/bin/kibana-docker", "exec env -0")
    )
    environment = {k: "" if v is None else str(v) for k, v in kibana["environment"].items()}
    for variable, value in environment.items():  # `${VAR:-}` from an .env that does not set it
        if value.startswith("${") and value.endswith(":-}"):
            environment[variable] = ""
    environment["PATH"] = "/usr/bin:/bin"
    out = subprocess.run([shell, flag, script], env=environment, capture_output=True, check=True).stdout.decode()
    return dict(line.split("=", 1) for line in out.split("\0") if line)


@pytest.mark.parametrize(
    "written",
    [json.dumps([KEY_2, KEY_1]), json.dumps([KEY_2, KEY_1], separators=(",", ":")) + "\n"],
    ids=["with spaces (written before this fix)", "compact"],
)
def test_the_compose_command_gives_kibana_every_old_key_in_a_form_it_starts_with(tmp_path: Path, written: str) -> None:
    env = _compose_command_env(tmp_path, written)
    assert "KIBANA_ENCRYPTION_KEY" not in env and "KIBANA_SYSTEM_PASSWORD" not in env
    conf = load().settings(env)
    assert conf["old_keys"] == [KEY_2, KEY_1] and conf["primary"] == KEY_NOW
    assert conf["username"] == "kibana_system" and conf["password"] == "Kibana-system-pw1"


def _status(first_start: bool, available_for: float) -> Any:
    standin = load()
    es = SimpleNamespace(available_since=time.monotonic() - available_for, status="available")
    return standin.Status(es, first_start, "kibana")


def test_kibana_is_degraded_for_a_while_after_a_first_start_and_answers_200() -> None:
    """Real Kibana answers 200 with overall level degraded when a plugin (Task Manager) is degraded; 503 only
    when its core services are unavailable."""
    code, body = _status(first_start=True, available_for=5).answer(authenticated=True)
    assert code == 200
    assert body["status"]["overall"]["level"] == "degraded"
    assert body["status"]["overall"]["summary"] == "0 service(s) and 1 plugin(s) are degraded: taskManager"
    assert body["status"]["plugins"]["taskManager"] == {"level": "degraded", "summary": "Task Manager is unhealthy"}
    assert {s["level"] for s in body["status"]["core"].values()} == {"available"}
    assert _status(first_start=True, available_for=5).answer(authenticated=False) == (
        200,
        {"status": {"overall": {"level": "available"}}},  # without credentials: core's level only
    )
    later = load().TASK_MANAGER_DEGRADED_S + 1
    assert _status(first_start=True, available_for=later).answer(True)[1]["status"]["overall"]["level"] == "available"
    assert _status(first_start=False, available_for=5).answer(True)[1]["status"]["overall"]["level"] == "available"
