"""Loads every rule the way ElastAlert2 does at start (schema, rule type options, and each alerter's
required settings), without querying anything. Executed with the Python of ElastAlert2's own venv
(tests/alerting/build.py).

    validate.py CONFIG   ->  exit 0 and the rule names as JSON, or exit 1 and ElastAlert2's error
"""

import json
import sys

from elastalert.elastalert import ElastAlerter
from elastalert.ruletypes import NewTermsRule

# A new_term rule searches the cluster for the terms it already knows while it loads; loading is all this checks
# (tests/alerting/test_alerting.py runs the rule on the engine), so that search is left out here.
NewTermsRule.get_all_terms = lambda self, args: None


def main() -> None:
    try:
        alerter = ElastAlerter(["--config", sys.argv[1], "--verbose"])
    except Exception as exc:  # ElastAlert2 reports bad rules as EAException, bad schema as others
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({r["name"]: [type(a).__name__ for a in r["alert"]] for r in alerter.rules}))


if __name__ == "__main__":
    main()
