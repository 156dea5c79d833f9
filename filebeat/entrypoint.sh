#!/usr/bin/env bash
# Filebeat reads no *_FILE variables: export the password from the secrets volume, then run Filebeat.
set -euo pipefail
if [ -z "${FILEBEAT_PASSWORD:-}" ] && [ -n "${FILEBEAT_PASSWORD_FILE:-}" ]; then
  FILEBEAT_PASSWORD="$(cat "$FILEBEAT_PASSWORD_FILE")"
  export FILEBEAT_PASSWORD
fi
exec /usr/share/filebeat/filebeat -e --strict.perms=false -c /usr/share/filebeat/filebeat.yml "$@"
