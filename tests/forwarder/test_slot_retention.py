"""A forwarder stopped for long: its slot's growing WAL shows in forwarder_lag, an alert is raised
before the slot is invalidated, and once it is, the restarted forwarder says so and how to recover.

    python3 -m pytest tests/forwarder/test_slot_retention.py      (tests/forwarder/run.sh)

Real parts: a throwaway cluster with 1 MB WAL segments, max_slot_wal_keep_size = 64MB and
max_wal_size = 32MB; moto's Kinesis with signature checking; the built forwarder.  The forwarder
sends a few trips, then is stopped (SIGTERM) and a trip is committed behind it.  WAL is written
one segment at a time in another table (pg_switch_wal); after each segment forwarder_lag is read
and taxi_duration.check_forwarder_slots() runs as a member of taxi_duration_admin (not a
superuser), which must raise a slot_retention alert (safe_wal_size under 20 % of the limit) —
a monitor_alerts row, a NOTIFY on taxi_duration_alerts, a WARNING — while the slot is still
usable, then slot_lost once a checkpoint invalidated it.  The restarted forwarder must record in
forwarder_status a last_error saying the slot was invalidated, WAL removed, and how to resync;
it must neither recreate nor drop the slot, nor send anything.  Then the documented
resynchronisation (docs/operations.md, "Slot retention and max_slot_wal_keep_size"): drop the
slot — the forwarder refuses to recreate it on its own — and start it with TD_SLOT_RESYNC=1,
after which new trips flow again.  An ordinary role can neither run the check nor forge alerts.
"""

from __future__ import annotations

import json
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

pytestmark = [pytest.mark.e2e, pytest.mark.servers, pytest.mark.cluster]

MB = 1024 * 1024
KEEP_MB = 64
CONF = [
    *LOGICAL_CONF,
    f"max_slot_wal_keep_size = {KEEP_MB}MB",
    "max_wal_size = 32MB",
    "min_wal_size = 4MB",
    "checkpoint_timeout = 1h",  # only WAL volume (and the test's CHECKPOINT) trigger checkpoints
]
LAG = (
    "SELECT retained_wal_bytes, wal_status, safe_wal_size, extract(epoch FROM since_last_report),"
    " last_error, invalidation_reason, inactive_since IS NOT NULL, active"
    " FROM taxi_duration.forwarder_lag WHERE slot = %s"
)
CHECK = (
    "SELECT kind, alert_id, message FROM taxi_duration.check_forwarder_slots("
    "max_silence => '2 seconds')"
)


def insert_trip(cluster, ride_id: int) -> None:
    cluster.sql("INSERT INTO trips VALUES (%s, 130, 205, 3.66, '2021-02-03 08:30')", (ride_id,))


def lag(cluster) -> dict:
    row = cluster.sql(LAG, (TRIPS_SLOT,))[0]
    keys = (
        "retained",
        "wal_status",
        "safe",
        "silence",
        "last_error",
        "reason",
        "inactive",
        "active",
    )
    return dict(zip(keys, row, strict=True))


@pytest.fixture(scope="module")
def retention(moto, aws_client, make_module_cluster, forwarder_bin, workdir, note):
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=TRIPS_STREAM, ShardCount=1)
    cluster = make_module_cluster(CONF, initdb_args=("--wal-segsize=1",))
    cluster.sql(TRIPS_DDL)
    cluster.sql("CREATE TABLE other (id int)")
    watcher = cluster.fresh_role("taxi_duration_admin")  # the monitoring role
    nobody = cluster.fresh_role()
    env = trips_forwarder_env(moto.env)
    fwd = ForwarderProcess(forwarder_bin, env, workdir / "forwarder.log")
    reader = Reader(kin, TRIPS_STREAM)
    out = {"watcher": watcher, "nobody": nobody, "cluster": cluster, "steps": []}
    listener = cluster.connect(user=watcher)
    listener.execute("LISTEN taxi_duration_alerts")
    watch = cluster.connect(user=watcher)
    warnings = []
    watch.add_notice_handler(lambda d: warnings.append(d.message_primary))
    out["warnings"] = warnings
    try:
        # a slot no forwarder ever reported on (as the container's initdb script makes one)
        cluster.sql("SELECT pg_create_logical_replication_slot('td_orphan', 'taxi_duration')")
        out["orphan_check"] = watch.execute(CHECK).fetchall()
        cluster.sql("SELECT pg_drop_replication_slot('td_orphan')")
        fwd.start(TD_FORWARDER_DSN=cluster.dsn())
        wait_until(
            lambda: cluster.sql(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (TRIPS_SLOT,)
            ),
            60,
            "the forwarder to create its slot",
        )
        for i in (1, 2, 3):
            insert_trip(cluster, i)
        assert reader.wait_for([1, 2, 3], 60) == []
        wait_until(lambda: lag(cluster)["silence"] is not None, 30, "a status row")
        out["healthy_lag"] = lag(cluster)
        out["healthy_check"] = watch.execute(CHECK).fetchall()

        # the forwarder stops for long; a trip is committed behind it
        out["stop_rc"] = fwd.stop()
        insert_trip(cluster, 4)
        time.sleep(2.5)  # longer than max_silence

        # WAL piles up, one 1 MB segment at a time; the check runs after each
        raised_while_usable = None
        for step in range(1, 140):
            cluster.sql("INSERT INTO other VALUES (%s)", (step,))
            cluster.sql("SELECT pg_switch_wal()")
            now = lag(cluster)
            rows = watch.execute(CHECK).fetchall()
            now["kinds"] = sorted((k, a is not None) for k, a, _ in rows)
            out["steps"].append(now)
            if raised_while_usable is None and any(
                k == "slot_retention" and a is not None for k, a, _ in rows
            ):
                raised_while_usable = dict(now, messages=[m for _, _, m in rows])
            if now["wal_status"] == "lost" or now["retained"] > (KEEP_MB + 8) * MB:
                break
        out["raised_while_usable"] = raised_while_usable
        # past the limit: the next checkpoint invalidates the slot
        cluster.sql("CHECKPOINT")
        out["lost_lag"] = lag(cluster)
        out["lost_check"] = watch.execute(CHECK).fetchall()
        out["again_check"] = watch.execute(CHECK).fetchall()
        out["alerts"] = watch.execute(
            "SELECT kind, slot, monitor, report_id IS NULL, message FROM taxi_duration.monitor_alerts"
            " WHERE slot = %s ORDER BY id",
            (TRIPS_SLOT,),
        ).fetchall()
        notifies = [json.loads(n.payload) for n in listener.notifies(timeout=1, stop_after=100)]
        out["notifies"] = [n for n in notifies if n["slot"] == TRIPS_SLOT]
        note(
            "slot retention: "
            + ", ".join(
                f"{s['retained'] // MB} MB {s['wal_status']}"
                for s in out["steps"][::8] + out["steps"][-1:]
            )
            + f"; alert at {raised_while_usable and raised_while_usable['retained'] // MB} MB"
        )

        # the forwarder comes back to an invalidated slot
        fwd.start(TD_FORWARDER_DSN=cluster.dsn())
        out["restart_error"] = wait_until(
            lambda: (
                (lag(cluster)["last_error"] or "")
                if "invalidated" in (lag(cluster)["last_error"] or "")
                else None
            ),
            60,
            "the forwarder to report the invalidated slot",
        )
        time.sleep(1.5)  # a few more attempts: nothing may change
        out["after_restart"] = lag(cluster)
        out["slots_after_restart"] = cluster.sql(
            "SELECT slot_name, wal_status FROM pg_replication_slots"
        )
        out["running_after_restart"] = fwd.proc.poll() is None
        out["missing_4"] = reader.wait_for([4], 2)
        note(f"slot retention: the forwarder reports {out['restart_error']!r}")

        # resynchronisation: drop the slot; without TD_SLOT_RESYNC the forwarder creates nothing
        fwd.stop()
        cluster.sql("SELECT pg_drop_replication_slot(%s)", (TRIPS_SLOT,))
        fwd.start(TD_FORWARDER_DSN=cluster.dsn())
        out["gap_error"] = wait_until(
            lambda: (
                (lag(cluster)["last_error"] or "")
                if "is missing" in (lag(cluster)["last_error"] or "")
                else None
            ),
            60,
            "the forwarder to refuse to recreate the slot",
        )
        out["slot_recreated_without_resync"] = bool(
            cluster.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (TRIPS_SLOT,))
        )
        fwd.stop()
        fwd.start(TD_FORWARDER_DSN=cluster.dsn(), TD_SLOT_RESYNC="1")
        wait_until(
            lambda: cluster.sql(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (TRIPS_SLOT,)
            ),
            60,
            "the slot to be created again with TD_SLOT_RESYNC=1",
        )
        insert_trip(cluster, 5)
        out["missing_after_resync"] = reader.wait_for([5], 60)
        out["resynced_lag"] = lag(cluster)
        yield out
    finally:
        fwd.stop()
        listener.close()
        watch.close()


def test_forwarder_lag_shows_the_slot_healthy_while_the_forwarder_runs(retention):
    h = retention["healthy_lag"]
    assert h["wal_status"] == "reserved", h
    assert 0 < h["safe"] <= KEEP_MB * MB + 2 * MB, h
    assert h["silence"] < 10, h  # (active only during a peek: the forwarder uses SQL calls)
    assert retention["healthy_check"] == [], retention["healthy_check"]


def test_a_slot_no_forwarder_reported_on_is_alerted(retention):
    rows = retention["orphan_check"]
    assert [(k, a is not None) for k, a, _ in rows] == [("forwarder_silent", True)], rows
    assert 'no forwarder has ever reported on slot "td_orphan"' in rows[0][2], rows


def test_forwarder_lag_shows_the_retained_wal_growing(retention):
    steps = retention["steps"]
    assert retention["stop_rc"] == 0
    retained = [s["retained"] for s in steps if s["retained"] is not None]
    assert retained == sorted(retained) and retained[-1] - retained[0] > 40 * MB, retained
    safe = [s["safe"] for s in steps if s["safe"] is not None]
    assert safe == sorted(safe, reverse=True), safe
    order = ["reserved", "extended", "unreserved", "lost"]
    seen = [s["wal_status"] for s in steps]
    assert [order.index(w) for w in seen] == sorted(order.index(w) for w in seen), seen
    assert "reserved" in seen and "extended" in seen, seen
    assert all(not s["active"] and s["silence"] > 2 for s in steps), steps[-1]
    assert steps[-1]["wal_status"] in ("unreserved", "lost"), steps[-1]


def test_the_alert_is_raised_before_the_slot_is_invalidated(retention):
    r = retention["raised_while_usable"]
    assert r is not None, [s["kinds"] for s in retention["steps"]]
    assert r["wal_status"] in ("reserved", "extended"), r
    assert 0 < r["safe"] < 0.2 * KEEP_MB * MB, r
    assert any("more and it is invalidated" in m for m in r["messages"]), r["messages"]
    # raised once, not at every check
    kinds = [a[0] for a in retention["alerts"]]
    assert kinds.count("slot_retention") == 1, kinds
    assert kinds.count("forwarder_silent") == 1, kinds
    assert kinds.index("slot_retention") < kinds.index("slot_lost"), kinds
    if "unreserved" in [s["wal_status"] for s in retention["steps"]]:
        assert (
            kinds.index("slot_retention")
            < kinds.index("slot_unreserved")
            < kinds.index("slot_lost")
        ), kinds


def test_the_alert_reaches_every_channel(retention):
    alerts = retention["alerts"]
    assert all(
        slot == TRIPS_SLOT and mon == f"forwarder:{TRIPS_SLOT}" and no_report
        for _, slot, mon, no_report, _ in alerts
    ), alerts
    notified = [(n["kind"], n["slot"]) for n in retention["notifies"]]
    assert notified == [(a[0], TRIPS_SLOT) for a in alerts], notified
    assert any(
        "slot_retention" in w or "more and it is invalidated" in w for w in retention["warnings"]
    ), retention["warnings"]


def test_the_lost_slot_shows_and_alerts(retention):
    lost = retention["lost_lag"]
    assert lost["wal_status"] == "lost", lost
    assert lost["retained"] is None and lost["safe"] is None, lost
    if server_major() >= 17:  # why, and since when nobody uses it
        assert lost["reason"] == "wal_removed" and lost["inactive"], lost
        assert all(st["inactive"] for st in retention["steps"]), retention["steps"][0]
    else:
        assert lost["reason"] is None and not lost["inactive"], lost
    lost_kinds = {k: a for k, a, _ in retention["lost_check"]}
    assert lost_kinds.get("slot_lost") is not None, retention["lost_check"]
    assert "forwarder_silent" in lost_kinds, retention["lost_check"]
    # the same state checked again: reported, not raised again
    assert all(a is None for _, a, _ in retention["again_check"]), retention["again_check"]


def test_the_restarted_forwarder_reports_the_invalidated_slot(retention):
    err = retention["restart_error"]
    why = "invalidation_reason wal_removed" if server_major() >= 17 else "wal_status lost"
    assert f"was invalidated ({why})" in err, err
    for words in (
        "invalidated",
        "WAL it needed was removed",
        "max_slot_wal_keep_size",
        "TD_SLOT_RESYNC=1",
        "docs/operations.md",
    ):
        assert words in err, err
    assert retention["running_after_restart"]
    # not recreated, not dropped: still the lost slot
    assert retention["slots_after_restart"] == [(TRIPS_SLOT, "lost")], retention[
        "slots_after_restart"
    ]
    assert retention["after_restart"]["silence"] < 10, retention["after_restart"]  # it reports
    assert retention["missing_4"] == [4], "a trip behind an invalidated slot cannot be sent"


def test_the_resynchronisation_procedure(retention):
    assert "TD_SLOT_RESYNC=1" in retention["gap_error"], retention["gap_error"]
    assert not retention["slot_recreated_without_resync"]
    assert retention["missing_after_resync"] == []
    assert retention["resynced_lag"]["wal_status"] == "reserved", retention["resynced_lag"]


def test_an_ordinary_role_cannot_run_the_check_or_forge_alerts(retention):
    cluster, nobody = retention["cluster"], retention["nobody"]
    attempts = [
        "SELECT * FROM taxi_duration.check_forwarder_slots()",
        "SELECT * FROM taxi_duration.forwarder_slots_check(NULL, NULL, NULL, 0.2, '0')",
        "SELECT taxi_duration.raise_slot_alert('x', 'slot_lost', 'forged', '{}')",
        "INSERT INTO taxi_duration.monitor_alerts (monitor, window_start, kind, message, details, slot)"
        " VALUES ('forwarder:x', now(), 'slot_lost', 'forged', '{}', 'x')",
        "SELECT * FROM taxi_duration.monitor_alerts",
    ]
    with cluster.connect(user=nobody) as c:
        for sql in attempts:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql)
        # what the view shows stays public
        assert c.execute("SELECT count(*) FROM taxi_duration.forwarder_lag").fetchone()[0] == 1
    # an admin member cannot write the alerts table directly either
    with cluster.connect(user=retention["watcher"]) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("DELETE FROM taxi_duration.monitor_alerts")


def test_the_check_refuses_bad_thresholds(retention):
    cluster, watcher = retention["cluster"], retention["watcher"]
    bad = [
        "max_retained_bytes => 0",
        "max_silence => '-1 minute'",
        "min_safe_fraction => 1.5",
        "min_safe_fraction => NULL",
        "repeat_after => NULL",
    ]
    with cluster.connect(user=watcher) as c:
        for args in bad:
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                c.execute(f"SELECT * FROM taxi_duration.check_forwarder_slots({args})")
