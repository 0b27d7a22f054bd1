"""End-to-end tests of forwarder/td-forwarder against real moto and PostgreSQL.

    bash tests/forwarder/run.sh                          (builds the forwarder, runs this module)
    python3 -m pytest -q tests/forwarder                 (after make -C forwarder)
    python3 -m pytest -q tests/forwarder -k restart      (a subset: see "Phases" below)

Starts moto (signature checking on, Kinesis stream with 2 shards), a throwaway cluster with the
taxi_duration output plugin, a trips table, and the forwarder; then inserts real February 2021
trips and checks that every ride id reaches the stream despite: a kill -9 of the forwarder, a
PostgreSQL restart, Kinesis frozen for 30 s, a fault-injecting proxy (per-record and whole-call
throttling), records Kinesis cannot accept (dead-lettered), and a SIGTERM while a PutRecords
hangs on a frozen Kinesis (the forwarder must exit promptly, confirm nothing unsent, and lose
nothing once restarted), a role whose search_path lets a public.now() shadow pg_catalog's (the
forwarder must not call it), and a Kinesis error code that carries a forged log line (it must be
logged escaped).  Duplicates are expected and counted (in the "measurements" summary), losses
are failures.

Phases.  The nine phases run in order against one forwarder, one stream and one cluster, each
starting from the state the previous one left.  Each phase is a module-scoped fixture
(``phase1`` ... ``phase9``) that performs the phase's actions once and records what it
observed; the tests named ``test_<phase>_...`` assert on those observations.  Each phase fixture
requests the previous one, so selecting a subset (``-k restart``, ``-k 7``) still runs the
earlier phases' actions first (their assertions are not run): a subset takes about as long as
the phases up to the last one selected.  If a phase's actions fail (an exception, not an
assertion), that phase's tests and every later phase's tests error with that exception.

Needs: TAXI_DATA_DIR (2021-02), the forwarder built (TD_FORWARDER_BIN, else
forwarder/td-forwarder), moto (tests/requirements-servers.txt), PostgreSQL binaries
(TD_PG_BINDIR or pg_config) with the extension installed.  The cluster's port:
TD_FWD_TEST_PGPORT (default 54481; it listens on a private Unix socket only).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from forwarding import ForwarderProcess as Forwarder, Reader
from td_cluster import as_pg

pytestmark = [pytest.mark.e2e, pytest.mark.servers, pytest.mark.cluster]

HERE = Path(__file__).resolve().parent
STREAM = "stg_taxi_trip_events"
SLOT = "taxi_trips_kinesis"
BIG = 2**53 + 1
COLUMNS = (
    "pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,lpep_pickup_datetime,note"
)
RIDE_KEYS = {"PULocationID", "DOLocationID", "trip_distance", "lpep_pickup_datetime"}
PORT = int(os.environ.get("TD_FWD_TEST_PGPORT", "54481"))  # the cluster's (Unix socket only)
CLUSTER_CONF = [
    "wal_level = logical",
    "max_replication_slots = 4",
    "max_wal_senders = 4",
    "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'",
]


# -- helpers ----------------------------------------------------------------------------------


def insert(dsn, df, start, count, ntx):
    """COPY rows [start, start+count) of df in ntx transactions; returns the ride ids."""
    ids = list(range(start, start + count))
    per = (count + ntx - 1) // ntx
    with psycopg.connect(dsn) as conn:
        for t in range(ntx):
            first, n = start + t * per, max(0, min(per, count - t * per))
            part = df.iloc[[(first + k) % len(df) for k in range(n)]]  # wraps around df
            if len(part) == 0:
                break
            buf = io.StringIO()
            for k, (_, row) in enumerate(part.iterrows()):
                rid = start + t * per + k
                buf.write(
                    f"{rid},{int(row.PULocationID)},{int(row.DOLocationID)},"
                    f"{row.trip_distance!r},{row.lpep_pickup_datetime}\n"
                )
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY trips (ride_id, pulocationid, dolocationid, trip_distance,"
                    " lpep_pickup_datetime) FROM STDIN WITH (FORMAT csv)"
                ) as cp:
                    cp.write(buf.getvalue())
            conn.commit()
    return ids


def accept_backlog(port):
    """Connections waiting in the accept queue of the TCP listener on `port` (Linux)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return int(fields[4].split(":")[1], 16)
    return 0


def q(dsn, sql, *args):
    with psycopg.connect(dsn, autocommit=True) as c:
        return c.execute(sql, args).fetchall()


def ex(dsn, sql):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(sql)


def confirmed_lsn(dsn):
    return int(
        q(
            dsn,
            "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots"
            " WHERE slot_name = %s",
            SLOT,
        )[0][0]
    )


def wait_idle(dsn, timeout=30):
    """True once the forwarder polls an empty slot: nothing pending, the last LSN it sent
    unchanged for a second while the status row keeps being upserted.  (The slot itself keeps
    moving while idle: past the WAL of the status upserts, which carry no trip event.)"""
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        pending, fresh, lsn = q(
            dsn,
            "SELECT f.records_pending, f.updated_at > pg_catalog.now() - interval '0.5 s',"
            " f.last_sent_lsn::text FROM taxi_duration.forwarder_status f"
            " JOIN pg_replication_slots s ON s.slot_name = f.slot",
        )[0]
        if pending != 0 or not fresh or lsn != last:
            last, since = lsn, time.time()
        elif time.time() - since >= 1.0:
            return True
        time.sleep(0.1)
    return False


def settle(reader, port, timeout=20):
    """Wait until resumed moto has served the requests queued while it was frozen.

    moto numbers a shard's records without a lock, so two PutRecords it serves at once can
    overwrite each other's records; the cancelled call's request is still queued in its accept
    backlog and must be done before the restarted forwarder sends again."""
    deadline = time.time() + timeout
    last, stable_since = -1, time.time()
    while time.time() < deadline:
        reader.poll()
        total = sum(reader.counts.values())
        if total != last or accept_backlog(port) > 0:
            last, stable_since = total, time.time()
        elif time.time() - stable_since >= 1.0:
            return
        time.sleep(0.2)


# -- the shared state: servers, cluster, forwarder, stream reader -------------------------------


@dataclass
class Stack:
    """Everything the phases share; `base` is the next unused ride id."""

    servers: object
    cluster: object
    dsn: str
    df: object
    reader: Reader
    fwd: Forwarder
    workdir: Path
    note: object
    base: int = 0
    proxies: list = field(default_factory=list)

    def start_proxy(self, name, *args):
        """tests/forwarder/fault_proxy.py in front of moto; (process, port, stats file)."""
        port_file = self.workdir / f"{name}.port"
        stats_file = self.workdir / f"{name}.json"
        for f in (port_file, stats_file):
            f.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "fault_proxy.py"),
                "--upstream",
                self.servers.env["AWS_ENDPOINT_URL"],
                "--port-file",
                str(port_file),
                "--stats-file",
                str(stats_file),
            ]
            + list(args)
        )
        self.proxies.append(proc)
        while not port_file.exists():
            assert proc.poll() is None, f"fault proxy {name} exited with status {proc.returncode}"
            time.sleep(0.05)
        return proc, port_file.read_text(), stats_file


@pytest.fixture(scope="module")
def stack(moto, aws_client, make_module_cluster, forwarder_bin, trips_2021_02, workdir, note):
    kin = aws_client("kinesis")
    kin.create_stream(StreamName=STREAM, ShardCount=2)
    cluster = make_module_cluster(CLUSTER_CONF, port=PORT)
    dsn = cluster.dsn()
    ex(
        dsn,
        "CREATE TABLE trips (ride_id bigint, pulocationid int, dolocationid int,"
        " trip_distance float8, lpep_pickup_datetime timestamp, note text)",
    )
    env = moto.env
    fenv = dict(
        os.environ,
        TD_FORWARDER_DSN=dsn,
        TD_TRIPS_STREAM=STREAM,
        TD_COLUMNS=COLUMNS,
        TD_KINESIS_TIMEOUT_MS="4000",
        TD_BACKOFF_MAX_MS="2000",
        TD_POLL_MS="100",
        AWS_ENDPOINT_URL=env["AWS_ENDPOINT_URL"],
        AWS_REGION=env["AWS_REGION"],
        AWS_ACCESS_KEY_ID=env["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=env["AWS_SECRET_ACCESS_KEY"],
    )
    fenv.pop("AWS_ENDPOINT_URL_S3", None)
    log = workdir / "forwarder.log"
    log.unlink(missing_ok=True)
    st = Stack(
        servers=moto,
        cluster=cluster,
        dsn=dsn,
        df=trips_2021_02,
        reader=Reader(kin, STREAM),
        fwd=Forwarder(forwarder_bin, fenv, log),
        workdir=workdir,
        note=note,
    )
    note(f"forwarder: {len(st.df)} real trips of 2021-02 loaded; forwarder log {log}")
    yield st
    st.fwd.stop()
    for p in st.proxies:
        p.terminate()
        p.wait()
    total = sum(st.reader.counts.values())
    note(
        f"forwarder: stream holds {total} records for {len(st.reader.counts)} ride ids "
        f"({total - len(st.reader.counts)} duplicates overall)"
    )


# -- (1) 12,000 trips in 6 transactions, inserted before the forwarder starts ---------------------


@pytest.fixture(scope="module")
def phase1(stack):
    """The slot is created first so that the trips are decoded; then the forwarder starts."""
    s = stack
    q(s.dsn, "SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", SLOT)
    ids = insert(s.dsn, s.df, s.base, 12000, 6)
    s.base += 12000
    t0 = time.time()
    s.fwd.start()
    missing = s.reader.wait_for(ids, 60)
    el = time.time() - t0
    s.note(
        f"forwarder 1: throughput into moto: {len(ids) / el:.0f} records/s "
        f"({len(ids)} records in {el:.1f} s, incl. forwarder start)"
    )
    docs = s.reader.docs
    bad = (
        [
            i
            for i in ids
            if not (
                isinstance(docs[i][0].get("ride"), dict)
                and RIDE_KEYS <= set(docs[i][0]["ride"])
                and docs[i][0]["ride_id"] == i
                and docs[i][1] == str(i)
                and "xid" in docs[i][0]
            )
        ]
        if not missing
        else ids
    )
    time.sleep(0.5)
    return SimpleNamespace(
        ids=ids,
        missing=missing,
        bad=bad,
        example=docs.get(ids[0]),
        confirmed=confirmed_lsn(s.dsn),
        max_commit=s.reader.max_commit,
        dups=s.reader.dups(ids),
    )


def test_1_every_ride_id_reaches_the_stream(phase1):
    assert not phase1.missing, f"{len(phase1.missing)} of 12000 ride ids missing from the stream"


def test_1_records_have_the_design_shape_partition_key_is_ride_id(phase1):
    assert not phase1.bad, (
        f"{len(phase1.bad)} records without the DESIGN shape "
        f"({'ride ids missing' if phase1.missing else 'wrong shape'}), e.g. {phase1.example}"
    )


def test_1_slot_confirmed_flush_lsn_passed_the_last_commit(phase1):
    assert phase1.confirmed >= phase1.max_commit, (
        f"confirmed_flush_lsn {phase1.confirmed} < last commit in the stream {phase1.max_commit}"
    )


def test_1_no_duplicates_without_faults(phase1):
    assert phase1.dups == 0, f"{phase1.dups} duplicates"


# -- (2) kill -9 mid-stream, restart ------------------------------------------------------------


@pytest.fixture(scope="module")
def phase2(phase1, stack):
    s = stack
    # enough that the forwarder (several calls in flight) is still sending when it is killed
    ids = insert(s.dsn, s.df, s.base, 48000, 16)
    s.base += 48000
    while sum(1 for i in ids if s.reader.counts[i]) < 1500:
        s.reader.poll()
        time.sleep(0.05)
    seen = sum(1 for i in ids if s.reader.counts[i])
    s.fwd.kill9()
    s.note(f"forwarder 2: killed the forwarder (-9) with {seen}/{len(ids)} in the stream")
    s.fwd.start()
    missing = s.reader.wait_for(ids, 60)
    s.note(f"forwarder 2: duplicates after kill -9: {s.reader.dups(ids)}")
    return SimpleNamespace(missing=missing)


def test_2_kill9_and_restart_lose_nothing(phase2):
    assert not phase2.missing, f"{len(phase2.missing)} ride ids lost after kill -9 + restart"


# -- (3) PostgreSQL restart while the forwarder runs -----------------------------------------


@pytest.fixture(scope="module")
def phase3(phase2, stack):
    s = stack
    ids = insert(s.dsn, s.df, s.base, 10000, 4)
    s.base += 10000
    c = s.cluster
    as_pg(
        [
            str(c.bindir / "pg_ctl"),
            "-D",
            str(c.data),
            "-m",
            "fast",
            "-w",
            "restart",
            "-l",
            str(c.log),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    missing = s.reader.wait_for(ids, 60)
    running = s.fwd.proc.poll() is None
    s.note(f"forwarder 3: duplicates after the PostgreSQL restart: {s.reader.dups(ids)}")
    return SimpleNamespace(missing=missing, running=running, rc=s.fwd.proc.returncode)


def test_3_postgresql_restart_loses_nothing(phase3):
    assert not phase3.missing, f"{len(phase3.missing)} ride ids lost across a PostgreSQL restart"


def test_3_forwarder_survives_the_postgresql_restart(phase3):
    assert phase3.running, f"the forwarder exited (status {phase3.rc}) on the PostgreSQL restart"


# -- (4) Kinesis frozen for 30 s ------------------------------------------------------------------


@pytest.fixture(scope="module")
def phase4(phase3, stack):
    s = stack
    s.servers.pause_moto()
    try:
        ids = insert(s.dsn, s.df, s.base, 3000, 3)
        s.base += 3000
        time.sleep(12)
        lag = q(
            s.dsn,
            "SELECT last_error, last_error_at > now() - interval '12 s',"
            " records_pending, retained_wal_bytes FROM taxi_duration.forwarder_lag",
        )
        time.sleep(18)
        # moto serves the requests queued while it was frozen all at once, and its records can
        # overwrite each other when two of them race a live one (settle()): the forwarder
        # waits, stopped, until moto has drained them, then goes on with its own retries.
        s.fwd.proc.send_signal(signal.SIGSTOP)
    finally:
        s.servers.resume_moto()
    try:
        settle(s.reader, s.servers.moto_port)
    finally:
        s.fwd.proc.send_signal(signal.SIGCONT)
    missing = s.reader.wait_for(ids, 60)
    s.note(f"forwarder 4: duplicates after the outage: {s.reader.dups(ids)}")
    return SimpleNamespace(lag=lag, missing=missing)


def test_4_forwarder_lag_last_error_shows_the_outage(phase4):
    lag = phase4.lag
    assert lag and lag[0][0] and "kinesis" in lag[0][0] and lag[0][1], (
        f"forwarder_lag (last_error, recent, pending, retained) during the outage: {lag}"
    )


def test_4_kinesis_outage_loses_nothing_after_resume(phase4):
    assert not phase4.missing, f"{len(phase4.missing)} ride ids lost after the Kinesis outage"


# -- (5) fault-injecting proxy (stays in front of Kinesis for phase 6) --------------------------


@pytest.fixture(scope="module")
def phase5(phase4, stack):
    s = stack
    before = q(s.dsn, "SELECT records_retried FROM taxi_duration.forwarder_status")[0][0]
    _, pport, stats_file = s.start_proxy("proxy", "--fail-rate", "0.2", "--reject-rate", "0.15")
    stop_rc = s.fwd.stop()
    s.fwd.start(
        AWS_ENDPOINT_URL_KINESIS=f"http://127.0.0.1:{pport}",
        TD_BACKOFF_BASE_MS="20",
        TD_BACKOFF_MAX_MS="200",
    )
    ids = insert(s.dsn, s.df, s.base, 10000, 5)
    s.base += 10000
    missing = s.reader.wait_for(ids, 90)
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    after = q(s.dsn, "SELECT records_retried FROM taxi_duration.forwarder_status")[0][0]
    s.note(
        f"forwarder 5: proxy {stats}; forwarder records_retried +{after - before}; "
        f"duplicates in the stream: {s.reader.dups(ids)}"
    )
    return SimpleNamespace(stop_rc=stop_rc, missing=missing, stats=stats, retried=after - before)


def test_5_forwarder_exits_0_on_sigterm(phase5):
    assert phase5.stop_rc == 0, f"exit status {phase5.stop_rc} on SIGTERM (None: did not exit)"


def test_5_injected_faults_lose_nothing(phase5):
    assert not phase5.missing, f"{len(phase5.missing)} ride ids lost under injected faults"


def test_5_faults_were_injected_and_retried(phase5):
    stats = phase5.stats
    assert (
        stats.get("failed_entries", 0) > 0
        and stats.get("rejected_calls", 0) > 0
        and phase5.retried >= stats.get("failed_entries", 0)
    ), f"proxy stats {stats}, forwarder records_retried +{phase5.retried}"


# -- (6) records Kinesis can never accept: dead letters, the stream keeps flowing ---------------


@pytest.fixture(scope="module")
def phase6(phase5, stack):
    s = stack
    base = s.base
    with psycopg.connect(s.dsn) as c:
        c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (base,))
        c.execute(
            "INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', repeat('x', 1100000))",
            (base + 1,),
        )
        c.execute("INSERT INTO trips VALUES (NULL, 1, 2, 3.0, '2021-02-01', NULL)")
        c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (base + 2,))
        c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (BIG,))
        c.commit()
    ids = insert(s.dsn, s.df, base + 3, 2000, 2)
    s.base = base + 3 + 2000
    missing = s.reader.wait_for([base, base + 2, BIG] + ids, 60)
    dead = q(s.dsn, "SELECT ride_id, reason FROM taxi_duration.forwarder_dead_letters ORDER BY id")
    lag = q(
        s.dsn,
        "SELECT records_sent, records_retried, records_dead, records_pending,"
        " retained_wal, last_error_at IS NOT NULL FROM taxi_duration.forwarder_lag",
    )
    s.note(
        f"forwarder 6: forwarder_lag: sent, retried, dead, pending, retained WAL, had error = {lag}"
    )
    return SimpleNamespace(
        base=base,
        missing=missing,
        dead=dead,
        oversized_in_stream=s.reader.counts[base + 1],
        big=s.reader.docs.get(BIG),
        lag=lag,
    )


def test_6_the_stream_keeps_flowing_past_unacceptable_records(phase6):
    assert not phase6.missing, f"{len(phase6.missing)} ride ids missing after the bad records"


def test_6_the_oversized_record_is_dead_lettered(phase6):
    assert any(r[0] == str(phase6.base + 1) and "too large" in r[1] for r in phase6.dead), str(
        phase6.dead
    )[:300]


def test_6_the_record_without_ride_id_is_dead_lettered(phase6):
    assert any(r[0] is None and "partition key" in r[1] for r in phase6.dead), str(phase6.dead)[
        :300
    ]


def test_6_the_oversized_record_is_not_in_the_stream(phase6):
    assert phase6.oversized_in_stream == 0, f"found {phase6.oversized_in_stream} times"


def test_6_a_bigint_ride_id_above_2_53_is_the_exact_partition_key(phase6):
    assert (phase6.big or (None, ""))[1] == str(BIG), f"record for {BIG}: {phase6.big}"


def test_6_forwarder_lag_counts_the_dead_letters(phase6):
    assert phase6.lag and phase6.lag[0][2] >= 2, f"forwarder_lag: {phase6.lag}"


# -- (7) SIGTERM while a PutRecords waits on a frozen Kinesis (60 s timeout) --------------------


@pytest.fixture(scope="module")
def phase7(phase6, stack):
    s = stack
    r = SimpleNamespace()
    r.stop_rc = s.fwd.stop()
    s.fwd.start(TD_KINESIS_TIMEOUT_MS="60000")
    r.idle = wait_idle(s.dsn)
    r.before = confirmed_lsn(s.dsn)
    s.servers.pause_moto()
    try:
        ids = insert(s.dsn, s.df, s.base, 2000, 2)
        s.base += len(ids)
        # in flight: the status row counts the batch as pending (upserted right before the first
        # PutRecords) and the forwarder's connection waits in frozen moto's accept queue (the
        # request is sent; no answer can come)
        deadline = time.time() + 30
        r.pending = r.backlog = 0
        while time.time() < deadline and not (r.pending > 0 and r.backlog > 0):
            r.pending = q(s.dsn, "SELECT records_pending FROM taxi_duration.forwarder_status")[0][0]
            r.backlog = accept_backlog(s.servers.moto_port)
            time.sleep(0.1)
        time.sleep(1.5)  # well inside the call (60 s timeout)
        t0 = time.time()
        s.fwd.proc.send_signal(signal.SIGTERM)
        try:
            r.rc = s.fwd.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            r.rc = None
            s.fwd.proc.kill()
            s.fwd.proc.wait()
        r.took = time.time() - t0
        s.note(
            f"forwarder 7: SIGTERM during a hung PutRecords: exit status {r.rc} after {r.took:.1f} s"
        )
        r.after = confirmed_lsn(s.dsn)
    finally:
        s.servers.resume_moto()
    settle(s.reader, s.servers.moto_port)
    s.fwd.start()
    r.missing = s.reader.wait_for(ids, 60)
    # the first commit of the batch that was in flight when Kinesis froze
    lsns = [s.reader.docs[i][0]["commit_lsn"] for i in ids if i in s.reader.docs]
    r.first_commit = min(
        ((int(hi, 16) << 32) | int(lo, 16) for hi, lo in (x.split("/") for x in lsns)), default=0
    )
    s.note(f"forwarder 7: duplicates after the SIGTERM: {s.reader.dups(ids)}")
    return r


def test_7_forwarder_exits_0_on_sigterm(phase7):
    assert phase7.stop_rc == 0, f"exit status {phase7.stop_rc} on SIGTERM (None: did not exit)"


def test_7_restarted_forwarder_is_idle_everything_before_confirmed(phase7):
    assert phase7.idle, "the restarted forwarder did not become idle within 30 s"


def test_7_a_putrecords_is_in_flight_to_the_frozen_kinesis(phase7):
    assert phase7.pending > 0 and phase7.backlog > 0, (
        f"records_pending {phase7.pending}, moto accept backlog {phase7.backlog}"
    )


def test_7_exits_within_10_s_of_sigterm_during_a_hung_putrecords(phase7):
    # a functional bound (the call's timeout is 60 s), not a benchmark
    assert phase7.rc is not None and phase7.took < 10, (
        f"exit status {phase7.rc} after {phase7.took:.1f} s"
    )


def test_7_exit_status_0_documented_for_sigterm(phase7):
    assert phase7.rc == 0, f"exit status {phase7.rc}"


def test_7_slot_not_advanced_past_anything_unconfirmed(phase7):
    # before the batch the slot may move past event-less WAL (status upserts), never to the
    # batch's first commit while Kinesis was frozen
    assert phase7.before <= phase7.after < phase7.first_commit, (
        f"confirmed_flush_lsn moved {phase7.before} -> {phase7.after} while Kinesis was frozen"
        f" (first commit of the batch in flight: {phase7.first_commit})"
    )


def test_7_restarted_against_kinesis_loses_nothing(phase7):
    assert not phase7.missing, f"{len(phase7.missing)} ride ids lost after the SIGTERM + restart"


# -- (8) a hostile search_path ----------------------------------------------------------------


@pytest.fixture(scope="module")
def phase8(phase7, stack):
    """The forwarder's role has search_path = public, pg_catalog and public holds a now() that
    records who calls it: the forwarder pins its sessions' search_path to '' and qualifies what
    it calls, so nothing it runs may call public.now()."""
    s = stack
    r = SimpleNamespace()
    ex(s.dsn, "CREATE TABLE public.hijacked (pid int)")
    ex(
        s.dsn,
        "CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO public.hijacked VALUES (pg_catalog.pg_backend_pid());"
        " RETURN pg_catalog.now(); END $$",
    )
    ex(s.dsn, "ALTER ROLE postgres SET search_path = public, pg_catalog")
    try:
        r.stop_rc = s.fwd.stop()
        s.fwd.start()  # its new sessions get the role's search_path
        ids = insert(s.dsn, s.df, s.base, 500, 1)
        s.base += len(ids)
        r.missing = s.reader.wait_for(ids, 60)
        r.idle = wait_idle(s.dsn)
        r.calls = q(s.dsn, "SELECT count(*) FROM public.hijacked")[0][0]
    finally:
        ex(s.dsn, "ALTER ROLE postgres RESET search_path")
        ex(s.dsn, "DROP FUNCTION public.now()")
        ex(s.dsn, "DROP TABLE public.hijacked")
    return r


def test_8_forwarder_exits_0_on_sigterm(phase8):
    assert phase8.stop_rc == 0, f"exit status {phase8.stop_rc} on SIGTERM (None: did not exit)"


def test_8_trips_flow_under_a_hostile_search_path(phase8):
    assert not phase8.missing, f"{len(phase8.missing)} ride ids missing"


def test_8_the_forwarder_is_idle_again(phase8):
    assert phase8.idle, "the forwarder did not become idle within 30 s"


def test_8_nothing_the_forwarder_ran_called_public_now(phase8):
    assert phase8.calls == 0, f"public.now() was called {phase8.calls} times"


# -- (9) a Kinesis error code carrying a forged log line ----------------------------------------


@pytest.fixture(scope="module")
def phase9(phase8, stack):
    """Kinesis answers a per-record error code holding a newline and a forged log line (the
    fault proxy: moto never does): the record is dead-lettered and the forwarder's log shows the
    code escaped, never a line starting with the forged text."""
    s = stack
    r = SimpleNamespace()
    r.stop_rc = s.fwd.stop()
    forged = "InvalidArgumentException\nERROR forged by the endpoint"
    proxy, pport, _ = s.start_proxy(
        "hostile", "--fail-rate", "1", "--reject-rate", "0", "--error-code", forged
    )
    start = os.path.getsize(s.fwd.logpath)
    try:
        s.fwd.start(AWS_ENDPOINT_URL_KINESIS=f"http://127.0.0.1:{pport}")
        ids = insert(s.dsn, s.df, s.base, 3, 1)
        s.base += len(ids)
        r.ids = ids
        deadline = time.time() + 30
        r.dead = []
        while time.time() < deadline and len(r.dead) < len(ids):
            r.dead = q(
                s.dsn,
                "SELECT ride_id FROM taxi_duration.forwarder_dead_letters"
                " WHERE ride_id = ANY(%s) AND reason LIKE %s",
                [str(i) for i in ids],
                "%ERROR forged%",
            )
            time.sleep(0.2)
        time.sleep(0.5)
        with open(s.fwd.logpath, errors="replace") as f:
            f.seek(start)
            r.text = f.read()
    finally:
        s.fwd.stop()
        proxy.terminate()
        proxy.wait()
    s.fwd.start()
    return r


def test_9_forwarder_exits_0_on_sigterm(phase9):
    assert phase9.stop_rc == 0, f"exit status {phase9.stop_rc} on SIGTERM (None: did not exit)"


def test_9_records_with_the_hostile_error_code_are_dead_lettered(phase9):
    assert len(phase9.dead) == len(phase9.ids), f"dead letters {phase9.dead} for {phase9.ids}"


def test_9_no_log_line_starts_with_the_forged_text(phase9):
    bad = [ln for ln in phase9.text.splitlines() if ln.startswith("ERROR forged")]
    assert not bad, f"forged log lines: {bad[:3]}"


def test_9_the_error_code_is_logged_escaped(phase9):
    assert "InvalidArgumentException\\nERROR forged by the endpoint" in phase9.text, str(
        [ln for ln in phase9.text.splitlines() if "dead-lettered" in ln][:2]
    )
