"""A hot standby (physical streaming replication) serves, loads and monitors on its own.

    python3 -m pytest tests/ha          (tests/ha/run.sh; needs the extension installed)

One primary with real 2021-02 trips and one standby made from it by pg_basebackup, both
preloading taxi_duration:

- the standby serves predict_duration() from its own shared memory, every trip's number equal
  to the primary's bit for bit, and model_info() works there;
- its loader worker follows taxi_duration.model_uri on its own (ALTER SYSTEM on the standby); a
  standby cannot write taxi_duration.model_loads, so its load history is recent_model_loads()
  (shared memory), written to model_loads after a promotion;
- drift_report() works on the standby (it reads only); the entry points that write monitors'
  definitions, reports and alerts say they must run on the primary (SQLSTATE 25006).

The tests share one pair of clusters and run in file order; the last one promotes the standby.
"""

from __future__ import annotations

import struct
from pathlib import Path

import psycopg
import pytest
from td_cluster import wait_until

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "bundles" / "small_xgb.json"
N_TRIPS = 5000
CONF = ["taxi_duration.load_retry_interval = 1", "max_worker_processes = 16"]


def bits(x: float | None) -> str | None:
    return None if x is None else struct.pack("<d", x).hex()


@pytest.fixture(scope="module")
def pair(make_module_cluster, make_module_standby, trips_2021_02):
    primary = make_module_cluster(CONF)
    with primary.connect() as conn:
        conn.execute(
            "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pu int, dropoff int,"
            " distance float8, pickup timestamp, duration float8)"
        )
        df = trips_2021_02.head(N_TRIPS)
        with conn.cursor().copy(
            "COPY trips (ride_id, pu, dropoff, distance, pickup, duration) FROM STDIN"
        ) as copy:
            for i, r in enumerate(df.itertuples(index=False)):
                copy.write_row(
                    (
                        i + 1,
                        int(r.PULocationID),
                        int(r.DOLocationID),
                        float(r.trip_distance),
                        r.lpep_pickup_datetime.to_pydatetime(),
                        float(r.duration),
                    )
                )
        # the two halves of the month as drift_report()'s sets
        conn.execute("CREATE VIEW ref_trips AS SELECT * FROM trips WHERE ride_id <= 2500")
        conn.execute("CREATE VIEW cur_trips AS SELECT * FROM trips WHERE ride_id > 2500")
        conn.execute(
            "SELECT taxi_duration.create_monitor('halves', 'ref_trips', 'trips', 'pickup',"
            " '1 day', columns => ARRAY['pu', 'distance'])"
        )
    standby = make_module_standby(primary, CONF)
    standby.wait_replayed()
    return primary, standby


PREDICT = (
    "SELECT ride_id, taxi_duration.predict_duration(pu, dropoff, distance, pickup)"
    " FROM trips ORDER BY ride_id"
)


def test_standby_is_in_recovery(pair):
    primary, standby = pair
    assert standby.sql("SELECT pg_is_in_recovery()")[0][0] is True
    assert primary.sql("SELECT pg_is_in_recovery()")[0][0] is False


def test_standby_predicts_every_trip_bit_identical_to_the_primary(pair):
    primary, standby = pair
    on_primary = [(i, bits(p)) for i, p in primary.sql(PREDICT)]
    on_standby = [(i, bits(p)) for i, p in standby.sql(PREDICT)]
    assert len(on_primary) == N_TRIPS
    assert all(p is not None for _, p in on_primary)
    differing = [a for a, b in zip(on_primary, on_standby, strict=True) if a != b]
    assert not differing, f"{len(differing)} trips differ, first: {differing[:3]}"


def test_standby_model_info_from_its_own_shared_memory(pair):
    primary, standby = pair
    q = "SELECT model_version, sha256, source, generation > 0 FROM taxi_duration.model_info()"
    p, s = primary.sql(q)[0], standby.sql(q)[0]
    assert s[0] is not None and s[3], f"standby model_info(): {s}"
    assert s[:3] == p[:3], f"standby serves {s}, primary {p}"


def test_standby_worker_follows_model_uri(pair):
    primary, standby = pair
    before = primary.sql("SELECT sha256 FROM taxi_duration.model_info()")[0][0]
    loads_before = standby.sql("SELECT count(*) FROM taxi_duration.model_loads")[0][0]
    with standby.connect() as conn:
        conn.execute(f"ALTER SYSTEM SET taxi_duration.model_uri = 'file://{SMALL}'")
        conn.execute("SELECT pg_reload_conf()")
    wait_until(
        lambda: standby.sql("SELECT source FROM taxi_duration.model_info()")[0][0].endswith(
            "small_xgb.json"
        ),
        30,
        "the standby's worker to load small_xgb.json",
    )
    # the primary is not affected
    assert primary.sql("SELECT sha256 FROM taxi_duration.model_info()")[0][0] == before
    # its history is in shared memory: recent_model_loads(); model_loads is the primary's
    rows = standby.sql(
        "SELECT trigger, outcome, source FROM taxi_duration.recent_model_loads()"
        " ORDER BY seq DESC LIMIT 1"
    )
    assert rows and rows[0][1] == "loaded" and rows[0][2].endswith("small_xgb.json"), rows
    assert rows[0][0] != "load_model", f"not loaded by the worker: {rows}"
    assert standby.sql("SELECT count(*) FROM taxi_duration.model_loads")[0][0] == loads_before
    # and it predicts with it
    small = standby.sql("SELECT taxi_duration.predict_duration(130, 205, 3.66)")[0][0]
    default = primary.sql("SELECT taxi_duration.predict_duration(130, 205, 3.66)")[0][0]
    assert small != default


def test_standby_load_model(pair):
    _, standby = pair
    version = standby.sql(f"SELECT model_version FROM taxi_duration.load_model('file://{SMALL}')")[
        0
    ][0]
    assert version
    rows = standby.sql(
        "SELECT trigger, outcome FROM taxi_duration.recent_model_loads() ORDER BY seq DESC LIMIT 1"
    )
    assert rows == [("load_model", "loaded")]


def test_standby_load_history_hides_failure_details_from_ordinary_roles(pair):
    primary, standby = pair
    with pytest.raises(psycopg.Error):
        standby.sql("SELECT * FROM taxi_duration.load_model('file:///nonexistent/bundle.json')")
    q = (
        "SELECT message, detail FROM taxi_duration.recent_model_loads()"
        " WHERE outcome = 'failed' ORDER BY seq DESC LIMIT 1"
    )
    message, detail = standby.sql(q)[0]
    assert message and detail, "a superuser sees the failure's detail"
    ordinary = primary.fresh_role()  # roles are created on the primary and replicated
    standby.wait_replayed()
    with standby.connect(user=ordinary) as conn:
        seen = conn.execute(q).fetchone()
    assert seen == (message, None), f"an ordinary role saw {seen}"
    assert "/nonexistent" not in (seen[0] or "")


def test_drift_report_on_the_standby(pair):
    primary, standby = pair
    q = (
        "SELECT taxi_duration.drift_report('ref_trips', 'cur_trips',"
        " columns => ARRAY['pu', 'dropoff', 'distance'], prediction => NULL, target => 'duration')"
    )
    on_standby = standby.sql(q)[0][0]
    assert on_standby == primary.sql(q)[0][0]
    assert set(on_standby["columns"]) == {"pu", "dropoff", "distance", "duration"}


@pytest.mark.parametrize(
    "call",
    [
        "SELECT * FROM taxi_duration.run_monitor('halves')",
        "SELECT * FROM taxi_duration.run_monitors()",
        "SELECT taxi_duration.create_monitor('other', 'ref_trips', 'trips', 'pickup')",
        "SELECT taxi_duration.alter_monitor('halves', enabled => false)",
        "SELECT taxi_duration.drop_monitor('halves')",
    ],
)
def test_monitors_say_they_run_on_the_primary(pair, call):
    _, standby = pair
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as e:
        standby.sql(call)
    diag = e.value.diag
    assert "must run on the primary" in diag.message_primary
    assert diag.message_hint and "primary" in diag.message_hint
    assert "drift_report" in diag.message_hint


def test_promoted_standby_writes_its_load_history(pair):
    _, standby = pair
    standby.promote()
    wait_until(
        lambda: (
            standby.sql(
                "SELECT count(*) FROM taxi_duration.model_loads WHERE source LIKE '%small_xgb.json'"
            )[0][0]
            >= 2
        ),
        30,
        "the promoted standby's worker to write its loads to model_loads",
    )
    assert standby.sql("SELECT count(*) FROM taxi_duration.run_monitor('halves')")[0][0] >= 1
