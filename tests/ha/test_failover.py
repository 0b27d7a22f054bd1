"""Failover without losing trips (PostgreSQL 17+): the primary dies mid-stream, its standby takes
over, and every committed trip still reaches Kinesis.

    python3 -m pytest tests/ha/test_failover.py      (tests/ha/run.sh [MAJOR])

A primary and a hot standby streaming through a physical slot, synchronous (an acknowledged
commit is on the standby) and named in the primary's synchronized_standby_slots (the primary
decodes nothing the standby has not received); the standby has sync_replication_slots on.  The
forwarder gets both hosts (libpq multi-host; it picks the primary) and creates its slot, a
failover slot, which the standby keeps in step.  Real trips (January and February 2021, 100,000
by default: TD_FAILOVER_TRIPS) are inserted in transactions of 1 to 200 rows, some rolled back;
when 40% are in, the primary is stopped with ``pg_ctl stop -m immediate`` and the standby
promoted; the inserts go on against the new primary.

Then: every trip in the promoted server's table is in the stream (lost 0), every acknowledged
commit is in that table, no ride id of a rolled-back transaction and none that the table lacks is
in the stream, and the forwarder went on with the synchronised slot (it created no new one).
Duplicates are expected (the synchronised slot may be behind what was sent) and printed:
``failover on PostgreSQL N: inserted ..., in the stream ..., lost ..., duplicates ...``.
Before PostgreSQL 17 slots do not survive a failover: test_slot_gap.py covers that.
"""

from __future__ import annotations

import os
import random
import threading
import time

import psycopg
import pytest
from forwarding import (
    LOGICAL_CONF,
    TRIPS_DDL,
    TRIPS_SLOT,
    TRIPS_STREAM,
    ForwarderProcess,
    Reader,
    trips_forwarder_env,
)
from td_cluster import server_major, wait_until

pytestmark = pytest.mark.skipif(
    server_major() < 17, reason="failover slots need PostgreSQL 17+ (test_slot_gap.py before)"
)

STREAM = TRIPS_STREAM
SLOT = TRIPS_SLOT
STANDBY_SLOT = "td_standby"  # the standby's physical slot, and its application_name
N_TRIPS = int(os.environ.get("TD_FAILOVER_TRIPS", "100000"))
KILL_AT = 0.4  # the share of trips inserted when the primary dies
ROLLED_BACK_OFFSET = 10**9  # ride ids of rolled-back transactions: never committed
CONF = LOGICAL_CONF
STANDBY_CONF = [
    *CONF,
    "sync_replication_slots = on",
    "hot_standby_feedback = on",
    # once promoted it has no standby of its own
    "synchronized_standby_slots = ''",
    "synchronous_standby_names = ''",
]
INSERT = (
    "INSERT INTO trips SELECT * FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::float8[],"
    " %s::timestamp[])"
)


def multi_host_dsn(*clusters) -> str:
    hosts = ",".join(str(c.dir) for c in clusters)
    ports = ",".join(str(c.port) for c in clusters)
    return f"host={hosts} port={ports} user=postgres dbname=postgres"


def slot_row(cluster, columns: str):
    rows = cluster.sql(f"SELECT {columns} FROM pg_replication_slots WHERE slot_name = %s", (SLOT,))
    return rows[0] if rows else None


class Inserter:
    """Inserts the trips in random transactions through a multi-host DSN (the primary of the
    moment), reconnecting after a failover; keeps which ride ids were acknowledged, in doubt
    (the connection died during the transaction) and rolled back."""

    def __init__(self, dsn: str, trips):
        self.dsn = dsn + " target_session_attrs=primary"
        self.rows = [
            (
                int(r.PULocationID),
                int(r.DOLocationID),
                float(r.trip_distance),
                r.lpep_pickup_datetime.to_pydatetime(),
            )
            for r in trips.itertuples(index=False)
        ]
        self.acknowledged: list[int] = []
        self.in_doubt: list[int] = []
        self.rolled_back: list[int] = []
        self.done = 0  # trips handled (acknowledged or in doubt)
        self.reconnect_s = 0.0
        self.full_speed = threading.Event()  # until set, a trickle (the warm-up)

    def _connect(self, timeout: float) -> psycopg.Connection:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return psycopg.connect(self.dsn, connect_timeout=5)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _txn(self, conn, ids, rows, commit: bool) -> None:
        cols = list(zip(*rows, strict=True))
        conn.execute(INSERT, (ids, *map(list, cols)))
        conn.commit() if commit else conn.rollback()

    def run(self) -> None:
        rng = random.Random(13)
        conn = self._connect(30)
        i = 0
        while i < len(self.rows):
            warm = not self.full_speed.is_set()
            n = min(rng.randint(1, 10 if warm else 200), len(self.rows) - i)
            ids = list(range(i + 1, i + n + 1))
            rows = self.rows[i : i + n]
            try:
                if rng.random() < 0.05:
                    bad = [r + ROLLED_BACK_OFFSET for r in ids]
                    self._txn(conn, bad, rows, commit=False)
                    self.rolled_back += bad
                self._txn(conn, ids, rows, commit=True)
                self.acknowledged += ids
            except psycopg.OperationalError:
                # the primary died: this transaction may or may not have committed
                self.in_doubt += ids
                start = time.monotonic()
                conn.close()
                conn = self._connect(120)
                self.reconnect_s = time.monotonic() - start
            i += n
            self.done = i
            if warm:
                time.sleep(0.1)
        conn.close()


@pytest.fixture(scope="module")
def failover(
    moto, aws_client, make_module_cluster, make_module_standby, forwarder_bin, workdir,
    trips_2021_01_02, note,
):  # fmt: skip
    trips = trips_2021_01_02.head(N_TRIPS)
    assert len(trips) == N_TRIPS, f"only {len(trips)} real trips"
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=STREAM, ShardCount=2)
    primary = make_module_cluster(CONF)
    primary.sql(TRIPS_DDL)
    standby = make_module_standby(primary, STANDBY_CONF, slot=STANDBY_SLOT)
    # now that the standby exists: synchronous, and the primary decodes only what it has
    primary.sql(f"ALTER SYSTEM SET synchronized_standby_slots = '{STANDBY_SLOT}'")
    primary.sql(f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_SLOT}'")
    primary.reload()
    wait_until(
        lambda: primary.sql("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'"),
        60,
        "the standby to be synchronous",
    )

    env = trips_forwarder_env(moto.env)
    fwd = ForwarderProcess(forwarder_bin, env, workdir / "forwarder.log")
    fwd.start(TD_FORWARDER_DSN=multi_host_dsn(primary, standby))
    try:
        wait_until(lambda: slot_row(primary, "failover"), 60, "the forwarder to create its slot")
        failover_slot = slot_row(primary, "failover")[0]

        inserter = Inserter(multi_host_dsn(primary, standby), trips)
        thread = threading.Thread(target=inserter.run, daemon=True)
        thread.start()

        # The standby's copy of the slot must be ready before the failover (docs/operations.md):
        # it is, once the primary's slot has moved past what the standby reserved, which takes a
        # running-transactions record (the primary logs one every 15 s; here, every second)
        # and a commit forwarded after it.  Until then the trips trickle in.
        def standby_copy_ready():
            primary.sql("SELECT pg_log_standby_snapshot()")
            time.sleep(0.5)
            return (slot_row(standby, "synced AND NOT temporary AND NOT conflicting") or [False])[0]

        wait_until(standby_copy_ready, 120, "the standby to have a synchronised copy of the slot")
        inserter.full_speed.set()
        warm_up = inserter.done
        wait_until(lambda: inserter.done >= KILL_AT * N_TRIPS or not thread.is_alive(), 600, "")
        streamed_before = primary.sql(
            "SELECT records_sent FROM taxi_duration.forwarder_status WHERE slot = %s", (SLOT,)
        )[0][0]
        killed_at = inserter.done
        primary.kill()
        standby.promote()
        reader = Reader(kin, STREAM)
        thread.join(timeout=900)
        assert not thread.is_alive(), "the inserts did not finish"

        table = {r[0] for r in standby.sql("SELECT ride_id FROM trips")}
        missing = reader.wait_for(sorted(table), 300)
        records = sum(reader.counts.values())
        in_stream = set(reader.counts)
        result = dict(
            killed_at=killed_at,
            failover_slot=failover_slot,
            table=table,
            acknowledged=set(inserter.acknowledged),
            in_doubt=set(inserter.in_doubt),
            rolled_back=set(inserter.rolled_back),
            in_stream=in_stream,
            lost=missing,
            duplicates=records - len(in_stream),
            forwarder_log=open(workdir / "forwarder.log", errors="replace").read(),
            standby_dir=str(standby.dir),
        )
        note(
            f"failover on PostgreSQL {server_major()}: trips inserted {len(table)}"
            f" ({len(inserter.acknowledged)} acknowledged, {len(inserter.in_doubt)} in doubt at"
            f" the crash, of which {len(table & result['in_doubt'])} committed), in the stream"
            f" {len(in_stream & table)}, lost {len(missing)}, duplicates {result['duplicates']}"
            f" ({records} records); primary killed after {killed_at} trips ({warm_up} before the"
            f" standby's copy of the slot was ready), {streamed_before} of them streamed; inserts"
            f" resumed on the promoted standby after {inserter.reconnect_s:.1f} s"
        )
        yield result
    finally:
        fwd.stop()


def test_the_primary_died_mid_stream(failover):
    assert 0 < failover["killed_at"] < N_TRIPS


def test_the_forwarder_creates_a_failover_slot(failover):
    assert failover["failover_slot"] is True


def test_no_committed_trip_is_lost(failover):
    assert failover["lost"] == [], f"{len(failover['lost'])} trips lost: {failover['lost'][:20]}"


def test_every_acknowledged_commit_survived_the_failover(failover):
    gone = failover["acknowledged"] - failover["table"]
    assert not gone, f"{len(gone)} acknowledged trips are not on the promoted standby"


def test_nothing_from_a_rolled_back_transaction_is_in_the_stream(failover):
    assert failover["rolled_back"], "the test rolled nothing back"
    assert not failover["in_stream"] & failover["rolled_back"]


def test_nothing_the_surviving_history_lacks_is_in_the_stream(failover):
    phantom = failover["in_stream"] - failover["table"]
    assert not phantom, f"{len(phantom)} ride ids streamed that the promoted server never committed"


def test_the_forwarder_went_on_with_the_synchronised_slot(failover):
    log = failover["forwarder_log"]
    assert log.count("created logical replication slot") == 1, log[-3000:]
    assert failover["standby_dir"] in log.split("created logical replication slot")[1], (
        "the forwarder never connected to the promoted standby"
    )
