"""The alert rules, run by the real ElastAlert2 (in its own venv) against the real engine over generator
scenarios: each fires on the story it is for, stays quiet on steady traffic, and a webhook receiver
gets the notification with what a person on call needs (service, count, window, a Kibana link)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from alerting import render
from backend import disk_watch
from generator.scenarios import TrafficModel, moment
from logplatform.disk import NodeDisk
from logplatform.ecs_logging import EcsJsonFormatter
from tests.alerting.build import IMAGE_PATH, build, in_image
from tests.engine.engine import free_port
from tests.support.search_engine import SearchEngine
from tests.support.shipper import ship_files
from tests.support.traffic import story
from tests.support.unreachable import unreachable_url

pytestmark = pytest.mark.engine

ALERTING = Path(__file__).resolve().parents[2] / "alerting"
RULES = sorted(p.name for p in (ALERTING / "rules").glob("*.yaml"))
POOL_EXHAUSTED = "Database connection pool exhausted: waited <num> ms for a connection"  # the incident's new error
NAMES = {p: yaml.safe_load(render.fill_thresholds((ALERTING / "rules" / p).read_text(), {}, p))["name"] for p in RULES}


@dataclass
class Webhook:
    """Our webhook at /alerts; anything posted elsewhere (a Slack webhook at /slack) lands in `other`."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    other: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook("")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/alerts":
                hook.received.append(body)
                hook.headers.append(dict(self.headers))
            else:
                hook.other.setdefault(self.path, []).append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield hook
    server.shutdown()


@dataclass
class Alerting:
    python: Path
    engine: SearchEngine
    workdir: Path
    writeback: str

    def config(self, rules_dir: Path) -> Path:
        """Our config.yaml, pointed at the engine under test instead of es01 (the local test engine: plain
        HTTP, no login; a cluster given by ELASTICSEARCH_URL: its scheme, login and CA)."""
        conf = yaml.safe_load((ALERTING / "config.yaml").read_text())
        url = urlsplit(self.engine.cluster.url)
        conf.update(
            rules_folder=str(rules_dir),
            es_host=url.hostname,
            es_port=url.port,
            use_ssl=url.scheme == "https",
            writeback_index=self.writeback,
        )
        conf.pop("ca_certs")
        conf.pop("es_username")
        if os.environ.get("ELASTICSEARCH_USERNAME"):
            conf.update(
                es_username=os.environ["ELASTICSEARCH_USERNAME"],
                es_password=os.environ.get("ELASTICSEARCH_PASSWORD", ""),
            )
        if os.environ.get("ELASTICSEARCH_CA_CERTS"):
            conf["ca_certs"] = os.environ["ELASTICSEARCH_CA_CERTS"]
        path = rules_dir.parent / "config.yaml"
        rules_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(conf))
        return path

    def run(
        self,
        scenario: str,
        index: str,
        env: dict[str, str],
        start: str,
        end: str,
        process_env: dict[str, str] | None = None,
        learn_until: str | None = None,
        drive: tuple[str, ...] = (),
    ) -> dict[str, int]:
        rules_dir = self.workdir / f"{scenario}-{uuid.uuid4().hex[:6]}" / "rules"
        render.render(ALERTING / "rules", rules_dir, env)
        for rule in rules_dir.glob("*.yaml"):  # each scenario in its own data stream
            text = rule.read_text()
            assert "\nindex: logs-logplatform-*\n" in text, f"{rule.name} does not read our data stream"
            rule.write_text(text.replace("\nindex: logs-logplatform-*\n", f"\nindex: {index}\n"))
        out = subprocess.run(
            [
                str(self.python),
                str(Path(__file__).parent / "drive.py"),
                str(self.config(rules_dir)),
                start,
                end,
                *([learn_until] if learn_until else []),
                *drive,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(ALERTING.parent), **(process_env or {})},
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def alerting(installed: SearchEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alerting]:
    python = build(quiet=True)
    writeback = f"logplatform-alerts-t{uuid.uuid4().hex[:6]}"
    runner = Alerting(python, installed, tmp_path_factory.mktemp("alerting"), writeback)
    config = runner.config(runner.workdir / "setup" / "rules")
    # what the image's run.sh does before starting: create the writeback indices (twice: idempotent)
    for _ in range(2):
        out = subprocess.run(
            [str(python), "-m", "elastalert.create_index", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    yield runner
    for suffix in ("", "_status", "_silence", "_error", "_past"):
        installed.cluster.request("DELETE", f"/{runner.writeback}{suffix}")


def _timestamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_run(
    alerting: Alerting,
    webhook: Webhook,
    scenario: str,
    seed: int = 7,
    env: dict[str, str] | None = None,
    process_env: dict[str, str] | None = None,
    demo: bool = False,
) -> tuple[list[dict[str, Any]], TrafficModel, dict[str, int]]:
    """150 minutes of the scenario at one event a second, ending 20 minutes ago; every rule runs over it. The
    first 40 minutes (before any incident or attack) are what the new-error-pattern rule already knows, as the
    daemon learns the days before its start. The services stand for real ones, or with `demo` are the generator's
    (its demo tag on every event)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    start = end - timedelta(minutes=150)
    model = TrafficModel(scenario, seed=seed, demo=demo)
    events = story(model, 9000, start, end)
    path = alerting.workdir / f"{scenario}.log"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    index = f"logs-logplatform-alert{uuid.uuid4().hex[:8]}"
    assert ship_files(alerting.engine.cluster, [path], index)["failed"] == 0
    alerting.engine.refresh(index)
    webhook.received.clear()
    webhook.headers.clear()
    webhook.other.clear()
    # realert (one alert per key per 30 minutes of real time) would hide a scenario run after another
    alerting.engine.cluster.request(
        "POST", f"/{alerting.writeback}_silence/_delete_by_query?refresh=true", {"query": {"match_all": {}}}
    )
    try:
        matches = alerting.run(
            scenario,
            index,
            {"ALERT_WEBHOOK_URL": webhook.url, **(env or {})},
            _timestamp(start),
            _timestamp(end),
            process_env,
            learn_until=_timestamp(start + timedelta(minutes=40)),
        )
    finally:
        alerting.engine.cluster.request("DELETE", f"/_data_stream/{index}")
    return list(webhook.received), model, matches


def fired(received: list[dict[str, Any]]) -> set[tuple[str, Any]]:
    return {(alert["rule"], alert["key"]) for alert in received}


def test_steady_traffic_raises_no_alert(alerting: Alerting, webhook: Webhook) -> None:
    received, _, matches = scenario_run(alerting, webhook, "steady")
    assert set(matches) == set(NAMES.values()), "every rule ran"
    assert received == [] and sum(matches.values()) == 0, fired(received)


def test_incident_fires_error_rate_spike_5xx_latency_and_its_new_error_for_the_failing_service_only(
    alerting: Alerting, webhook: Webhook
) -> None:
    received, model, _ = scenario_run(alerting, webhook, "incident")
    new = [a for a in received if a["rule"] == NAMES["new-error-pattern.yaml"]]
    assert fired([a for a in received if a not in new]) == {
        (NAMES["error-rate.yaml"], model.target),
        (NAMES["error-spike.yaml"], model.target),
        (NAMES["http-5xx-ratio.yaml"], model.target),
        (NAMES["slow-responses.yaml"], model.target),
    }
    slow = next(a for a in received if a["rule"] == NAMES["slow-responses.yaml"])
    assert slow["value"] > 2000 and slow["window"] == "15 minutes"  # the p95 in ms, over the default threshold
    # the incident's new error, once, though it is logged hundreds of times; its other error is an old one
    assert [(a["service"], a["pattern"]) for a in new] == [(model.target, POOL_EXHAUSTED)]
    assert new[0]["message"].startswith("Database connection pool exhausted: waited ")  # the line itself
    assert len(new[0]["key"]) == 12  # the pattern's id


def test_every_alert_carries_the_events_behind_it(alerting: Alerting, webhook: Webhook) -> None:
    """Up to five of the events that made each alert fire (time, service, level, message) and how many the window
    holds: errors for the error rules, 5xx for the ratio, the slowest for latency, the new pattern's own lines."""
    received, model, _ = scenario_run(alerting, webhook, "incident")
    assert received
    by_rule = {a["rule"]: a for a in received}
    for alert in received:
        lines = alert["lines"]
        assert 1 <= len(lines) <= 5 and alert["lines_count"] >= len(lines), alert["rule"]
        assert all(x["service"] == model.target and x["message"] and x["@timestamp"] for x in lines), alert["rule"]
    rate = by_rule[NAMES["error-rate.yaml"]]
    assert all(x["level"] == "error" for x in rate["lines"])
    assert rate["lines_count"] <= rate["count"]  # the errors among all the events the ratio was taken over
    new = by_rule[NAMES["new-error-pattern.yaml"]]
    assert all(x["message"].startswith("Database connection pool exhausted: waited ") for x in new["lines"])
    attack, _, _ = scenario_run(alerting, webhook, "attack")
    by_ip = next(a for a in attack if a["rule"] == NAMES["failed-logins-by-ip.yaml"])
    assert by_ip["lines_count"] >= by_ip["count"] and {x["message"] for x in by_ip["lines"]} == {"Login failed"}
    rate = next(a for a in received if a["rule"] == NAMES["error-rate.yaml"])
    # what the person on call reads: the service, how much, over which window, and where to look
    assert rate["service"] == "payment-service" and rate["percentage"] > 20 and rate["count"] >= 20
    assert rate["window"] == "15 minutes" and rate["summary"].startswith("More than 20%")
    link = unquote(rate["kibana_url"])
    assert link.startswith("http://localhost:5601/app/discover#/") and "logs-logplatform" in link
    assert "payment-service" in link and "time:(from:" in link
    spike = next(a for a in received if a["rule"] == NAMES["error-spike.yaml"])
    assert spike["count"] >= 3 * max(spike["baseline"], 1)


def test_attack_fires_on_the_spraying_ip_and_the_brute_forced_account(alerting: Alerting, webhook: Webhook) -> None:
    received, model, _ = scenario_run(alerting, webhook, "attack")
    assert fired(received) == {
        (NAMES["failed-logins-by-ip.yaml"], model.attacker_ip),
        (NAMES["failed-logins-by-account.yaml"], model.victim),
    }
    by_ip = next(a for a in received if a["rule"] == NAMES["failed-logins-by-ip.yaml"])
    assert by_ip["source_ip"] == model.attacker_ip and by_ip["count"] == 20 and by_ip["window"] == "5 minutes"


def test_alerts_fire_while_one_of_the_nodes_is_down(alerting: Alerting, webhook: Webhook) -> None:
    """The three-node profile gives ElastAlert2 every node (ES_HOSTS, which it reads over es_host): with one of
    them down the rules still run and alert."""
    engine = urlsplit(alerting.engine.cluster.url)
    dead = urlsplit(unreachable_url())
    hosts = f"{dead.hostname}:{dead.port},{engine.hostname}:{engine.port}"
    # es_host (config.yaml) pointed at the node that is down too: only the list can reach the engine
    received, model, _ = scenario_run(
        alerting,
        webhook,
        "attack",
        process_env={"ES_HOSTS": hosts, "ES_HOST": str(dead.hostname), "ES_PORT": str(dead.port)},
    )
    assert (NAMES["failed-logins-by-ip.yaml"], model.attacker_ip) in fired(received)


def test_alerting_starts_and_alerts_with_the_first_of_its_nodes_down(
    alerting: Alerting, webhook: Webhook, tmp_path: Path
) -> None:
    """The three-node profile with es01 down, and alerting (re)started: alerting/entrypoint.sh run as the image runs
    it, through the image's run.sh, which runs elastalert-create-index first under `set -e`. create-index reads
    es_host (es01 in config.yaml) and never ES_HOSTS, so the entrypoint must hand it a node that answers: the
    writeback indices are created there, and elastalert, given every node, runs the rules and alerts."""
    engine = urlsplit(alerting.engine.cluster.url)
    dead = urlsplit(unreachable_url())
    writeback = f"logplatform-alerts-f{uuid.uuid4().hex[:6]}"  # new: create-index has to create it
    conf = yaml.safe_load(alerting.config(tmp_path / "unused" / "rules").read_text())
    # es_host is es01 in config.yaml, the node that is down
    conf.update(es_host=dead.hostname, es_port=dead.port, writeback_index=writeback)
    conf["rules_folder"] = "/tmp/logplatform-rules"  # where entrypoint.sh renders them
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(minutes=10)
    model = TrafficModel("attack", seed=7)
    path = tmp_path / "attack.log"
    path.write_text("".join(json.dumps(e) + "\n" for e in story(model, 1200, start, end)))
    index = f"logs-logplatform-alert{uuid.uuid4().hex[:8]}"  # read by the rules as they are (logs-logplatform-*)
    assert ship_files(alerting.engine.cluster, [path], index)["failed"] == 0
    alerting.engine.refresh(index)
    webhook.received.clear()
    env = {
        "PATH": IMAGE_PATH,
        "HOME": "/opt/elastalert",
        "TZ": "UTC",
        "ES_HOSTS": f"{dead.hostname}:{dead.port},{engine.hostname}:{engine.port}",
        "ALERTING_ES_PASSWORD": os.environ.get("ELASTICSEARCH_PASSWORD") or "unused",
        "ALERT_WEBHOOK_URL": webhook.url,
    }
    # the daemon's --start: the rules' first run reads the attack, minutes old, instead of the last minute only
    args = ["--start", _timestamp(start), "--prometheus_port", str(free_port())]
    log = tmp_path / "alerting.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            in_image(config, ["sh", "/opt/logplatform/alerting/entrypoint.sh", *args]),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wanted = (NAMES["failed-logins-by-ip.yaml"], model.attacker_ip)
    try:
        deadline = time.monotonic() + 240
        while wanted not in fired(webhook.received):
            assert daemon.poll() is None, f"alerting exited ({daemon.returncode}):\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no alert in 240 s:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        status, _ = alerting.engine.cluster.request("GET", f"/{writeback}_status")
        assert status == 200, "the writeback indices were not created"
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=60)
        alerting.engine.cluster.request("DELETE", f"/_data_stream/{index}")
        for suffix in ("", "_status", "_silence", "_error", "_past"):
            alerting.engine.cluster.request("DELETE", f"/{writeback}{suffix}")


def test_disk_filling_up_fires_on_the_backends_warning(alerting: Alerting, webhook: Webhook, tmp_path: Path) -> None:
    """The backend's disk watch logs a warning for a node past its high watermark (backend/disk_watch.py); the
    line, written by the backend's own ECS formatter and shipped through the pipeline, fires the disk rule for
    that node, and nothing else."""
    captured: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = captured.append  # type: ignore[method-assign]
    disk_log = logging.getLogger("backend.disk")
    disk_log.addHandler(handler)
    try:
        disk_watch.warn(NodeDisk("es01", free=900 * 1024**2, total=100 * 1024**3, passed=["low", "high"]))
    finally:
        disk_log.removeHandler(handler)
    record = captured[0]
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    record.created = (end - timedelta(minutes=5)).timestamp()
    path = tmp_path / "backend.log"
    path.write_text(EcsJsonFormatter("backend").format(record) + "\n")
    index = f"logs-logplatform-alert{uuid.uuid4().hex[:8]}"
    assert ship_files(alerting.engine.cluster, [path], index)["failed"] == 0
    alerting.engine.refresh(index)
    webhook.received.clear()
    try:
        alerting.run(
            "disk", index, {"ALERT_WEBHOOK_URL": webhook.url}, _timestamp(end - timedelta(minutes=30)), _timestamp(end)
        )
    finally:
        alerting.engine.cluster.request("DELETE", f"/_data_stream/{index}")
    assert fired(webhook.received) == {(NAMES["disk-filling-up.yaml"], "es01")}


def test_silence_fires_for_the_service_that_stopped(alerting: Alerting, webhook: Webhook) -> None:
    received, model, _ = scenario_run(alerting, webhook, "silence")
    assert fired(received) == {(NAMES["service-silent.yaml"], model.target)}
    assert received[0]["count"] == 0


def test_the_generators_demo_traffic_raises_no_alert_unless_alert_on_demo(alerting: Alerting, webhook: Webhook) -> None:
    """The attack story as the generator writes it (tags: demo): no rule counts it, so nothing fires (the same story
    from real services fires both failed-login rules, test above); ALERT_ON_DEMO=true counts it again."""
    received, _, matches = scenario_run(alerting, webhook, "attack", demo=True)
    assert received == [] and sum(matches.values()) == 0, fired(received)
    received, model, _ = scenario_run(alerting, webhook, "attack", demo=True, env={"ALERT_ON_DEMO": "true"})
    assert (NAMES["failed-logins-by-ip.yaml"], model.attacker_ip) in fired(received)


def test_generator_off_raises_nothing_and_a_real_silence_alerts_once_until_the_service_is_back(
    alerting: Alerting, webhook: Webhook, tmp_path: Path
) -> None:
    """The daemon's runs, one a minute over 170 minutes (ElastAlert2's clock at each run's end, so realert sees the
    time pass): the generator's six services log, then the generator is switched off (no alert for them, ever); a
    real service logs, is silent for 90 minutes (one alert, not one an hour), logs again, and is silent again (one
    more)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(minutes=170)
    at = lambda minutes: start + timedelta(minutes=minutes)  # noqa: E731
    demo = story(TrafficModel("steady", seed=4, demo=True), 600, at(0), at(30))  # then switched off
    real = [
        {"@timestamp": moment(at(0) + timedelta(seconds=20 * i))[0], "service": "billing-api", "message": f"tick {i}"}
        for i in [*range(60), *range(330, 390)]  # logs 0-20, silent 20-110, logs 110-130, silent 130-170
    ]
    path = tmp_path / "off.log"
    path.write_text("".join(json.dumps(e) + "\n" for e in demo + real))
    index = f"logs-logplatform-alert{uuid.uuid4().hex[:8]}"
    assert ship_files(alerting.engine.cluster, [path], index)["failed"] == 0
    alerting.engine.refresh(index)
    webhook.received.clear()
    alerting.engine.cluster.request(
        "POST", f"/{alerting.writeback}_silence/_delete_by_query?refresh=true", {"query": {"match_all": {}}}
    )
    rule = NAMES["service-silent.yaml"]
    try:
        matches = alerting.run(
            "off",
            index,
            {"ALERT_WEBHOOK_URL": webhook.url},
            _timestamp(start),
            _timestamp(end),
            drive=("--every-run", "--rule", rule),
        )
    finally:
        alerting.engine.cluster.request("DELETE", f"/_data_stream/{index}")
    alerts = [(a["key"], a["@timestamp"][:16]) for a in webhook.received]
    assert [key for key, _ in alerts] == ["billing-api", "billing-api"] and matches == {rule: 2}, alerts
    first, second = (datetime.fromisoformat(t + "+00:00") for _, t in alerts)  # ten minutes into each silence
    assert abs(first - at(30)) <= timedelta(minutes=2) and abs(second - at(140)) <= timedelta(minutes=2), alerts


def test_thresholds_come_from_the_environment(alerting: Alerting, webhook: Webhook) -> None:
    """Raising the failed-login threshold above what the attack reaches silences those rules."""
    received, _, _ = scenario_run(
        alerting, webhook, "attack", env={"ALERT_FAILED_LOGINS": "100000", "ALERT_WEBHOOK_TOKEN": "s3cret"}
    )
    assert received == []
    received, _, _ = scenario_run(alerting, webhook, "incident", env={"ALERT_WEBHOOK_TOKEN": "s3cret"})
    assert received and all(h["Authorization"] == "Bearer s3cret" for h in webhook.headers)


def test_writeback_indices_exist_and_alerts_are_recorded(alerting: Alerting, webhook: Webhook) -> None:
    scenario_run(alerting, webhook, "silence")
    alerting.engine.refresh(f"{alerting.writeback}*")
    status, body = alerting.engine.cluster.request(
        "POST", f"/{alerting.writeback}/_search", {"query": {"term": {"rule_name": NAMES["service-silent.yaml"]}}}
    )
    assert status == 200 and body["hits"]["total"]["value"] >= 1
    hit = body["hits"]["hits"][0]["_source"]
    assert hit["alert_sent"] is True and hit["match_body"]["key"] == "payment-service"


def test_kibana_alert_history_reads_the_writeback_index(alerting: Alerting, webhook: Webhook) -> None:
    """kibana/alerts.ndjson's "Alerts sent": its time field and columns are fields ElastAlert2 writes."""
    scenario_run(alerting, webhook, "silence")
    objects = [json.loads(line) for line in (ALERTING.parent / "kibana" / "alerts.ndjson").read_text().splitlines()]
    view = next(o for o in objects if o["type"] == "index-pattern")["attributes"]
    search = next(o for o in objects if o["type"] == "search")["attributes"]
    alerting.engine.refresh(alerting.writeback)
    mapping = alerting.engine.cluster.ok("GET", f"/{alerting.writeback}/_mapping")
    (props,) = [m["mappings"]["properties"] for m in mapping.values()]
    assert props[view["timeFieldName"]]["type"] == "date"
    body = {"size": 5, "sort": [{view["timeFieldName"]: "desc"}]}
    hits = alerting.engine.cluster.ok("POST", f"/{alerting.writeback}/_search", body)["hits"]["hits"]
    assert hits
    for column in search["columns"]:
        assert column in props and all(column in h["_source"] for h in hits), column


def test_slack_and_email_carry_the_rule_service_count_window_and_link(alerting: Alerting, webhook: Webhook) -> None:
    """Slack (its webhook stood in for by the test's receiver) and email (a local SMTP server) get the
    incident's alerts when their settings are set."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    mails: list[Any] = []

    class Inbox(Message):
        def handle_message(self, message: Any) -> None:
            mails.append(message)

    port = free_port()
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        env = {
            "SLACK_WEBHOOK_URL": webhook.url.replace("/alerts", "/slack"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "ALERT_EMAIL_TO": "oncall@example.com",
        }
        _, model, _ = scenario_run(alerting, webhook, "incident", env=env)
    finally:
        smtp.stop()
    rules = {r: NAMES[r] for r in ("error-rate.yaml", "error-spike.yaml", "http-5xx-ratio.yaml", "slow-responses.yaml")}
    subjects = {f"[Log-Platform] {r}: {model.target}" for r in rules.values()} | {
        f"[Log-Platform] {NAMES['new-error-pattern.yaml']}: {model.target}: {POOL_EXHAUSTED}"
    }
    slack = webhook.other["/slack"]
    assert {a["attachments"][0]["title"] for a in slack} == subjects
    assert {m["Subject"] for m in mails} == subjects
    assert all(m["To"] == "oncall@example.com" for m in mails)
    texts = [a["attachments"][0]["text"] for a in slack] + [m.get_payload(decode=True).decode() for m in mails]
    for text in texts:
        assert "Window: 15 minutes" in text and "/app/discover#/" in text
        assert "in the window, at most 5 here):" in text and f" {model.target} error " in text  # the lines
        assert "payment-service" in text  # the service, in the match details
    rate = next(t for t in texts if "Percentage violation" in t)
    assert " items" in rate  # "... of N items": the count in the window


def test_doctor_reports_whether_the_rules_run(alerting: Alerting, webhook: Webhook) -> None:
    from logplatform.doctor import run_checks

    never = {c.hop: c for c in run_checks(alerting.engine.cluster, None, None, alerts_index="logplatform-nothing")}
    assert not never["alerting"].ok and "never started" in never["alerting"].detail
    assert "docker compose logs alerting" in never["alerting"].fix
    scenario_run(alerting, webhook, "steady")  # every rule runs once, recording its run as the daemon does
    alerting.engine.refresh(f"{alerting.writeback}_status")
    ran = {c.hop: c for c in run_checks(alerting.engine.cluster, None, None, alerts_index=alerting.writeback)}
    assert ran["alerting"].ok and ran["alerting"].detail.startswith(f"{len(NAMES)} rules ran"), ran["alerting"]
