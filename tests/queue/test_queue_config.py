"""The queue switch's files, checked without running them: one Kafka version for the image and the test broker,
the indexer writing exactly as the shipper does, the broker unpublished, every hop of the switch present."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from logplatform import names, queue
from logplatform.stack_version import ELASTIC_STACK_VERSION
from tests.kafka.broker import kafka_version

REPO = Path(__file__).resolve().parents[2]
QUEUE = yaml.safe_load((REPO / "kafka" / "queue.compose.yml").read_text())["services"]


def _env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(ln.split("=", 1) for ln in lines if re.match(r"^[A-Z_]+=", ln))


def test_the_image_and_the_test_broker_are_the_same_kafka_and_elastic_stays_pinned() -> None:
    assert QUEUE["kafka"]["image"] == f"apache/kafka:${{KAFKA_VERSION:-{kafka_version()}}}"
    assert _env_example()["KAFKA_VERSION"] == kafka_version()
    elastic = f"${{ELASTIC_VERSION:-{ELASTIC_STACK_VERSION}}}"
    assert QUEUE["indexer"]["image"] == f"docker.elastic.co/beats/filebeat:{elastic}"


def test_every_variable_of_the_switch_has_a_default_and_is_in_env_example() -> None:
    text = (REPO / "kafka" / "queue.compose.yml").read_text()
    variables = re.findall(r"\$\{([A-Z_]+)(:-)?", text)
    assert variables
    documented = _env_example()
    for name, default in variables:
        assert default, f"${{{name}}} has no default"
        assert name in documented, f"{name} is not in .env.example"


def test_the_indexer_writes_to_elasticsearch_exactly_as_the_direct_shipper_does() -> None:
    shipper = yaml.safe_load((REPO / "filebeat" / "filebeat.yml").read_text())
    indexer = yaml.safe_load((REPO / "filebeat" / "indexer.yml").read_text())
    direct = {k: v for k, v in shipper["output.elasticsearch"].items() if k != "enabled"}
    assert indexer["output.elasticsearch"] == direct
    (kafka_input,) = indexer["filebeat.inputs"]
    assert kafka_input["topics"] == [shipper["output.kafka"]["topic"]] == [names.QUEUE_TOPIC]
    assert kafka_input["group_id"] == names.QUEUE_GROUP


def test_nothing_is_lost_on_the_way_into_kafka() -> None:
    kafka = yaml.safe_load((REPO / "filebeat" / "filebeat.yml").read_text())["output.kafka"]
    assert kafka["required_acks"] == -1  # every in-sync replica
    assert kafka["enabled"] == "${LOGPLATFORM_OUTPUT_KAFKA:false}"  # off unless the switch is on
    longest_line = yaml.safe_load((REPO / "filebeat" / "filebeat.yml").read_text())["filebeat.inputs"][0]
    assert kafka["max_message_bytes"] >= longest_line["message_max_bytes"]
    assert kafka["max_message_bytes"] == queue.MAX_MESSAGE_BYTES  # what the topic and the backend allow


def test_the_switch_sends_both_shippers_to_kafka_and_keeps_the_broker_unpublished() -> None:
    assert "ports" not in QUEUE["kafka"]
    assert QUEUE["filebeat"]["environment"]["LOGPLATFORM_OUTPUT_ELASTICSEARCH"] == "false"
    assert QUEUE["filebeat"]["environment"]["LOGPLATFORM_OUTPUT_KAFKA"] == "true"
    assert QUEUE["backend"]["environment"]["LOGPLATFORM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    for service in ("filebeat", "backend", "indexer"):
        assert QUEUE[service]["depends_on"]["queue-setup"]["condition"] == "service_completed_successfully"
