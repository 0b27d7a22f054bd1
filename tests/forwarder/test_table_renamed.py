"""A configured table renamed while the forwarder runs: its rows stop being forwarded (tables are
matched by name), and that is no longer silent — the plugin's WARNING reaches the forwarder as a
notice, which it logs and records as its last error, so taxi_duration.forwarder_lag shows it.

    python3 -m pytest tests/forwarder/test_table_renamed.py      (tests/forwarder/run.sh)

Real parts: a throwaway cluster with the taxi_duration output plugin, moto's Kinesis with
signature checking, the built forwarder.  Ride 1 is forwarded; public.trips is renamed to
trips_old and ride 2 inserted into it: ride 2 is not sent, forwarder_lag.last_error says the
table was renamed within seconds, and the forwarder's log has the warning, escaped; renamed back,
ride 3 is forwarded again.
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


def insert_trip(cluster, table: str, ride_id: int) -> None:
    cluster.sql(f"INSERT INTO {table} VALUES (%s, 130, 205, 3.66, '2021-02-03 08:30')", (ride_id,))


def last_error(cluster):
    rows = cluster.sql(
        "SELECT last_error, last_error_at IS NOT NULL FROM taxi_duration.forwarder_lag"
        " WHERE slot = %s",
        (TRIPS_SLOT,),
    )
    return rows[0] if rows else (None, False)


@pytest.fixture(scope="module")
def renamed(moto, aws_client, make_module_cluster, forwarder_bin, workdir):
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=TRIPS_STREAM, ShardCount=1)
    cluster = make_module_cluster(LOGICAL_CONF)
    cluster.sql(TRIPS_DDL)
    log = workdir / "forwarder.log"
    fwd = ForwarderProcess(forwarder_bin, trips_forwarder_env(moto.env), log)
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
        insert_trip(cluster, "trips", 1)
        out["missing_before"] = reader.wait_for([1], 60)
        out["error_before"] = last_error(cluster)[0]

        cluster.sql("ALTER TABLE trips RENAME TO trips_old")
        insert_trip(cluster, "trips_old", 2)
        out["error_after"] = wait_until(
            lambda: (e := last_error(cluster)[0]) and "public.trips" in e and e,
            30,
            "forwarder_lag.last_error to show the plugin's warning",
        )
        out["error_at_set"] = last_error(cluster)[1]
        out["sent_after_rename"] = reader.wait_for([2], 3) == []
        out["log"] = log.read_text(errors="replace")

        cluster.sql("ALTER TABLE trips_old RENAME TO trips")
        insert_trip(cluster, "trips", 3)
        out["missing_after_rename_back"] = reader.wait_for([3], 60)
        yield out
    finally:
        fwd.stop()


def test_rows_are_forwarded_before_the_rename(renamed):
    assert renamed["missing_before"] == []
    assert not renamed["error_before"], renamed["error_before"]


def test_the_plugins_warning_is_forwarder_lag_last_error(renamed):
    err = renamed["error_after"]
    assert err, "forwarder_lag.last_error stayed empty after the table was renamed"
    assert err.startswith("postgresql WARNING 42P01:"), err
    # streaming, the plugin sees the rename in the WAL (a reconnect would see the name missing)
    assert (
        'table \\"public.trips\\" was renamed to \\"public.trips_old\\"' in err
        or 'table \\"public.trips\\" in option \\"tables\\" does not exist' in err
    ), err
    assert "hint:" in err and "TD_TABLES" in err, err
    assert renamed["error_at_set"]


def test_the_warning_is_logged_escaped_on_one_line(renamed):
    lines = [ln for ln in renamed["log"].splitlines() if "postgresql WARNING 42P01" in ln]
    assert lines, renamed["log"][-2000:]
    assert all(ln.split(" ", 2)[2].startswith("td-forwarder[") for ln in lines), lines
    assert not any(
        ln.startswith(("DETAIL", "HINT", "WARNING")) for ln in renamed["log"].splitlines()
    )


def test_rows_of_the_renamed_table_are_not_forwarded(renamed):
    # the documented contract: tables are matched by name (docs/streaming.md)
    assert not renamed["sent_after_rename"]


def test_renamed_back_rows_are_forwarded_again(renamed):
    assert renamed["missing_after_rename_back"] == []
