"""The names every component agrees on. Tests check that compose, Filebeat and es/ use these."""

ECS_VERSION = "9.4.0"

DATA_STREAM = "logs-logplatform-default"
INDEX_PATTERN = "logs-logplatform-*"
PIPELINE = "logs-logplatform"  # the entry every writer names: routes a document to one of the two below
EVENT_PIPELINE = "logs-logplatform@event"  # a raw line becomes an ECS document
DEAD_LETTER_PIPELINE = "logs-logplatform@dead-letter"  # a line the engine refused, as Filebeat re-sends it
INDEX_TEMPLATE = "logs-logplatform"
SETTINGS_COMPONENT = "logs-logplatform@settings"
MAPPINGS_COMPONENT = "logs-logplatform@mappings"
LIFECYCLE_COMPONENT = "logs-logplatform@lifecycle"
INDEX_MODE_COMPONENT = "logs-logplatform@index-mode"
ILM_POLICY = "logs-logplatform"
# Lines the engine refused, set aside by Filebeat (output.elasticsearch.non_indexable_policy): outside
# INDEX_PATTERN on purpose, so they never count as logs on a dashboard or in an alert.
DEAD_LETTER_STREAM = "logs-logplatform.deadletter-default"
DEAD_LETTER_PATTERN = "logs-logplatform.deadletter-*"
DEAD_LETTER_TEMPLATE = "logs-logplatform.deadletter"
# Elasticsearch 9.1+: what the pipeline or the mapping refused, kept in the data streams' failure stores (the
# `::failures` selector; es/lifecycle/failure-store.json). The writer gets a success, so nothing reaches the
# dead-letter stream: Kibana reads these through a data view of their own.
FAILURE_STORE_PATTERN = f"{INDEX_PATTERN}::failures"
# The queue (kafka/queue.compose.yml): the topic the shippers write and the indexer's consumer group
QUEUE_TOPIC = "logs-logplatform"
QUEUE_GROUP = "logplatform-indexer"
ALERTS_INDEX = "logplatform-alerts"  # ElastAlert2 writeback_index (alerting/config.yaml)
