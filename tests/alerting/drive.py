"""Runs every rule once over a past time range, the way the ElastAlert2 daemon runs them, and sends
real alerts. Executed with the Python of ElastAlert2's own venv (tests/alerting/build.py): ElastAlert2
is not importable from ours.

    drive.py CONFIG START END [LEARN_UNTIL]   ->  prints {"rule name": number of matches, ...} as JSON

LEARN_UNTIL (the daemon's --start): where a new_term rule's learning window ends, which is "now" for the
daemon; the data before it is what the rule already knows.

Why not `elastalert --start --end`: the daemon exits as soon as END is in the past, racing its own
scheduler; and `elastalert-test-rule` queries the whole range as one segment, which is not how
flatline and spike rules see data in production. ElastAlerter.run_rule is the daemon's own step
(segmenting by run_every / buffer_time, then alerting), called here for each rule.
"""

import json
import sys

from elastalert.elastalert import ElastAlerter
from elastalert.util import ts_to_dt


def main() -> None:
    config, start, end = sys.argv[1:4]
    learn_until = ["--start", sys.argv[4]] if len(sys.argv) > 4 else []
    alerter = ElastAlerter(["--config", config, "--verbose", *learn_until])
    matches = {}
    for rule in alerter.rules:
        matches[rule["name"]] = alerter.run_rule(rule, ts_to_dt(end), ts_to_dt(start))
    alerter.writeback_es.close()
    print(json.dumps(matches))


if __name__ == "__main__":
    main()
