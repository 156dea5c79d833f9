#!/usr/bin/env bash
# The official bin/kafka-server-start.sh's heap: 1 GB unless KAFKA_HEAP_OPTS says otherwise.
if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
  export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi
exec /opt/kafka/bin/kafka-class kafka.Kafka "$@"
