#!/bin/bash
# The stand-in's start: the checks Elastic's entrypoint makes on what our compose file gives it, then the node.
set -euo pipefail
if [ "$(id -u)" = "0" ]; then
  echo "ERROR: Elasticsearch cannot run as root" >&2; exit 1
fi
if [ -n "${ELASTIC_PASSWORD:-}" ] && [ -n "${ELASTIC_PASSWORD_FILE:-}" ]; then
  echo "ERROR: Both ELASTIC_PASSWORD_FILE and ELASTIC_PASSWORD are set. These are mutually exclusive." >&2; exit 1
fi
if [ -n "${ELASTIC_PASSWORD_FILE:-}" ]; then
  mode="$(stat -L -c '%a' "$ELASTIC_PASSWORD_FILE")"
  if [ "$mode" != "400" ] && [ "$mode" != "600" ]; then
    echo "ERROR: File $ELASTIC_PASSWORD_FILE from ELASTIC_PASSWORD_FILE must have file permissions 400 or 600, but actually has: $mode" >&2
    exit 1
  fi
fi
exec python3 /usr/share/elasticsearch/standin/node.py
