"""The rules and their rendering, without the engine: every rule loads in ElastAlert2 itself (schema,
rule options, each channel's required settings), channels are on exactly when their settings are
given, thresholds come from the environment, and mistakes are refused with a clear message."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from alerting import render
from generator.scenarios import DEMO_TAG
from tests.alerting.build import PYTHON_VERSION, VERSION, build, pinned_version

ALERTING = Path(__file__).resolve().parents[2] / "alerting"
RULES = ALERTING / "rules"
ALL_CHANNELS = {
    "ALERT_WEBHOOK_URL": "https://hooks.example/alerts",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x",
    "ALERT_EMAIL_TO": "oncall@example.com, lead@example.com",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USERNAME": "alerts",
    "SMTP_PASSWORD": "from-env",
}


def load_in_elastalert(rules_dir: Path) -> subprocess.CompletedProcess[str]:
    conf = yaml.safe_load((ALERTING / "config.yaml").read_text())
    conf.update(rules_folder=str(rules_dir), es_port=9)  # nothing is queried: loading only
    config = rules_dir.parent / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    return subprocess.run(
        [str(build(quiet=True)), str(Path(__file__).parent / "validate.py"), str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ES_PASSWORD": "x", "PYTHONPATH": str(ALERTING.parent)},  # alerting/lines.py
    )


def rendered(tmp_path: Path, env: dict[str, str]) -> dict[str, dict]:
    out = tmp_path / "rules"
    render.render(ALERTING / "rules", out, env)
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.yaml"))}


@pytest.mark.tools
def test_elastalert2_runs_on_the_python_of_its_image() -> None:
    """jertel/elastalert2:2.31.0 is built FROM python:3.14.5-slim (its Dockerfile): the tests' ElastAlert2 runs on
    the same minor version (tests/alerting/build.py), with the release the compose file pins."""
    out = subprocess.run(
        [
            str(build(quiet=True)),
            "-c",
            "import sys, importlib.metadata as m; print(*sys.version_info[:2], m.version('elastalert2'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    major, minor, version = out.stdout.split()
    assert (f"{major}.{minor}", version) == (PYTHON_VERSION, VERSION) == ("3.14", pinned_version())


@pytest.mark.tools
def test_every_rule_loads_in_elastalert_with_every_channel_on(tmp_path: Path) -> None:
    render.render(ALERTING / "rules", tmp_path / "rules", ALL_CHANNELS)
    result = load_in_elastalert(tmp_path / "rules")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(list((ALERTING / 'rules').glob('*.yaml')))} rules loaded" in result.stderr
    assert "SlackAlerter" in result.stdout and "EmailAlerter" in result.stdout and "HTTPPost2Alerter" in result.stdout


@pytest.mark.tools
def test_elastalert_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a frequency rule without num_events is refused, naming the file."""
    render.render(ALERTING / "rules", tmp_path / "rules", {})
    (tmp_path / "rules" / "broken.yaml").write_text(
        "name: broken\nindex: x\ntype: frequency\ntimeframe: {minutes: 5}\nalert: [debug]\n"
    )
    result = load_in_elastalert(tmp_path / "rules")
    assert result.returncode == 1 and "broken.yaml" in result.stderr


def test_with_no_channel_set_alerts_only_go_to_the_log(tmp_path: Path) -> None:
    for name, rule in rendered(tmp_path, {}).items():
        assert rule["alert"] == ["debug"], name
        assert not {k for k in rule if k.startswith(("slack", "smtp", "http_post2", "email"))}, name


def test_each_channel_is_on_when_its_settings_are_given(tmp_path: Path) -> None:
    webhook_only = rendered(tmp_path / "a", {"ALERT_WEBHOOK_URL": "https://hooks.example/a"})
    assert all(r["alert"] == ["debug", "post2"] for r in webhook_only.values())
    everything = rendered(tmp_path / "b", ALL_CHANNELS)
    for rule in everything.values():
        assert rule["alert"] == ["debug", "post2", "slack", "email"]
        assert rule["email"] == ["oncall@example.com", "lead@example.com"]
        assert rule["kibana_discover_index_pattern_id"] == "logs-logplatform"
    auth = Path(next(iter(everything.values()))["smtp_auth_file"])
    assert auth.parent == tmp_path / "b" and stat.S_IMODE(auth.stat().st_mode) == 0o600  # beside, not a rule
    assert yaml.safe_load(auth.read_text()) == {"user": "alerts", "password": "from-env"}


def test_half_configured_email_is_refused(tmp_path: Path) -> None:
    with pytest.raises(render.RenderError, match="ALERT_EMAIL_TO and SMTP_HOST"):
        rendered(tmp_path, {"ALERT_EMAIL_TO": "oncall@example.com"})


def test_thresholds_have_defaults_and_come_from_the_environment(tmp_path: Path) -> None:
    default = rendered(tmp_path / "a", {})
    assert default["error-rate.yaml"]["max_percentage"] == 20
    assert default["service-silent.yaml"]["timeframe"] == {"minutes": 10}
    changed = rendered(tmp_path / "b", {"ALERT_ERROR_RATE_PERCENT": "35", "ALERT_SILENCE_MINUTES": "3"})
    assert changed["error-rate.yaml"]["max_percentage"] == 35
    assert changed["error-rate.yaml"]["description"] == "More than 35% of a service's events are errors"
    assert changed["service-silent.yaml"]["timeframe"] == {"minutes": 3}


@pytest.mark.parametrize("value", ["abc", "-5", "0"])
def test_a_threshold_that_is_not_a_positive_number_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(render.RenderError, match=f"ALERT_FAILED_LOGINS={value!r}"):
        rendered(tmp_path, {"ALERT_FAILED_LOGINS": value})


def test_a_rule_naming_an_unknown_variable_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "in"
    rules.mkdir()
    (rules / "x.yaml").write_text("name: x\nnum_events: ${ALERT_TYPO}\n")
    with pytest.raises(render.RenderError, match=r"x.yaml: \$\{ALERT_TYPO\} is not a known threshold"):
        render.render(rules, tmp_path / "out", {})


def test_every_variable_a_rule_uses_is_documented_in_env_example() -> None:
    example = (ALERTING.parent / ".env.example").read_text()
    for name in render.THRESHOLDS:
        assert f"\n{name}=" in example, name
    for name in (
        "ALERT_WEBHOOK_URL",
        "ALERT_WEBHOOK_TOKEN",
        "SLACK_WEBHOOK_URL",
        "ALERT_EMAIL_TO",
        "SMTP_HOST",
        "KIBANA_PUBLIC_URL",
    ):
        assert f"\n{name}=" in example, name


def test_every_rule_leaves_the_generators_demo_traffic_out_unless_alert_on_demo(tmp_path: Path) -> None:
    """Each rule keeps its own filter and gains the demo exclusion (one `filter` key: the rule's block is moved); the
    tag is the one the generator writes. ALERT_ON_DEMO=true renders the rules' filters as they are."""
    assert render.DEMO_TAG == DEMO_TAG
    sources = {p.name: yaml.safe_load(render.fill_thresholds(p.read_text(), {}, p.name)) for p in RULES.iterdir()}
    for name, rule in rendered(tmp_path / "a", {}).items():
        assert rule["filter"] == [*(sources[name].get("filter") or []), render.DEMO_LEFT_OUT], name
    for name, rule in rendered(tmp_path / "b", {"ALERT_ON_DEMO": "true"}).items():
        assert rule.get("filter") == sources[name].get("filter"), name


def test_a_filter_render_cannot_move_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "in"
    rules.mkdir()
    (rules / "x.yaml").write_text("name: x\ntype: any\nfilter:\n- term: {a: b}\n# a comment\nextra:\n- 1\n")
    render.render(rules, tmp_path / "out", {})  # a list written at the left margin moves too
    assert yaml.safe_load((tmp_path / "out" / "x.yaml").read_text())["filter"][0] == {"term": {"a": "b"}}
    (rules / "x.yaml").write_text("name: x\ntype: any\nfilter: &f [{term: {a: b}}]\nagain: *f\n")
    with pytest.raises(render.RenderError, match=r"x\.yaml: its filter"):
        render.render(rules, tmp_path / "out", {})


def test_a_rule_name_with_braces_stays_literal_in_the_subject(tmp_path: Path) -> None:
    rules = tmp_path / "in"
    rules.mkdir()
    (rules / "x.yaml").write_text("name: Errors {prod}\ntype: frequency\nnum_events: 5\ntimeframe: {minutes: 1}\n")
    render.render(rules, tmp_path / "out", {})
    rule = yaml.safe_load((tmp_path / "out" / "x.yaml").read_text())
    assert rule["alert_subject"].format("auth-service") == "[Log-Platform] Errors {prod}: auth-service"
