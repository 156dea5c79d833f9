#!/bin/sh
# Starts ElastAlert2 with Log-Platform's rules: takes the password from .env (ALERTING_ES_PASSWORD) or the
# generated secret, renders the rules with the thresholds and channels from the environment, then hands over
# to the image's own run.sh (which creates the writeback indices if they are missing, idempotently, and runs
# elastalert; arguments given here go to elastalert).
set -eu
ES_PASSWORD="${ALERTING_ES_PASSWORD:-$(cat "${ALERTING_PASSWORD_FILE:-/run/logplatform/secrets/alerting_password}")}"
export ES_PASSWORD
export PYTHONPATH="/opt/logplatform${PYTHONPATH:+:$PYTHONPATH}"  # alerting/lines.py, named in every rule
python /opt/logplatform/alerting/render.py --rules /opt/logplatform/alerting/rules --out /tmp/logplatform-rules
if [ -n "${ES_HOSTS:-}" ]; then
  # Several nodes (the three-node profile): run.sh's elastalert-create-index reads ES_HOST, never ES_HOSTS, and
  # under its `set -e` a down es_host would stop every start. It gets a node that answers (alerting/first_node.py);
  # elastalert reads ES_HOSTS over ES_HOST and so keeps every node for failover.
  node="$(python /opt/logplatform/alerting/first_node.py --config /opt/elastalert/config.yaml)"
  ES_HOST="${node% *}"
  ES_PORT="${node##* }"
  export ES_HOST ES_PORT
fi
exec /opt/elastalert/run.sh --verbose --prometheus_port 9979 "$@"
