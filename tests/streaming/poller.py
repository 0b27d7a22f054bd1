#!/usr/bin/env python3
"""Stand-in for Lambda's Kinesis event-source mapping, for running the
streaming path by hand (tests/streaming/test_e2e.py uses the same class,
tests/lib/esm_poller.py).

    python3 tests/streaming/poller.py --function-url http://127.0.0.1:9000

Reads every shard of stg_taxi_trip_events from TRIM_HORIZON, invokes the
function (the RIE's invocation endpoint) with batches of Kinesis-shaped
records, re-sends the items in batchItemFailures.  AWS_ENDPOINT_URL,
AWS_REGION and the keys come from the environment (e.g. `set -a; . DIR/env` after
tests/lib/servers.py start).  Ctrl-C or SIGTERM stops it.  The poller itself is
tests/lib/esm_poller.py.
"""

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from aws_clients import aws_client  # noqa: E402
from esm_poller import Poller  # noqa: E402


class Function:
    def __init__(self, url):
        self.url = url.rstrip("/") + "/2015-03-31/functions/function/invocations"

    def invoke(self, event):
        """(decoded JSON response or None, round-trip milliseconds), as lambda_rie.Rie.invoke."""
        req = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
        return (json.loads(text) if text else None), (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--function-url", default="http://127.0.0.1:9000")
    a = ap.parse_args()
    region = os.environ.get("AWS_REGION", "eu-north-1")
    kin = aws_client("kinesis")
    p = Poller(kin, Function(a.function_url), region)
    p.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        while True:
            time.sleep(5)
            print(
                f"{p.records} records, {p.invocations} invocations, {p.retried} re-sent,"
                f" last errors {p.errors[-3:]}",
                flush=True,
            )
    except KeyboardInterrupt:
        p.stop_ev.set()
        p.join(timeout=30)


if __name__ == "__main__":
    main()
