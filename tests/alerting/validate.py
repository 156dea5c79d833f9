"""Loads every rule the way ElastAlert2 does at start (schema, rule type options, and each alerter's
required settings), without querying anything. Executed with the Python of ElastAlert2's own venv
(tests/alerting/build.py).

    validate.py CONFIG   ->  exit 0 and the rule names as JSON, or exit 1 and ElastAlert2's error
"""

import json
import sys

from elastalert.elastalert import ElastAlerter


def main() -> None:
    try:
        alerter = ElastAlerter(["--config", sys.argv[1], "--verbose"])
    except Exception as exc:  # ElastAlert2 reports bad rules as EAException, bad schema as others
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({r["name"]: [type(a).__name__ for a in r["alert"]] for r in alerter.rules}))


if __name__ == "__main__":
    main()
