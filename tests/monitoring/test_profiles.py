"""tests/monitoring/test_profiles.py — a report against a stored reference profile is
the report of a rescan of the reference, to the bit (issue 17, item 3).

Real green-taxi months (loaded by ``bash tests/monitoring/run.sh profiles``) with the
column kinds a report meets: integer location ids (categorical in small windows,
numerical in large ones), a double precision distance and duration, a text column
with NULLs, a boolean, a prediction and the target (regression metrics).  Each case
compares ``drift_report(reference => 'profile:NAME')::text`` with
``drift_report(reference => <the set>)::text``: the same jsonb text, every score,
count and regression metric included.

Serial and parallel plans alike: the drift columns are exact value maps and the
regression metrics come from exact, order-independent sums (lib/stats/tds_xsum.c), so
the profile's report equals a parallel rescan's to the bit too.
Environment: TD_PROFILES_DSN.
"""

import json
import os

import psycopg
import pytest

DSN = os.environ.get("TD_PROFILES_DSN")
pytestmark = pytest.mark.skipif(
    not DSN, reason="TD_PROFILES_DSN is not set (tests/monitoring/run.sh profiles)"
)

# The windows: reference month, current month or a query on it.
MONTHS = [("2023_01", "2023_02"), ("2021_01", "2021_02")]
SMALL_WINDOW = (
    "SELECT * FROM td_prof_2023_02 WHERE lpep_pickup_datetime >= '2023-02-09 06:00' "
    "AND lpep_pickup_datetime < '2023-02-09 12:00'"
)


def _prepare(cur, month: str) -> None:
    """td_prof_<month>: the real trips plus a text, a boolean and a prediction column."""
    cur.execute(f"DROP TABLE IF EXISTS td_prof_{month}")
    cur.execute(
        f"""CREATE TABLE td_prof_{month} AS
            SELECT lpep_pickup_datetime, pulocationid, dolocationid, trip_distance, duration,
                   CASE WHEN pulocationid % 5 = 0 THEN NULL ELSE 'zone-' || (pulocationid % 7) END AS zone,
                   (dolocationid % 2 = 0) AS even_dropoff,
                   round((4 + 3.2 * trip_distance)::numeric, 1)::double precision AS prediction
            FROM trips_{month}"""
    )


@pytest.fixture(scope="module")
def conn():
    with psycopg.connect(DSN, autocommit=True) as c:
        with c.cursor() as cur:
            for ref, cur_month in MONTHS:
                _prepare(cur, ref)
                _prepare(cur, cur_month)
        yield c


def _report(cur, reference: str, current: str, **kw) -> str:
    cur.execute(
        "SELECT taxi_duration.drift_report(%s, %s, %s, %s, %s, %s)::text",
        (
            reference,
            current,
            kw.get("columns"),
            kw.get("prediction"),
            kw.get("target"),
            json.dumps(kw.get("options", {})),
        ),
    )
    return cur.fetchone()[0]


def _serial(cur) -> None:
    cur.execute("SET max_parallel_workers_per_gather = 0")


def _parallel(cur) -> None:
    for setting in (
        "max_parallel_workers_per_gather = 2",
        "parallel_setup_cost = 0",
        "parallel_tuple_cost = 0",
        "min_parallel_table_scan_size = 0",
    ):
        cur.execute(f"SET {setting}")


def _profile(cur, name: str, reference: str, **kw) -> None:
    cur.execute("SELECT taxi_duration.drop_reference_profile(%s)", (name,))
    cur.execute(
        "SELECT taxi_duration.create_reference_profile(%s, %s, %s, %s, %s)",
        (name, reference, kw.get("columns"), kw.get("prediction"), kw.get("target")),
    )


CASES = [
    ("defaults", {}),
    ("histograms", {"options": {"histograms": True}}),
    (
        "forced tests",
        {
            "options": {
                "stattest": "psi",
                "columns": {
                    "trip_distance": {"stattest": "ks"},
                    "pulocationid": {"type": "num"},
                    "zone": {"stattest": "chisquare"},
                },
            }
        },
    ),
    ("some columns", {"columns": ["zone", "pulocationid", "even_dropoff"]}),
]


@pytest.mark.parametrize("months", MONTHS, ids=[f"{r}-vs-{c}" for r, c in MONTHS])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_profile_report_is_the_rescan_report(conn, months, name, kw):
    ref, cur_month = months
    reg = {"prediction": "prediction", "target": "duration"}
    with conn.cursor() as cur:
        _serial(cur)
        profile_cols = kw.get("columns")
        _profile(cur, "td_prof", f"td_prof_{ref}", columns=profile_cols, **reg)
        for current in (
            f"td_prof_{cur_month}",
            f"SELECT * FROM td_prof_{cur_month} WHERE pulocationid < 100",
        ):
            rescan = _report(cur, f"td_prof_{ref}", current, **reg, **kw)
            profiled = _report(cur, "profile:td_prof", current, **reg, **kw)
            assert profiled == rescan
            parsed = json.loads(profiled)
            assert parsed["regression"]["reference"]["rows"] > 60000
            kinds = {v["column_type"] for v in parsed["columns"].values()}
            assert "cat" in kinds


def test_small_window_and_query_reference(conn):
    """A 6-hour current window (integer ids categorical) against a profile of a query."""
    reference = "SELECT * FROM td_prof_2023_01 WHERE lpep_pickup_datetime < '2023-01-20'"
    with conn.cursor() as cur:
        _serial(cur)
        _profile(cur, "td_prof_q", reference, prediction="prediction", target="duration")
        rescan = _report(cur, reference, SMALL_WINDOW, prediction="prediction", target="duration")
        profiled = _report(
            cur, "profile:td_prof_q", SMALL_WINDOW, prediction="prediction", target="duration"
        )
        assert profiled == rescan
        columns = json.loads(profiled)["columns"]
        assert columns["pulocationid"]["column_type"] in ("cat", "num")
        assert columns["zone"]["reference_missing"] > 0


def test_parallel_report_is_the_rescan_report(conn):
    """Parallel plans (workers scanning in any order): the same report text, to the bit."""
    with conn.cursor() as cur:
        _parallel(cur)
        _profile(cur, "td_prof_par", "td_prof_2023_01", prediction="prediction", target="duration")
        cur.execute(
            "EXPLAIN SELECT taxi_duration.drift_value_map(trip_distance, false) FROM td_prof_2023_02"
        )
        assert "Gather" in "\n".join(r[0] for r in cur.fetchall())
        kw = {"prediction": "prediction", "target": "duration", "options": {"histograms": True}}
        rescan = _report(cur, "td_prof_2023_01", "td_prof_2023_02", **kw)
        profiled = _report(cur, "profile:td_prof_par", "td_prof_2023_02", **kw)
        assert profiled == rescan


# Free text written from each trip (nearly every note distinct, so Evidently's type is text).
NOTES = """SELECT lpep_pickup_datetime, trip_distance,
       'pickup zone ' || pulocationid || ' at ' || to_char(lpep_pickup_datetime, 'HH24:MI')
       || ', ' || trip_distance || ' miles to zone ' || dolocationid AS note
FROM td_prof_{month} WHERE lpep_pickup_datetime < '{until}'"""


def test_free_text_profile_is_the_rescan(conn):
    """A free-text column's text content drift (a classifier over every row's text) from a
    profile's stored texts equals the rescan's, to the bit, serial and parallel, for both tests
    (abs_ by default above 1000 reference rows, perc_ forced)."""
    reference = NOTES.format(month="2023_01", until="2023-01-04")
    current = NOTES.format(month="2023_02", until="2023-02-03")
    with conn.cursor() as cur:
        for mode in (_serial, _parallel):
            mode(cur)
            _profile(cur, "td_prof_notes", reference)
            for options in ({}, {"columns": {"note": {"stattest": "perc_text_content_drift"}}}):
                rescan = _report(cur, reference, current, options=options)
                profiled = _report(cur, "profile:td_prof_notes", current, options=options)
                assert profiled == rescan
                note = json.loads(profiled)["columns"]["note"]
                assert note["column_type"] == "text" and note["reference_rows"] > 1000
                assert note["stattest"] == options.get("columns", {}).get("note", {}).get(
                    "stattest", "abs_text_content_drift"
                )
                assert 0 <= note["score"] <= 1


def test_monitor_windows_and_refresh(conn):
    """A monitor on the profile stores the rescan monitor's reports; a stale profile is refreshed."""
    with conn.cursor() as cur:
        _serial(cur)
        cur.execute("DROP TABLE IF EXISTS td_prof_ref_copy")
        cur.execute("CREATE TABLE td_prof_ref_copy AS SELECT * FROM td_prof_2023_01")
        for m in ("td_prof_m_scan", "td_prof_m_prof"):
            cur.execute("SELECT taxi_duration.drop_monitor(%s)", (m,))
        _profile(cur, "td_prof_m", "td_prof_ref_copy", prediction="prediction", target="duration")
        common = (
            "'td_prof_2023_02', 'lpep_pickup_datetime', prediction => 'prediction', target => 'duration', "
            "start_at => '2023-02-01', options => '{\"histograms\": true}'"
        )
        cur.execute(
            f"SELECT taxi_duration.create_monitor('td_prof_m_scan', 'td_prof_ref_copy', {common}, "
            "reference_profile => false)"
        )
        cur.execute(
            f"SELECT taxi_duration.create_monitor('td_prof_m_prof', 'profile:td_prof_m', {common})"
        )
        for m in ("td_prof_m_scan", "td_prof_m_prof"):
            cur.execute("SELECT count(*) FROM taxi_duration.run_monitor(%s, '2023-02-04')", (m,))
            assert cur.fetchone()[0] == 3
        cur.execute(
            """SELECT count(*), count(*) FILTER (WHERE a.report::text = b.report::text)
               FROM taxi_duration.monitor_reports a JOIN taxi_duration.monitor_reports b USING (window_start)
               WHERE a.monitor = 'td_prof_m_scan' AND b.monitor = 'td_prof_m_prof'"""
        )
        assert cur.fetchone() == (3, 3)

        # the reference changes: the profile is stale until refreshed
        cur.execute("DELETE FROM td_prof_ref_copy WHERE pulocationid < 80")
        current = "SELECT * FROM td_prof_2023_02 WHERE lpep_pickup_datetime < '2023-02-02'"
        reg = {"prediction": "prediction", "target": "duration"}
        rescan = _report(cur, "td_prof_ref_copy", current, **reg)
        assert _report(cur, "profile:td_prof_m", current, **reg) != rescan
        cur.execute("SELECT taxi_duration.refresh_reference_profile('td_prof_m')")
        assert _report(cur, "profile:td_prof_m", current, **reg) == rescan

        with pytest.raises(psycopg.errors.DependentObjectsStillExist):
            cur.execute("SELECT taxi_duration.drop_reference_profile('td_prof_m')")
        for m in ("td_prof_m_scan", "td_prof_m_prof"):
            cur.execute("SELECT taxi_duration.drop_monitor(%s)", (m,))
        cur.execute("SELECT taxi_duration.drop_reference_profile('td_prof_m')")
        assert cur.fetchone()[0] is True


def _same_windows(cur, a: str, b: str) -> tuple:
    cur.execute(
        """SELECT count(*), count(*) FILTER (WHERE x.report::text = y.report::text)
           FROM taxi_duration.monitor_reports x JOIN taxi_duration.monitor_reports y USING (window_start)
           WHERE x.monitor = %s AND y.monitor = %s""",
        (a, b),
    )
    return cur.fetchone()


def test_default_monitor_profiles_its_reference(conn):
    """A monitor with a plain reference profiles it ('monitor:NAME') at its first window:
    its stored reports are a rescan monitor's, text for text; refresh_monitor_reference()
    picks up a changed reference; the profile is dropped with the monitor only."""
    with conn.cursor() as cur:
        _serial(cur)
        cur.execute("DROP TABLE IF EXISTS td_prof_ref_auto")
        cur.execute("CREATE TABLE td_prof_ref_auto AS SELECT * FROM td_prof_2023_01")
        for m in ("td_prof_a_scan", "td_prof_a_auto", "td_prof_a_query"):
            cur.execute("SELECT taxi_duration.drop_monitor(%s)", (m,))
        common = (
            "'td_prof_2023_02', 'lpep_pickup_datetime', prediction => 'prediction', target => 'duration', "
            "start_at => '2023-02-01', options => '{\"histograms\": true}'"
        )
        cur.execute(
            f"SELECT taxi_duration.create_monitor('td_prof_a_scan', 'td_prof_ref_auto', {common}, "
            "reference_profile => false)"
        )
        cur.execute(
            f"SELECT taxi_duration.create_monitor('td_prof_a_auto', 'td_prof_ref_auto', {common})"
        )
        query = "SELECT * FROM td_prof_ref_auto WHERE pulocationid <> 7"
        cur.execute(
            f"SELECT taxi_duration.create_monitor('td_prof_a_query', %s, {common})", (query,)
        )
        cur.execute(
            "SELECT count(*) FROM taxi_duration.reference_profiles WHERE monitor IS NOT NULL"
            " AND name LIKE 'monitor:td_prof_a_%%'"
        )
        assert cur.fetchone()[0] == 0  # made at the first window, not before
        for m in ("td_prof_a_scan", "td_prof_a_auto", "td_prof_a_query"):
            cur.execute("SELECT count(*) FROM taxi_duration.run_monitor(%s, '2023-02-03')", (m,))
            assert cur.fetchone()[0] == 2
        cur.execute(
            "SELECT name, reference_rows FROM taxi_duration.reference_profiles"
            " WHERE monitor IN ('td_prof_a_auto', 'td_prof_a_query', 'td_prof_a_scan') ORDER BY 1"
        )
        rows = cur.fetchall()
        assert [r[0] for r in rows] == ["monitor:td_prof_a_auto", "monitor:td_prof_a_query"]
        assert rows[0][1] > rows[1][1] > 60000
        assert _same_windows(cur, "td_prof_a_scan", "td_prof_a_auto") == (2, 2)

        # the query monitor equals a rescan of its query
        current = (
            "SELECT * FROM td_prof_2023_02 WHERE lpep_pickup_datetime >= '2023-02-01'"
            " AND lpep_pickup_datetime < '2023-02-02'"
        )
        reg = {"prediction": "prediction", "target": "duration", "options": {"histograms": True}}
        cur.execute(
            "SELECT report - 'rmse_degradation' FROM taxi_duration.monitor_reports"
            " WHERE monitor = 'td_prof_a_query' AND window_start = '2023-02-01'"
        )
        stored = cur.fetchone()[0]
        assert stored == json.loads(_report(cur, query, current, **reg))

        # the reference changes: stale until refresh_monitor_reference()
        cur.execute("DELETE FROM td_prof_ref_auto WHERE pulocationid < 80")
        for m in ("td_prof_a_scan", "td_prof_a_auto"):
            cur.execute("SELECT count(*) FROM taxi_duration.run_monitor(%s, '2023-02-04')", (m,))
        assert _same_windows(cur, "td_prof_a_scan", "td_prof_a_auto") == (3, 2)
        cur.execute("SELECT (taxi_duration.refresh_monitor_reference('td_prof_a_auto')).name")
        assert cur.fetchone()[0] == "monitor:td_prof_a_auto"
        for m in ("td_prof_a_scan", "td_prof_a_auto"):
            cur.execute("SELECT count(*) FROM taxi_duration.run_monitor(%s, '2023-02-05')", (m,))
        assert _same_windows(cur, "td_prof_a_scan", "td_prof_a_auto") == (4, 3)

        # the monitor's own profile: not for drop_reference_profile, reserved name
        with pytest.raises(psycopg.errors.DependentObjectsStillExist):
            cur.execute("SELECT taxi_duration.drop_reference_profile('monitor:td_prof_a_auto')")
        with pytest.raises(psycopg.errors.ReservedName):
            cur.execute(
                "SELECT taxi_duration.create_reference_profile('monitor:x', 'td_prof_2023_01')"
            )
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            cur.execute("SELECT taxi_duration.refresh_monitor_reference('td_prof_a_scan')")
        for m in ("td_prof_a_scan", "td_prof_a_auto", "td_prof_a_query"):
            cur.execute("SELECT taxi_duration.drop_monitor(%s)", (m,))
        cur.execute(
            "SELECT count(*) FROM taxi_duration.reference_profiles WHERE name LIKE 'monitor:td_prof_a_%%'"
        )
        assert cur.fetchone()[0] == 0


def test_profile_mismatches_are_errors(conn):
    with conn.cursor() as cur:
        _serial(cur)
        _profile(cur, "td_prof_nr", "td_prof_2023_01")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="no regression metrics"):
            _report(
                cur,
                "profile:td_prof_nr",
                "td_prof_2023_02",
                prediction="prediction",
                target="duration",
            )
        with pytest.raises(psycopg.errors.DatatypeMismatch, match="reference profile"):
            _report(
                cur,
                "profile:td_prof_nr",
                "SELECT pulocationid::text AS pulocationid FROM td_prof_2023_02",
            )
        with pytest.raises(psycopg.errors.UndefinedObject):
            _report(cur, "profile:td_prof_none", "td_prof_2023_02")
        with pytest.raises(psycopg.errors.DuplicateObject):
            cur.execute(
                "SELECT taxi_duration.create_reference_profile('td_prof_nr', 'td_prof_2023_01')"
            )
