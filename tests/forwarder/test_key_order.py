"""Records of one partition key reach Kinesis in commit order, with calls in flight and retries.

    python3 -m pytest tests/forwarder/test_key_order.py      (tests/forwarder/run.sh)

Real parts: a throwaway cluster with the taxi_duration output plugin, moto's Kinesis with
signature checking, the built forwarder with TD_INFLIGHT=4.  Between them, the fault-injecting
proxy (tests/forwarder/fault_proxy.py, named as such: real Kinesis fails entries one by one
under throttling, moto never does) fails 30% of the entries of each PutRecords call after moto
stored them, so the forwarder resends them, and rejects 10% of the calls whole.

300 ride ids get 8 versions each, version v of every ride in transaction v (a ride deleted and
inserted again, as the re-send procedure does), so a key's versions sit in different
transactions that the pipeline could otherwise send in parallel.  Reading each shard in order,
every key's versions must never go down: a retried entry (stored once already by the proxy's
fault) repeats its version, but no later version may come before an earlier one's last copy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from forwarding import (
    LOGICAL_CONF,
    TRIPS_SLOT,
    TRIPS_STREAM,
    ForwarderProcess,
    Reader,
    forwarder_env,
)
from td_cluster import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.servers, pytest.mark.cluster]

HERE = Path(__file__).resolve().parent
RIDES = 300
VERSIONS = 8
DDL = (
    "CREATE TABLE trips (ride_id bigint, version int, pulocationid int, dolocationid int,"
    " trip_distance float8, lpep_pickup_datetime timestamp)"
)


def start_proxy(upstream: str, workdir: Path):
    port_file, stats_file = workdir / "proxy.port", workdir / "proxy.json"
    for f in (port_file, stats_file):
        f.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fault_proxy.py"), "--upstream", upstream]
        + ["--port-file", str(port_file), "--stats-file", str(stats_file)]
        + ["--fail-rate", "0.3", "--reject-rate", "0.1", "--seed", "7"]
    )
    while not port_file.exists():
        assert proc.poll() is None, f"fault proxy exited with status {proc.returncode}"
        time.sleep(0.05)
    return proc, port_file.read_text(), stats_file


@pytest.fixture(scope="module")
def ordered(moto, aws_client, make_module_cluster, forwarder_bin, workdir, note):
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=TRIPS_STREAM, ShardCount=2)
    cluster = make_module_cluster(LOGICAL_CONF)
    cluster.sql(DDL)
    proxy, port, stats_file = start_proxy(moto.env["AWS_ENDPOINT_URL"], workdir)
    env = forwarder_env(
        moto.env,
        TD_SLOT=TRIPS_SLOT,
        TD_TABLES="public.trips",
        TD_TRIPS_STREAM=TRIPS_STREAM,
        TD_COLUMNS="pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,"
        "lpep_pickup_datetime,version",
        TD_INFLIGHT="4",
        TD_BACKOFF_BASE_MS="20",
        TD_BACKOFF_MAX_MS="200",
        AWS_ENDPOINT_URL_KINESIS=f"http://127.0.0.1:{port}",
    )
    fwd = ForwarderProcess(forwarder_bin, env, workdir / "forwarder.log")
    try:
        fwd.start(TD_FORWARDER_DSN=cluster.dsn())
        wait_until(
            lambda: cluster.sql(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (TRIPS_SLOT,)
            ),
            60,
            "the forwarder to create its slot",
        )
        with cluster.connect() as c:
            for v in range(VERSIONS):
                with c.transaction():
                    c.execute("DELETE FROM trips")
                    c.execute(
                        "INSERT INTO trips SELECT i, %s, 130, 205, 3.66, '2021-02-03 08:30'"
                        " FROM generate_series(1, %s) i",
                        (v, RIDES),
                    )

        reader = Reader(kin, TRIPS_STREAM, version=lambda doc: doc["ride"]["version"])

        def complete():
            reader.poll()
            return all(VERSIONS - 1 in reader.versions[i] for i in range(1, RIDES + 1))

        wait_until(complete, 120, "every ride's last version in the stream")
        seen = reader.versions
        stats = json.loads(stats_file.read_text())
        records = sum(len(v) for v in seen.values())
        note(
            f"key order: {RIDES} rides x {VERSIONS} versions, {records} records read "
            f"({records - RIDES * VERSIONS} copies from retries); proxy {stats}"
        )
        yield {"seen": seen, "stats": stats}
    finally:
        fwd.stop()
        proxy.terminate()
        proxy.wait()


def test_faults_were_injected(ordered):
    assert ordered["stats"]["failed_entries"] > 100, ordered["stats"]


def test_every_version_of_every_ride_is_in_the_stream(ordered):
    missing = [
        (i, v)
        for i in range(1, RIDES + 1)
        for v in range(VERSIONS)
        if v not in ordered["seen"].get(i, [])
    ]
    assert not missing, f"{len(missing)} (ride, version) pairs missing, e.g. {missing[:5]}"


def test_a_keys_versions_never_go_down_in_its_shard(ordered):
    out_of_order = {
        i: vs
        for i, vs in ordered["seen"].items()
        if any(b < a for a, b in zip(vs, vs[1:], strict=False))
    }
    assert not out_of_order, (
        f"{len(out_of_order)} rides out of order, e.g. {list(out_of_order.items())[:3]}"
    )
