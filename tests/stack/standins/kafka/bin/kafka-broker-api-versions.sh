#!/usr/bin/env bash
KAFKA_HEAP_OPTS="-Xmx64m" exec /opt/kafka/bin/kafka-class org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
