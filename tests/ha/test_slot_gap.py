"""After a failover to a standby without the forwarder's slot, the forwarder refuses to skip.

    python3 -m pytest tests/ha/test_slot_gap.py      (tests/ha/run.sh)

Before PostgreSQL 17 a logical slot does not survive a failover: the promoted standby has the
forwarder's status table (replicated) but not its slot.  A new slot would start at the current
LSN and silently skip every trip committed after the last one sent.  The forwarder must notice
(the status table says it sent through that slot), create nothing, say so in
taxi_duration.forwarder_lag.last_error, keep running, and go on only once an operator sets
TD_SLOT_RESYNC=1 (docs/operations.md, "Failover").  Real parts: a primary and a hot standby,
moto's Kinesis with signature checking, the built forwarder.
"""

from __future__ import annotations

import time

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

STREAM = TRIPS_STREAM
SLOT = TRIPS_SLOT
CONF = LOGICAL_CONF


def insert(cluster, first, n):
    cluster.sql(
        "INSERT INTO trips SELECT i, 130, 205, 3.66, '2021-02-03 08:30' FROM generate_series(%s::int, %s::int) i",
        (first, first + n - 1),
    )


@pytest.fixture(scope="module")
def setup(moto, aws_client, make_module_cluster, make_module_standby, forwarder_bin, workdir):
    aws_client("kinesis").create_stream(StreamName=STREAM, ShardCount=1)
    primary = make_module_cluster(CONF)
    primary.sql(TRIPS_DDL)
    standby = make_module_standby(primary, CONF)
    env = trips_forwarder_env(moto.env)
    fwd = ForwarderProcess(forwarder_bin, env, workdir / "forwarder.log")
    yield primary, standby, fwd, aws_client("kinesis")
    fwd.stop()


def sent(cluster):
    rows = cluster.sql(
        "SELECT records_sent FROM taxi_duration.forwarder_status WHERE slot = %s", (SLOT,)
    )
    return rows[0][0] if rows else 0


def test_forwarder_refuses_to_skip_after_a_failover_and_resumes_on_resync(setup):
    primary, standby, fwd, kin = setup
    # forwarding from the primary
    fwd.start(TD_FORWARDER_DSN=primary.dsn())
    wait_until(
        lambda: primary.sql("SELECT count(*) FROM pg_replication_slots")[0][0] == 1,
        60,
        "the forwarder to create its slot",
    )
    insert(primary, 1, 200)
    wait_until(lambda: sent(primary) >= 200, 60, "200 trips sent from the primary")
    fwd.stop()
    standby.wait_replayed()

    # the primary dies; its standby is promoted, without the slot (PostgreSQL < 17)
    primary.stop()
    standby.promote()
    assert standby.sql("SELECT count(*) FROM pg_replication_slots")[0][0] == 0
    insert(standby, 201, 50)  # committed on the new primary: a new slot would skip them

    fwd.start(TD_FORWARDER_DSN=standby.dsn())
    error = wait_until(
        lambda: standby.sql(
            "SELECT last_error FROM taxi_duration.forwarder_lag WHERE last_error LIKE %s",
            ("%is missing%",),
        ),
        60,
        "the forwarder to report the missing slot",
    )[0][0]
    assert "TD_SLOT_RESYNC" in error and "LSN" in error, error
    time.sleep(1)
    assert fwd.proc.poll() is None, "the forwarder exited instead of waiting for an operator"
    assert standby.sql("SELECT count(*) FROM pg_replication_slots")[0][0] == 0, (
        "a slot was created: the events since the last one sent would be skipped"
    )
    assert sent(standby) == 200
    fwd.stop()

    # the operator resynchronises (docs/operations.md) and lets it create the slot again
    fwd.start(TD_FORWARDER_DSN=standby.dsn(), TD_SLOT_RESYNC="1")
    wait_until(
        lambda: standby.sql("SELECT count(*) FROM pg_replication_slots")[0][0] == 1,
        60,
        "the slot to be created again",
    )
    insert(standby, 251, 30)
    wait_until(lambda: sent(standby) >= 230, 60, "trips committed after the resync to be sent")
    reader = Reader(kin, STREAM)
    assert reader.wait_for(range(201, 251), 2) == list(range(201, 251)), "the gap was not skipped?"

    # re-send the gap as docs/operations.md says: the decoder streams INSERTs, so insert again
    with standby.connect() as conn, conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE resend ON COMMIT DROP AS SELECT * FROM trips WHERE ride_id > 200"
        )
        conn.execute("DELETE FROM trips WHERE ride_id IN (SELECT ride_id FROM resend)")
        conn.execute("INSERT INTO trips SELECT * FROM resend")
    missing = reader.wait_for(range(1, 281), 60)
    assert missing == [], f"{len(missing)} trips still missing after the re-send: {missing[:10]}"
    fwd.stop()
