"""The forwarder decodes on a hot standby (PostgreSQL 16+): the stream's decoding load leaves the
primary.

    python3 -m pytest tests/ha/test_standby_decoding.py      (tests/ha/run.sh [MAJOR])

A primary and a hot standby (physical slot, hot_standby_feedback on).  The forwarder's decoding
DSN names the standby with target_session_attrs=standby and its status DSN the primary (a
standby cannot write taxi_duration.forwarder_status).  It creates its slot on the standby, and
every real trip committed on the primary reaches Kinesis (moto, signature checking on) through
it; the primary has no logical slot and no decoding session; the standby's slot advances.
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
from td_cluster import server_major, wait_until

pytestmark = pytest.mark.skipif(
    server_major() < 16, reason="logical decoding on a standby needs PostgreSQL 16+"
)

STREAM = TRIPS_STREAM
SLOT = TRIPS_SLOT
N_TRIPS = 3000
CONF = LOGICAL_CONF
STANDBY_CONF = [*CONF, "hot_standby_feedback = on"]


def logical_slots(cluster):
    return cluster.sql(
        "SELECT slot_name, confirmed_flush_lsn::text FROM pg_replication_slots"
        " WHERE slot_type = 'logical'"
    )


@pytest.fixture(scope="module")
def streamed(
    moto, aws_client, make_module_cluster, make_module_standby, forwarder_bin, workdir,
    trips_2021_02,
):  # fmt: skip
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=STREAM, ShardCount=1)
    primary = make_module_cluster(CONF)
    primary.sql(TRIPS_DDL)
    standby = make_module_standby(primary, STANDBY_CONF, slot="td_decoding_standby")
    env = trips_forwarder_env(
        moto.env,
        TD_FORWARDER_DSN=standby.dsn() + " target_session_attrs=standby",
        TD_STATUS_DSN=primary.dsn(),
    )
    fwd = ForwarderProcess(forwarder_bin, env, workdir / "forwarder.log")
    fwd.start()
    try:
        # created once it has a confirmed position (until then it waits for the primary)
        wait_until(
            lambda: logical_slots(standby) and logical_slots(standby)[0][1],
            120,
            "the forwarder to create its slot on the standby",
        )
        slot_before = logical_slots(standby)[0][1]
        trips = trips_2021_02.head(N_TRIPS)
        with primary.connect() as conn:
            for start in range(0, N_TRIPS, 250):  # 12 transactions
                part = trips.iloc[start : start + 250]
                with conn.transaction():
                    conn.cursor().executemany(
                        "INSERT INTO trips VALUES (%s, %s, %s, %s, %s)",
                        [
                            (
                                start + k + 1,
                                int(r.PULocationID),
                                int(r.DOLocationID),
                                float(r.trip_distance),
                                r.lpep_pickup_datetime.to_pydatetime(),
                            )
                            for k, r in enumerate(part.itertuples(index=False))
                        ],
                    )
        reader = Reader(kin, STREAM)
        missing = reader.wait_for(list(range(1, N_TRIPS + 1)), 120)
        wait_until(
            lambda: primary.sql(
                "SELECT records_sent >= %s FROM taxi_duration.forwarder_status WHERE slot = %s",
                (N_TRIPS, SLOT),
            ),
            60,
            "the forwarder's status on the primary",
        )
        yield dict(
            primary=primary,
            standby=standby,
            missing=missing,
            slot_before=slot_before,
            log=open(workdir / "forwarder.log", errors="replace").read(),
        )
    finally:
        fwd.stop()


def test_every_trip_reaches_the_stream_through_the_standby(streamed):
    assert streamed["missing"] == [], f"{len(streamed['missing'])} trips missing"


def test_the_primary_does_no_decoding(streamed):
    primary = streamed["primary"]
    assert logical_slots(primary) == []
    assert primary.sql("SELECT count(*) FROM pg_stat_replication")[0][0] == 1  # the standby only


def test_the_standby_slot_advances(streamed):
    standby = streamed["standby"]
    wait_until(
        lambda: standby.sql(
            "SELECT confirmed_flush_lsn > %s::pg_lsn FROM pg_replication_slots WHERE slot_name = %s",
            (streamed["slot_before"], SLOT),
        )[0][0],
        30,
        "the standby's slot to advance",
    )
    assert "decoding on a standby" in streamed["log"]


def test_the_status_is_on_the_primary(streamed):
    sent, error = streamed["primary"].sql(
        "SELECT records_sent, last_error FROM taxi_duration.forwarder_status WHERE slot = %s",
        (SLOT,),
    )[0]
    assert sent >= N_TRIPS and error is None, (sent, error)
