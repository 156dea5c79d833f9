#!/usr/bin/env bash
KAFKA_HEAP_OPTS="-Xmx128m" exec /opt/kafka/bin/kafka-class kafka.tools.StorageTool "$@"
