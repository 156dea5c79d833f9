"""Runs every rule over a past time range, the way the ElastAlert2 daemon runs them, and sends real alerts.
Executed with the Python of ElastAlert2's own venv (tests/alerting/build.py): ElastAlert2 is not importable from ours.

    drive.py CONFIG START END [LEARN_UNTIL] [--every-run] [--rule NAME ...]
        ->  prints {"rule name": number of matches, ...} as JSON

LEARN_UNTIL (the daemon's --start): where a new_term rule's learning window ends, which is "now" for the
daemon; the data before it is what the rule already knows.

By default each rule runs once over the whole range. With --every-run, each runs as the daemon runs it over
time: once every run_every, each run ending at ElastAlert2's clock (ts_now), set to the run's own moment, so that
what depends on the clock (realert, silences) sees the range pass as the daemon would. --rule: only these rules.

Why not `elastalert --start --end`: the daemon exits as soon as END is in the past, racing its own
scheduler; and `elastalert-test-rule` queries the whole range as one segment, which is not how
flatline and spike rules see data in production. ElastAlerter.run_rule is the daemon's own step
(segmenting by run_every / buffer_time, then alerting), called here for each rule; the daemon calls it with
endtime = ts_now() and, on its first run, the --start time (ElastAlerter.handle_rule_execution).
"""

import argparse
import json

from elastalert import elastalert as daemon
from elastalert.elastalert import ElastAlerter
from elastalert.util import ts_to_dt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("learn_until", nargs="?")
    parser.add_argument("--every-run", action="store_true")
    parser.add_argument("--rule", action="append", default=[])
    args = parser.parse_args()
    learn_until = ["--start", args.learn_until] if args.learn_until else []
    alerter = ElastAlerter(["--config", args.config, "--verbose", *learn_until])
    start, end = ts_to_dt(args.start), ts_to_dt(args.end)
    matches = {}
    for rule in alerter.rules:
        if args.rule and rule["name"] not in args.rule:
            continue
        if not args.every_run:
            matches[rule["name"]] = alerter.run_rule(rule, end, start)
            continue
        found, at, first = 0, start + alerter.run_every, True
        while at <= end:
            daemon.ts_now = lambda at=at: at  # the module's own name for it: what run_rule and alerting read
            found += alerter.run_rule(rule, at, start if first else None)
            at, first = at + alerter.run_every, False
        matches[rule["name"]] = found
    alerter.writeback_es.close()
    print(json.dumps(matches))


if __name__ == "__main__":
    main()
