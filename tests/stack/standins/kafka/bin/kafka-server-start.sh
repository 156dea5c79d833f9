#!/usr/bin/env bash
exec /opt/kafka/bin/kafka-class kafka.Kafka "$@"
