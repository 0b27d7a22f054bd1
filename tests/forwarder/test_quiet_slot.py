"""The forwarder's slot moves past transactions without trip events, so WAL is released on a busy
database whose trips table is quiet — and a trip committed later is still sent.

    python3 -m pytest tests/forwarder/test_quiet_slot.py      (tests/forwarder/run.sh)

Real parts: a throwaway cluster with the taxi_duration output plugin, moto's Kinesis with
signature checking, the built forwarder.  A trips transaction is left open while 200,000 rows go
into another table; the slot must move past that WAL (and past the forwarder's own status
upserts) without skipping the open transaction's trip, which reaches Kinesis once committed;
then the WAL the slot retains shrinks back.
"""

from __future__ import annotations

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
from td_cluster import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.servers, pytest.mark.cluster]

BULK_ROWS = 200_000


def insert_trip(conn, ride_id: int) -> None:
    conn.execute("INSERT INTO trips VALUES (%s, 130, 205, 3.66, '2021-02-03 08:30')", (ride_id,))


def slot(cluster):
    return cluster.sql(
        "SELECT confirmed_flush_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint"
        " FROM pg_replication_slots WHERE slot_name = %s",
        (TRIPS_SLOT,),
    )[0]


def behind(cluster, lsn: str) -> bool:
    return not cluster.sql(
        "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots WHERE slot_name = %s",
        (lsn, TRIPS_SLOT),
    )[0][0]


@pytest.fixture(scope="module")
def quiet(moto, aws_client, make_module_cluster, forwarder_bin, workdir, note):
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=TRIPS_STREAM, ShardCount=1)
    cluster = make_module_cluster(LOGICAL_CONF)
    cluster.sql(TRIPS_DDL)
    cluster.sql("CREATE TABLE other (id int, pad text)")
    fwd = ForwarderProcess(forwarder_bin, trips_forwarder_env(moto.env), workdir / "forwarder.log")
    fwd.start(TD_FORWARDER_DSN=cluster.dsn())
    reader = Reader(kin, TRIPS_STREAM)
    out = {}
    try:
        wait_until(
            lambda: cluster.sql(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (TRIPS_SLOT,)
            ),
            60,
            "the forwarder to create its slot",
        )
        with cluster.connect() as c:
            for i in (1, 2, 3):
                insert_trip(c, i)
        assert reader.wait_for([1, 2, 3], 60) == []

        # a trips transaction stays open across the bulk load of another table
        with cluster.connect(autocommit=False) as open_txn:
            insert_trip(open_txn, 1000)
            before_bulk = cluster.sql("SELECT pg_current_wal_lsn()::text")[0][0]
            cluster.sql(
                f"INSERT INTO other SELECT i, repeat('x', 100) FROM generate_series(1, {BULK_ROWS}) i"
            )
            after_bulk = cluster.sql("SELECT pg_current_wal_lsn()::text")[0][0]
            out["bulk_bytes"] = cluster.sql(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)::bigint",
                (after_bulk, before_bulk),
            )[0][0]
            out["moved_past_bulk"] = bool(
                wait_until(
                    lambda: not behind(cluster, after_bulk),
                    60,
                    "the slot to move past the bulk load",
                )
            )
            out["sent_before_commit"] = reader.wait_for([1000], 1) == []
            open_txn.commit()
        out["missing_after_commit"] = reader.wait_for([1000], 60)

        # the WAL the slot holds shrinks once a running-transactions record is decoded
        def released():
            cluster.sql("CHECKPOINT")
            return slot(cluster)[1] < out["bulk_bytes"] // 4

        out["released"] = bool(wait_until(released, 60, "the slot's retained WAL to shrink"))
        out["retained_after"] = slot(cluster)[1]
        out["dups"] = reader.dups([1, 2, 3, 1000])
        note(
            f"quiet slot: {out['bulk_bytes']:,} bytes of WAL of another table passed; retained "
            f"after: {out['retained_after']:,} bytes"
        )
        yield out
    finally:
        fwd.stop()


def test_the_slot_moves_past_transactions_without_trip_events(quiet):
    assert quiet["bulk_bytes"] > 10_000_000, quiet["bulk_bytes"]
    assert quiet["moved_past_bulk"]


def test_an_open_trips_transaction_is_not_skipped(quiet):
    assert not quiet["sent_before_commit"], "an uncommitted trip was sent"
    assert quiet["missing_after_commit"] == [], "the trip committed after the slot moved was lost"


def test_the_retained_wal_is_released(quiet):
    assert quiet["released"], quiet["retained_after"]
    assert quiet["dups"] == 0
