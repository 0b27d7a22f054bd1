"""The AWS Lambda Runtime Interface Emulator as a test fixture, and Kinesis-shaped Lambda events.

Used by tests/lambda, tests/streaming and bench/bench_streaming.py:

    rie = Rie(rie_binary, "lambda/build/bootstrap", env, "/tmp/rie.log")   # or a command list
    response, milliseconds = rie.invoke(kinesis_event([{"ride": {...}, "ride_id": 256}]))
    rie.stop()

Each emulator runs in its own process group on free loopback ports and is stopped with it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from servers import free_port

TRIPS_STREAM = "stg_taxi_trip_events"


class Rie:
    """aws-lambda-rie running a function (a bootstrap path or a command), in its own session."""

    def __init__(self, rie, command, env, log_path, cwd=None):
        self.port = free_port()
        self.api_port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "a")
        self.t_start = time.monotonic()
        command = [command] if isinstance(command, str) else list(command)
        self.proc = subprocess.Popen(
            [
                rie,
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.port}",
                "--runtime-api-address",
                f"127.0.0.1:{self.api_port}",
            ]
            + command,
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"aws-lambda-rie exited: see {log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("aws-lambda-rie did not listen in 30 s")

    def invoke(self, event):
        """(decoded JSON response or None, round-trip milliseconds)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
        return (json.loads(text) if text else None), (time.monotonic() - t0) * 1000

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


def kinesis_event(payloads, first_seq=1, partition_keys=None, stream=TRIPS_STREAM):
    """A Lambda Kinesis event.  Payloads are dicts (JSON-encoded), bytes, or str (already
    base64); partition keys default to the record's position."""
    records = []
    for i, p in enumerate(payloads):
        seq = str(49650000000000000000000000000000000000000000000000000 + first_seq + i)
        if isinstance(p, dict):
            data = base64.b64encode(json.dumps(p).encode()).decode()
        elif isinstance(p, bytes):
            data = base64.b64encode(p).decode()
        else:
            data = p
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_keys[i] if partition_keys else str(i),
                    "sequenceNumber": seq,
                    "data": data,
                    "approximateArrivalTimestamp": 1614556800.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{seq}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda",
                "awsRegion": "eu-north-1",
                "eventSourceARN": f"arn:aws:kinesis:eu-north-1:123456789012:stream/{stream}",
            }
        )
    return {"Records": records}
