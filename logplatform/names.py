"""The names every component agrees on. Tests check that compose, Filebeat and es/ use these."""

ECS_VERSION = "9.4.0"

DATA_STREAM = "logs-logplatform-default"
INDEX_PATTERN = "logs-logplatform-*"
PIPELINE = "logs-logplatform"
NORMALIZE_SCRIPT = "logs-logplatform-normalize"
INDEX_TEMPLATE = "logs-logplatform"
SETTINGS_COMPONENT = "logs-logplatform@settings"
MAPPINGS_COMPONENT = "logs-logplatform@mappings"
LIFECYCLE_COMPONENT = "logs-logplatform@lifecycle"
ILM_POLICY = "logs-logplatform"
ALERTS_INDEX = "logplatform-alerts"  # ElastAlert2 writeback_index (alerting/config.yaml)
