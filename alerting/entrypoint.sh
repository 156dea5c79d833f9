#!/bin/sh
# Starts ElastAlert2 with Log-Platform's rules: takes the password from .env (ALERTING_ES_PASSWORD) or the
# generated secret, renders the rules with the thresholds and channels from the environment, then hands over
# to the image's own run.sh (which creates the writeback indices if they are missing, idempotently, and runs
# elastalert).
set -eu
ES_PASSWORD="${ALERTING_ES_PASSWORD:-$(cat "${ALERTING_PASSWORD_FILE:-/run/logplatform/secrets/alerting_password}")}"
export ES_PASSWORD
export PYTHONPATH="/opt/logplatform${PYTHONPATH:+:$PYTHONPATH}"  # alerting/lines.py, named in every rule
python /opt/logplatform/alerting/render.py --rules /opt/logplatform/alerting/rules --out /tmp/logplatform-rules
exec /opt/elastalert/run.sh --verbose --prometheus_port 9979
