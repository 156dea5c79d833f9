#!/usr/bin/env bash
# As the official one: kafka-run-class.sh's JVM options, from the environment (tests/stack/standins/kafka/bin/kafka-class)
exec /opt/kafka/bin/kafka-class kafka.tools.StorageTool "$@"
