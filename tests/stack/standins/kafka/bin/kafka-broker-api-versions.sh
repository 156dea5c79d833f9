#!/usr/bin/env bash
# As the official one: kafka-run-class.sh's JVM options, from the environment, so a KAFKA_HEAP_OPTS set for the
# broker is this tool's heap too (tests/stack/standins/kafka/bin/kafka-class)
exec /opt/kafka/bin/kafka-class org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
