"""Turns alerting/rules/*.yaml into the rules ElastAlert2 runs: thresholds filled in from the
environment, and the notification channels that are configured added to every rule.

Unless ALERT_ON_DEMO is true, every rule's filter also leaves out the generator's demo traffic (`tags: demo`).

Why a render step: ElastAlert2 reads one `alert:` list per rule and refuses a Slack or email alerter
without its settings, so "on when set, cleanly off when unset" has to be decided before it starts.
The rules stay about detection; the channels are decided here, once. Every rule always has the
`debug` alerter too, so an alert is in `docker compose logs alerting` even with no channel set.

Runs with the Python and PyYAML of the ElastAlert2 image (no other dependency):
    python render.py --rules alerting/rules --out /tmp/logplatform-rules
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

# Every threshold a rule may use, with its default; set the variable (in .env) to change it.
THRESHOLDS = {
    "ALERT_ERROR_RATE_PERCENT": "20",  # error-rate: % of a service's events at error/critical
    "ALERT_ERROR_RATE_MIN_EVENTS": "20",  # error-rate, http-5xx-ratio: ignore windows with fewer events
    "ALERT_SPIKE_FACTOR": "3",  # error-spike: errors now vs the service's previous 15 minutes
    "ALERT_SPIKE_MIN_ERRORS": "20",  # error-spike: at least this many errors in the window
    "ALERT_SILENCE_MINUTES": "10",  # service-silent: minutes without a single event
    "ALERT_FAILED_LOGINS": "20",  # failed-logins-*: failures from one IP / for one account in 5 minutes
    "ALERT_5XX_PERCENT": "20",  # http-5xx-ratio: % of a service's HTTP responses that are 5xx
    "ALERT_LATENCY_P95_MS": "2000",  # slow-responses: a service's 95th percentile duration over 15 minutes
    "ALERT_NEW_PATTERN_DAYS": "7",  # new-error-pattern: an error pattern not seen from the service in this many days
}
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# The generator's events carry this tag (generator/scenarios.py DEMO_TAG): no rule counts them unless ALERT_ON_DEMO is
# true, so fake services neither page anyone nor, once the generator is switched off, go "silent".
DEMO_TAG = "demo"
DEMO_LEFT_OUT = {"bool": {"must_not": [{"term": {"tags": DEMO_TAG}}]}}
# a rule's top-level `filter:` and the lines that belong to it (indented, list items, blank)
_FILTER_BLOCK = re.compile(r"^filter:[^\n]*\n(?:[ \t-][^\n]*\n|[ \t]*\n)*", re.M)
DATA_VIEW = "logs-logplatform"
LINES_ENHANCEMENT = "alerting.lines.TriggeringLines"  # alerting/lines.py: the events behind each alert
SHOWN_LINES = 5


class RenderError(ValueError):
    pass


def setting(env: dict[str, str], name: str) -> str:
    return env.get(name, "").strip()


def fill_thresholds(text: str, env: dict[str, str], source: str) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in THRESHOLDS:
            raise RenderError(f"{source}: ${{{name}}} is not a known threshold ({', '.join(THRESHOLDS)})")
        chosen = setting(env, name) or THRESHOLDS[name]
        try:
            if float(chosen) <= 0:
                raise ValueError
        except ValueError:
            raise RenderError(f"{name}={chosen!r}: a positive number is needed") from None
        return chosen

    return _VARIABLE.sub(value, text)


def _window(rule: dict[str, Any]) -> dict[str, int]:
    return rule.get("timeframe") or rule.get("buffer_time") or {"minutes": 15}


def _literal(text: str) -> str:
    """Text inside an ElastAlert2 subject, which is a str.format() template."""
    return text.replace("{", "{{").replace("}", "}}")


def _window_text(window: dict[str, int]) -> str:
    return ", ".join(f"{n} {unit if n != 1 else unit.rstrip('s')}" for unit, n in window.items())


def notifications(rule: dict[str, Any], env: dict[str, str], smtp_auth_file: Path) -> dict[str, Any]:
    """The settings appended to one rule: the channels that are on, and what every alert carries."""
    name, kind, window = rule["name"], rule["type"], _window(rule)
    key = rule.get("query_key", "service.name")
    kibana = setting(env, "KIBANA_PUBLIC_URL") or "http://localhost:5601"
    out: dict[str, Any] = {
        "alert": ["debug"],
        "alert_subject": f"[Log-Platform] {_literal(name)}: {{0}}",  # {0}: the rule's query_key value
        "alert_subject_args": [key],
        "alert_text": (
            f"Window: {_window_text(window)}.\nOpen these events in Kibana: {{0}}\n"
            f"Events ({{1}} in the window, at most {SHOWN_LINES} here):\n{{2}}\n"
        ),
        "alert_text_args": ["kibana_discover_url", "lines_count", "lines_text"],
        "match_enhancements": [LINES_ENHANCEMENT],
        "generate_kibana_discover_url": True,
        "kibana_discover_app_url": f"{kibana.rstrip('/')}/app/discover#/",
        "kibana_discover_index_pattern_id": DATA_VIEW,
        "kibana_discover_columns": ["service.name", "log.level", "message"],
        "kibana_discover_from_timedelta": window,
        "kibana_discover_to_timedelta": {"minutes": 1},
    }
    if kind == "new_term":  # the pattern's id says nothing to a person: its service and text do
        out["alert_subject"] = f"[Log-Platform] {_literal(name)}: {{0}}: {{1}}"
        out["alert_subject_args"] = ["service.name", "logplatform.pattern.text"]
    if webhook := setting(env, "ALERT_WEBHOOK_URL"):
        count_field = {"flatline": "count", "spike": "spike_count", "percentage_match": "denominator"}.get(kind)
        payload: dict[str, Any] = {
            "rule": name,
            "summary": rule.get("description", ""),
            "window": _window_text(window),
            "key_field": key,
        }
        raw = {
            "key": key,
            "service": "service.name",
            "source_ip": "source.ip",
            "account": "user.name",
            "kibana_url": "kibana_discover_url",
            "lines": "lines",
            "lines_count": "lines_count",
            "@timestamp": "@timestamp",
        }
        if kind == "flatline":  # a silent key has no last event to read fields from: ElastAlert names it `key`
            raw.update({name: "key" for name, source in raw.items() if source == key})
        if count_field:
            raw["count"] = count_field
        else:  # frequency: it fires the moment the count reaches num_events
            payload["count"] = rule.get("num_events")
        if kind == "percentage_match":
            raw["percentage"] = "percentage"
        if kind == "spike":
            raw["baseline"] = "reference_count"
        if kind == "metric_aggregation":
            raw["value"] = "metric_agg_value"
        if kind == "new_term":  # the one event that is new: its pattern and its first line
            raw.update({"pattern": "logplatform.pattern.text", "message": "message"})
        headers = {}
        if token := setting(env, "ALERT_WEBHOOK_TOKEN"):
            headers["Authorization"] = f"Bearer {token}"
        out["alert"].append("post2")
        out.update(
            {
                "http_post2_url": webhook,
                "http_post2_payload": payload,
                "http_post2_raw_fields": raw,
                "http_post2_headers": headers,
                "http_post2_timeout": 10,
            }
        )
    if slack := setting(env, "SLACK_WEBHOOK_URL"):
        out["alert"].append("slack")
        out.update({"slack_webhook_url": slack, "slack_username_override": "Log-Platform"})
        if channel := setting(env, "SLACK_CHANNEL"):
            out["slack_channel_override"] = channel
    recipients = [a.strip() for a in setting(env, "ALERT_EMAIL_TO").split(",") if a.strip()]
    if recipients or setting(env, "SMTP_HOST"):
        if not (recipients and setting(env, "SMTP_HOST")):
            raise RenderError("email alerts need both ALERT_EMAIL_TO and SMTP_HOST (or neither)")
        out["alert"].append("email")
        out.update(
            {
                "email": recipients,
                "smtp_host": setting(env, "SMTP_HOST"),
                "smtp_port": int(setting(env, "SMTP_PORT") or 587),
                "from_addr": setting(env, "ALERT_EMAIL_FROM") or "log-platform@localhost",
            }
        )
        if setting(env, "SMTP_SSL").lower() in {"1", "true", "yes"}:
            out["smtp_ssl"] = True
        if setting(env, "SMTP_USERNAME"):
            out["smtp_auth_file"] = str(smtp_auth_file)  # render() writes it
    return out


def demo_counts(env: dict[str, str]) -> bool:
    return setting(env, "ALERT_ON_DEMO").lower() in {"1", "true", "yes"}


def without_demo(text: str, rule: dict[str, Any], source: str) -> tuple[str, list[Any]]:
    """The rule's text without its `filter:` block, and that filter with the demo traffic left out (written after
    the text by render(): one key, so ElastAlert2 reads one filter)."""
    filters = [*(rule.get("filter") or []), DEMO_LEFT_OUT]
    rest = _FILTER_BLOCK.sub("# filter: below, with the demo traffic left out (render.py)\n", text, count=1)
    try:
        moved = yaml.safe_load(rest) == {k: v for k, v in rule.items() if k != "filter"}
    except yaml.YAMLError:
        moved = False
    if not moved:
        raise RenderError(f"{source}: its filter is not a top-level block render.py can move")
    return rest, filters


def _smtp_auth(out_dir: Path) -> Path:
    """Beside the rules folder, not in it: ElastAlert2 would load any .yml there as a rule."""
    return out_dir.parent / f"{out_dir.name}-smtp-auth.yml"


def render(rules_dir: Path, out_dir: Path, env: dict[str, str]) -> tuple[list[Path], list[str]]:
    """Writes the rules into out_dir; returns them and the alerters every rule got."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.yaml"):
        old.unlink()
    auth = _smtp_auth(out_dir)
    written, channels = [], []
    for path in sorted(rules_dir.glob("*.yaml")):
        text = fill_thresholds(path.read_text(encoding="utf-8"), env, path.name)
        rule = yaml.safe_load(text)
        extra = notifications(rule, env, auth)
        channels = extra["alert"]  # the same for every rule: they depend on the environment only
        if not demo_counts(env):
            text, extra["filter"] = without_demo(text, rule, path.name)
        # JSON is YAML: each value is written as one flow-style line after the rule's own text
        lines = [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
        target = out_dir / path.name
        target.write_text(
            f"{text.rstrip()}\n\n# --- added by alerting/render.py ---\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        written.append(target)
    if setting(env, "SMTP_USERNAME"):
        auth.write_text(
            json.dumps({"user": setting(env, "SMTP_USERNAME"), "password": setting(env, "SMTP_PASSWORD")}) + "\n",
            encoding="utf-8",
        )
        auth.chmod(0o600)
    return written, channels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render Log-Platform's alert rules for ElastAlert2")
    parser.add_argument("--rules", type=Path, default=Path(__file__).resolve().parent / "rules")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        written, channels = render(args.rules, args.out, dict(os.environ))
    except RenderError as exc:
        print(f"alerting: {exc}", file=sys.stderr)
        return 2
    print(f"alerting: {len(written)} rules rendered into {args.out}; channels: {', '.join(channels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
