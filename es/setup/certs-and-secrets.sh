#!/usr/bin/env bash
# One-shot, first in the start order: makes the CA and node certificates (as Elastic's own compose example
# does) and the platform's secrets, each only if it is not there yet. Runs as root in the Elasticsearch image.
# Secrets come from .env when set there, else they are generated; they are kept in the `secrets` volume.
# A value changed in .env later replaces the kept one and the old one is kept as <name>.previous, so that
# `logplatform setup` can still log in and move Elasticsearch over to the new password.
set -euo pipefail

CERTS=/usr/share/elasticsearch/config/certs
SECRETS=/run/logplatform/secrets
umask 077
mkdir -p "$CERTS" "$SECRETS"

if [ ! -f "$CERTS/ca/ca.crt" ]; then
  echo "certs: creating the certificate authority"
  bin/elasticsearch-certutil ca --silent --pem -out "$CERTS/ca.zip"
  unzip -q -o "$CERTS/ca.zip" -d "$CERTS"
fi
if [ ! -f "$CERTS/es01/es01.crt" ]; then
  echo "certs: creating node certificates"
  cat > "$CERTS/instances.yml" <<INSTANCES
instances:
  - name: es01
    dns: [es01, elasticsearch, localhost]
    ip: [127.0.0.1]
  - name: es02
    dns: [es02, localhost]
    ip: [127.0.0.1]
  - name: es03
    dns: [es03, localhost]
    ip: [127.0.0.1]
INSTANCES
  bin/elasticsearch-certutil cert --silent --pem -out "$CERTS/certs.zip" --in "$CERTS/instances.yml" \
    --ca-cert "$CERTS/ca/ca.crt" --ca-key "$CERTS/ca/ca.key"
  unzip -q -o "$CERTS/certs.zip" -d "$CERTS"
fi
# Readable by group 0, which every service of the platform runs in (uid 1000, gid 0).
chown -R root:root "$CERTS"
find "$CERTS" -type d -exec chmod 750 {} \;
find "$CERTS" -type f -exec chmod 640 {} \;

random() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }

# secret <file> <value from .env, may be empty> <length when generated>
secret() {
  local file="$SECRETS/$1" wanted="$2"
  if [ -n "$wanted" ] && [ -f "$file" ] && [ "$(cat "$file")" != "$wanted" ]; then
    echo "secrets: $1 changed in .env; the old value is kept as $1.previous for the switch-over"
    mv "$file" "$file.previous"
  fi
  if [ ! -f "$file" ]; then
    if [ -n "$wanted" ]; then printf '%s' "$wanted" > "$file"; else printf '%s' "$(random "$3")" > "$file"; fi
    echo "secrets: $1 ready"
  fi
}

secret elastic_password "${ELASTIC_PASSWORD:-}" 24
secret kibana_system_password "${KIBANA_SYSTEM_PASSWORD:-}" 24
secret filebeat_password "${FILEBEAT_PASSWORD:-}" 24
secret backend_password "${BACKEND_ES_PASSWORD:-}" 24
secret alerting_password "${ALERTING_ES_PASSWORD:-}" 24
secret kibana_encryption_key "${KIBANA_ENCRYPTION_KEY:-}" 48
if [ ! -f "$SECRETS/generator_api_key" ]; then
  # the generator's key for POST /logs; setup stores its hash in the backend's key store
  printf 'lp_%s_%s' "$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(random 43)" > "$SECRETS/generator_api_key"
fi
# Elasticsearch insists on mode 600 for ELASTIC_PASSWORD_FILE; every service reading a secret runs as uid 1000.
chown -R 1000:0 "$SECRETS"
chmod 700 "$SECRETS"
chmod 600 "$SECRETS"/*
echo "certs and secrets ready. The elastic password: docker compose exec setup cat /run/logplatform/secrets/elastic_password"
