#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between td-forwarder and moto (tests and benchmarks only).

    python3 tests/forwarder/fault_proxy.py --upstream http://127.0.0.1:PORT \
        --port-file F --stats-file S [--fail-rate 0.2] [--reject-rate 0.1] [--seed 1]
        [--error-code CODE] [--delay-ms 0] [--port 0]

Forwards every request unchanged, Host header included, so that moto's
SigV4 check still passes.  For PutRecords only, it injects the faults real
Kinesis produces but moto never does:

  * with probability --reject-rate, answers HTTP 400
    ProvisionedThroughputExceededException without forwarding;
  * on a forwarded, successful call, with probability --fail-rate per entry,
    rewrites the entry as {ErrorCode: ProvisionedThroughputExceededException}
    and adjusts FailedRecordCount (moto did store it: a resend duplicates it).
    --error-code puts another code there instead, e.g. one carrying a newline
    and a forged log line (a hostile or broken endpoint, for the log tests);
  * latency: with --delay-ms D, sleeps D ms before forwarding each PutRecords
    call (a rejected call is answered at once).  The server is threaded, so
    concurrent calls wait at the same time: D stands for the network round
    trip to a distant Kinesis endpoint, which calls in flight together
    overlap (bench/bench_stream_latency.py, with --fail-rate 0 --reject-rate 0).

Listens on 127.0.0.1:--port (0: any free port), writes that port to
--port-file once listening and its counters (JSON) to --stats-file after
every PutRecords call; max_in_flight is the most PutRecords calls it has
been forwarding at once.
"""

import argparse
import http.client
import http.server
import json
import os
import random
import threading
import time
import urllib.parse

LOCK = threading.Lock()
STATS = {
    "calls": 0,
    "rejected_calls": 0,
    "records": 0,
    "failed_entries": 0,
    "in_flight": 0,
    "max_in_flight": 0,
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        target = self.headers.get("X-Amz-Target", "")
        put = target.endswith(".PutRecords")
        srv = self.server
        if put and srv.rng.random() < srv.reject_rate:
            with LOCK:
                STATS["calls"] += 1
                STATS["rejected_calls"] += 1
                self._dump()
            msg = json.dumps(
                {
                    "__type": "ProvisionedThroughputExceededException",
                    "message": "Rate exceeded for shard (injected)",
                }
            ).encode()
            self._send(400, [("Content-Type", "application/x-amz-json-1.1")], msg)
            return
        if put:
            with LOCK:
                STATS["in_flight"] += 1
                STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
            try:
                status, headers, rbody = self._forward(srv, body, put)
            finally:
                with LOCK:  # before answering: the client may start its next call at once
                    STATS["in_flight"] -= 1
        else:
            status, headers, rbody = self._forward(srv, body, put)
        self._send(status, headers, rbody)

    def _forward(self, srv, body, put):
        """(status, headers, body) of the call forwarded to moto, faults injected."""
        if put and srv.delay_s > 0:
            time.sleep(srv.delay_s)
        up = http.client.HTTPConnection(srv.up.hostname, srv.up.port, timeout=60)
        up.putrequest("POST", self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("connection", "content-length", "expect"):
                up.putheader(k, v)
        up.putheader("Content-Length", str(len(body)))
        up.endheaders(body)
        resp = up.getresponse()
        rbody = resp.read()
        headers = resp.getheaders()
        status = resp.status
        up.close()
        if put and status == 200:
            doc = json.loads(rbody)
            failed = 0
            for i, rec in enumerate(doc.get("Records", [])):
                if "ErrorCode" in rec:
                    failed += 1
                elif srv.rng.random() < srv.fail_rate:
                    doc["Records"][i] = {
                        "ErrorCode": srv.error_code,
                        "ErrorMessage": "Rate exceeded for shard (injected)",
                    }
                    failed += 1
            with LOCK:
                STATS["calls"] += 1
                STATS["records"] += len(doc.get("Records", []))
                STATS["failed_entries"] += failed - doc.get("FailedRecordCount", 0)
                self._dump()
            doc["FailedRecordCount"] = failed
            rbody = json.dumps(doc).encode()
        return status, headers, rbody

    def _dump(self):
        tmp = self.server.stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(STATS, f)
        os.replace(tmp, self.server.stats_file)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats-file", required=True)
    ap.add_argument("--fail-rate", type=float, default=0.2)
    ap.add_argument("--reject-rate", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--error-code", default="ProvisionedThroughputExceededException")
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.up = urllib.parse.urlparse(a.upstream)
    srv.rng = random.Random(a.seed)
    srv.fail_rate, srv.reject_rate, srv.stats_file = a.fail_rate, a.reject_rate, a.stats_file
    srv.error_code = a.error_code
    srv.delay_s = a.delay_ms / 1000.0
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
