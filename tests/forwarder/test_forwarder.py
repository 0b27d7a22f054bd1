#!/usr/bin/env python3
"""End-to-end tests of forwarder/td-forwarder against real moto and PostgreSQL.

    python3 tests/forwarder/test_forwarder.py WORKDIR     (run.sh does this)

Starts moto (signature checking on, Kinesis stream with 2 shards), a
throwaway cluster with the taxi_duration output plugin, a trips table, and
the forwarder; then inserts real February 2021 trips and checks that every
ride id reaches the stream despite: a kill -9 of the forwarder, a
PostgreSQL restart, Kinesis frozen for 30 s, a fault-injecting proxy
(per-record and whole-call throttling), records Kinesis cannot accept
(dead-lettered), and a SIGTERM while a PutRecords hangs on a frozen Kinesis
(the forwarder must exit promptly, confirm nothing unsent, and lose nothing
once restarted), a role whose search_path lets a public.now() shadow
pg_catalog's (the forwarder must not call it), and a Kinesis error code that
carries a forged log line (it must be logged escaped).  Duplicates are
expected and counted, losses are failures.
Ends with "N passed, M failed".

TD_FWD_TEST_PGPORT sets the throwaway cluster's port (default 54481).
"""

import collections
import io
import json
import os
import signal
import subprocess
import sys
import time
import traceback

import boto3
import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, ROOT)
from servers import Servers  # noqa: E402

STREAM = "stg_taxi_trip_events"
SLOT = "taxi_trips_kinesis"
BIG = 2**53 + 1
PORT = int(os.environ.get("TD_FWD_TEST_PGPORT", "54481"))
FWD = os.path.join(ROOT, "forwarder", "td-forwarder")
COLUMNS = (
    "pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,lpep_pickup_datetime,note"
)
RIDE_KEYS = {"PULocationID", "DOLocationID", "trip_distance", "lpep_pickup_datetime"}

results = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    log(f"{'ok  ' if cond else 'FAIL'} {name}{(': ' + detail) if detail else ''}")


def sh_cluster(cmd):
    subprocess.run(["bash", "-c", f". {ROOT}/tests/lib/cluster.sh; {cmd}"], check=True)


class Reader:
    """Reads every shard from TRIM_HORIZON on, incrementally."""

    def __init__(self, kin):
        self.kin = kin
        self.iters = {}
        self.counts = collections.Counter()
        self.docs = {}
        self.max_commit = 0
        for sh in kin.list_shards(StreamName=STREAM)["Shards"]:
            self.iters[sh["ShardId"]] = kin.get_shard_iterator(
                StreamName=STREAM, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def poll(self):
        for sid, it in list(self.iters.items()):
            while it:
                r = self.kin.get_records(ShardIterator=it, Limit=10000)
                it = r.get("NextShardIterator")
                for rec in r["Records"]:
                    doc = json.loads(rec["Data"])
                    rid = doc.get("ride_id")
                    self.counts[rid] += 1
                    self.docs.setdefault(rid, (doc, rec["PartitionKey"]))
                    hi, lo = doc["commit_lsn"].split("/")
                    self.max_commit = max(self.max_commit, (int(hi, 16) << 32) | int(lo, 16))
                if not r["Records"]:
                    break
            self.iters[sid] = it

    def wait_for(self, ids, timeout):
        deadline = time.time() + timeout
        while True:
            self.poll()
            missing = [i for i in ids if self.counts[i] == 0]
            if not missing or time.time() > deadline:
                return missing
            time.sleep(0.3)


class Forwarder:
    def __init__(self, env, logpath):
        self.env, self.logpath, self.proc = env, logpath, None

    def start(self, **extra):
        env = dict(self.env, **extra)
        self.proc = subprocess.Popen(
            [FWD], env=env, stdout=subprocess.DEVNULL, stderr=open(self.logpath, "ab")
        )

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None


def insert(dsn, df, start, count, ntx):
    """COPY rows [start, start+count) of df in ntx transactions; returns the ride ids."""
    ids = list(range(start, start + count))
    per = (count + ntx - 1) // ntx
    with psycopg.connect(dsn) as conn:
        for t in range(ntx):
            part = df.iloc[(start + t * per) % len(df) :][: min(per, count - t * per)]
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
    """True once the forwarder polls an empty slot: nothing pending, the slot's confirmed
    LSN unchanged for a second while the status row keeps being upserted."""
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        pending, fresh, lsn = q(
            dsn,
            "SELECT f.records_pending, f.updated_at > pg_catalog.now() - interval '0.5 s',"
            " s.confirmed_flush_lsn::text FROM taxi_duration.forwarder_status f"
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


def sigterm_during_hung_put(dsn, df, base, fwd, servers, reader):
    """(7) SIGTERM while a PutRecords waits on a frozen Kinesis (60 s timeout)."""
    check("7: forwarder exits 0 on SIGTERM", fwd.stop() == 0)
    fwd.start(TD_KINESIS_TIMEOUT_MS="60000")
    check("7: restarted forwarder is idle (all before confirmed)", wait_idle(dsn))
    before = confirmed_lsn(dsn)
    servers.pause_moto()
    try:
        ids = insert(dsn, df, base, 2000, 2)
        # in flight: the status row counts the batch as pending (upserted right before
        # the first PutRecords) and the forwarder's connection waits in frozen moto's
        # accept queue (the request is sent; no answer can come)
        deadline = time.time() + 30
        pending = backlog = 0
        while time.time() < deadline and not (pending > 0 and backlog > 0):
            pending = q(dsn, "SELECT records_pending FROM taxi_duration.forwarder_status")[0][0]
            backlog = accept_backlog(servers.moto_port)
            time.sleep(0.1)
        check(
            "7: a PutRecords is in flight to the frozen Kinesis",
            pending > 0 and backlog > 0,
            f"pending {pending}, accept backlog {backlog}",
        )
        time.sleep(1.5)  # well inside the call (60 s timeout)
        t0 = time.time()
        fwd.proc.send_signal(signal.SIGTERM)
        try:
            rc = fwd.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
            fwd.proc.kill()
            fwd.proc.wait()
        took = time.time() - t0
        log(f"7: SIGTERM during a hung PutRecords: exit status {rc} after {took:.1f} s")
        # a functional bound (the call's timeout is 60 s), not a benchmark
        check("7: exits within 10 s of SIGTERM", rc is not None and took < 10, f"{took:.1f} s")
        check("7: exit status 0 (documented for SIGTERM)", rc == 0, str(rc))
        after = confirmed_lsn(dsn)
        check(
            "7: the slot was not advanced past anything unconfirmed",
            after == before,
            f"{before} -> {after}",
        )
    finally:
        servers.resume_moto()
    settle(reader, servers.moto_port)
    fwd.start()
    missing = reader.wait_for(ids, 60)
    check("7: restarted against Kinesis: zero lost", not missing, f"{len(missing)} missing")
    log(f"7: duplicates after the SIGTERM: {dups(reader, ids)}")
    return base + len(ids)


def hostile_search_path(dsn, df, base, fwd, reader):
    """(8) The forwarder's role has search_path = public, pg_catalog and public holds a now()
    that records who calls it: the forwarder pins its sessions' search_path to '' and
    qualifies what it calls, so nothing it runs may call public.now()."""
    ex(dsn, "CREATE TABLE public.hijacked (pid int)")
    ex(
        dsn,
        "CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO public.hijacked VALUES (pg_catalog.pg_backend_pid());"
        " RETURN pg_catalog.now(); END $$",
    )
    ex(dsn, "ALTER ROLE postgres SET search_path = public, pg_catalog")
    try:
        check("8: forwarder exits 0 on SIGTERM", fwd.stop() == 0)
        fwd.start()  # its new sessions get the role's search_path
        ids = insert(dsn, df, base, 500, 1)
        missing = reader.wait_for(ids, 60)
        check("8: trips flow under a hostile search_path", not missing, f"{len(missing)} missing")
        check("8: the forwarder is idle again", wait_idle(dsn))
        n = q(dsn, "SELECT count(*) FROM public.hijacked")[0][0]
        check("8: nothing the forwarder ran called public.now()", n == 0, f"{n} calls")
    finally:
        ex(dsn, "ALTER ROLE postgres RESET search_path")
        ex(dsn, "DROP FUNCTION public.now()")
        ex(dsn, "DROP TABLE public.hijacked")
    return base + len(ids)


def start_proxy(env, work, name, *args):
    """tests/forwarder/fault_proxy.py in front of moto; (process, port, stats file)."""
    port_file = os.path.join(work, f"{name}.port")
    stats_file = os.path.join(work, f"{name}.json")
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(ROOT, "tests/forwarder/fault_proxy.py"),
            "--upstream",
            env["AWS_ENDPOINT_URL"],
            "--port-file",
            port_file,
            "--stats-file",
            stats_file,
        ]
        + list(args)
    )
    while not os.path.exists(port_file):
        time.sleep(0.05)
    return proc, open(port_file).read(), stats_file


def forged_log_lines(dsn, df, base, fwd, env, work):
    """(9) Kinesis answers a per-record error code holding a newline and a forged log line
    (the fault proxy: moto never does): the record is dead-lettered and the forwarder's log
    shows the code escaped, never a line starting with the forged text."""
    check("9: forwarder exits 0 on SIGTERM", fwd.stop() == 0)
    forged = "InvalidArgumentException\nERROR forged by the endpoint"
    proxy, pport, _ = start_proxy(
        env, work, "hostile", "--fail-rate", "1", "--reject-rate", "0", "--error-code", forged
    )
    start = os.path.getsize(fwd.logpath)
    try:
        fwd.start(AWS_ENDPOINT_URL_KINESIS=f"http://127.0.0.1:{pport}")
        ids = insert(dsn, df, base, 3, 1)
        deadline = time.time() + 30
        dead = []
        while time.time() < deadline and len(dead) < len(ids):
            dead = q(
                dsn,
                "SELECT ride_id FROM taxi_duration.forwarder_dead_letters"
                " WHERE ride_id = ANY(%s) AND reason LIKE %s",
                [str(i) for i in ids],
                "%ERROR forged%",
            )
            time.sleep(0.2)
        check(
            "9: records with the hostile error code dead-lettered", len(dead) == len(ids), str(dead)
        )
        time.sleep(0.5)
        with open(fwd.logpath, errors="replace") as f:
            f.seek(start)
            text = f.read()
        lines = text.splitlines()
        bad = [ln for ln in lines if ln.startswith("ERROR forged")]
        check("9: no log line starts with the forged text", not bad, str(bad[:3]))
        check(
            "9: the error code is logged escaped",
            "InvalidArgumentException\\nERROR forged by the endpoint" in text,
            str([ln for ln in lines if "dead-lettered" in ln][:2]),
        )
    finally:
        fwd.stop()
        proxy.terminate()
        proxy.wait()
    fwd.start()
    return base + len(ids)


def dups(reader, ids):
    return sum(reader.counts[i] - 1 for i in ids if reader.counts[i] > 1)


def q(dsn, sql, *args):
    with psycopg.connect(dsn, autocommit=True) as c:
        return c.execute(sql, args).fetchall()


def ex(dsn, sql):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(sql)


def main(work):
    os.environ.setdefault("TAXI_DATA_DIR", "/work/shared/data")
    from model.data import load_month

    df = load_month("2021-02")
    log(f"loaded {len(df)} real trips of 2021-02")

    pgdir = os.path.join(work, "pg")
    servers = Servers(os.path.join(work, "servers"), auth=True, mlflow=False)
    fwd = None
    proxy = None
    try:
        env = servers.start()
        kin = boto3.client(
            "kinesis",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        kin.create_stream(StreamName=STREAM, ShardCount=2)
        sh_cluster(
            f"td_cluster_start {pgdir} {PORT} \"shared_preload_libraries = 'taxi_duration'\n"
            "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n"
            "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'\""
        )
        dsn = f"host={pgdir} port={PORT} dbname=postgres user=postgres"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION taxi_duration")
            c.execute(
                "CREATE TABLE trips (ride_id bigint, pulocationid int, dolocationid int,"
                " trip_distance float8, lpep_pickup_datetime timestamp, note text)"
            )
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
        fwd = Forwarder(fenv, os.path.join(work, "forwarder.log"))
        reader = Reader(kin)
        base = 0

        # -- (1) 12,000 trips in 6 transactions, inserted before the forwarder starts
        # (creates the slot first so that they are decoded), then timed.
        q(dsn, "SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", SLOT)
        ids = insert(dsn, df, base, 12000, 6)
        base += 12000
        t0 = time.time()
        fwd.start()
        missing = reader.wait_for(ids, 60)
        el = time.time() - t0
        check(
            "1: every ride id of 12000 reached the stream", not missing, f"{len(missing)} missing"
        )
        log(
            f"throughput into moto: {len(ids) / el:.0f} records/s "
            f"({len(ids)} records in {el:.1f} s, incl. forwarder start)"
        )
        bad = (
            [
                i
                for i in ids
                if not (
                    isinstance(reader.docs[i][0].get("ride"), dict)
                    and RIDE_KEYS <= set(reader.docs[i][0]["ride"])
                    and reader.docs[i][0]["ride_id"] == i
                    and reader.docs[i][1] == str(i)
                    and "xid" in reader.docs[i][0]
                )
            ]
            if not missing
            else ids
        )
        check(
            "1: records have the DESIGN shape, partition key = ride id",
            not bad,
            f"e.g. {reader.docs.get(ids[0])}",
        )
        time.sleep(0.5)
        row = q(
            dsn,
            "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots"
            " WHERE slot_name = %s",
            SLOT,
        )[0][0]
        check(
            "1: slot confirmed_flush_lsn passed the last commit",
            int(row) >= reader.max_commit,
            f"{row} vs {reader.max_commit}",
        )
        check("1: no duplicates without faults", dups(reader, ids) == 0, str(dups(reader, ids)))

        # -- (2) kill -9 mid-stream, restart
        ids = insert(dsn, df, base, 12000, 4)
        base += 12000
        while sum(1 for i in ids if reader.counts[i]) < 1500:
            reader.poll()
            time.sleep(0.05)
        seen = sum(1 for i in ids if reader.counts[i])
        fwd.kill9()
        log(f"killed the forwarder (-9) with {seen}/{len(ids)} in the stream")
        fwd.start()
        missing = reader.wait_for(ids, 60)
        check("2: kill -9 + restart: zero lost", not missing, f"{len(missing)} missing")
        log(f"2: duplicates after kill -9: {dups(reader, ids)}")

        # -- (3) PostgreSQL restart while the forwarder runs
        ids = insert(dsn, df, base, 10000, 4)
        base += 10000
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                os.path.join(
                    subprocess.check_output(["pg_config", "--bindir"], text=True).strip(), "pg_ctl"
                ),
                "-D",
                os.path.join(pgdir, "data"),
                "-m",
                "fast",
                "-w",
                "restart",
                "-l",
                os.path.join(pgdir, "server.log"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log("PostgreSQL restarted")
        missing = reader.wait_for(ids, 60)
        check("3: PostgreSQL restart: zero lost", not missing, f"{len(missing)} missing")
        check("3: forwarder still running", fwd.proc.poll() is None)
        log(f"3: duplicates after the PostgreSQL restart: {dups(reader, ids)}")

        # -- (4) Kinesis frozen for 30 s
        servers.pause_moto()
        try:
            ids = insert(dsn, df, base, 3000, 3)
            base += 3000
            time.sleep(12)
            lag = q(
                dsn,
                "SELECT last_error, last_error_at > now() - interval '12 s',"
                " records_pending, retained_wal_bytes FROM taxi_duration.forwarder_lag",
            )
            time.sleep(18)
        finally:
            servers.resume_moto()
        check(
            "4: forwarder_lag.last_error showed the outage",
            lag and lag[0][0] and "kinesis" in lag[0][0] and lag[0][1],
            str(lag),
        )
        missing = reader.wait_for(ids, 60)
        check("4: Kinesis outage: zero lost after resume", not missing, f"{len(missing)} missing")
        log(f"4: duplicates after the outage: {dups(reader, ids)}")

        # -- (5) fault-injecting proxy
        before = q(dsn, "SELECT records_retried FROM taxi_duration.forwarder_status")[0][0]
        proxy, pport, stats_file = start_proxy(
            env, work, "proxy", "--fail-rate", "0.2", "--reject-rate", "0.15"
        )
        check("5: forwarder exits 0 on SIGTERM", fwd.stop() == 0)
        fwd.start(
            AWS_ENDPOINT_URL_KINESIS=f"http://127.0.0.1:{pport}",
            TD_BACKOFF_BASE_MS="20",
            TD_BACKOFF_MAX_MS="200",
        )
        ids = insert(dsn, df, base, 10000, 5)
        base += 10000
        missing = reader.wait_for(ids, 90)
        stats = json.load(open(stats_file)) if os.path.exists(stats_file) else {}
        after = q(dsn, "SELECT records_retried FROM taxi_duration.forwarder_status")[0][0]
        check("5: injected faults: zero lost", not missing, f"{len(missing)} missing")
        check(
            "5: faults were injected and retried",
            stats.get("failed_entries", 0) > 0
            and stats.get("rejected_calls", 0) > 0
            and after - before >= stats.get("failed_entries", 0),
            f"{stats}, retried {after - before}",
        )
        log(
            f"5: proxy {stats}; forwarder records_retried +{after - before}; "
            f"duplicates in the stream: {dups(reader, ids)}"
        )

        # -- (6) records Kinesis can never accept → dead letters, stream keeps flowing
        with psycopg.connect(dsn) as c:
            c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (base,))
            c.execute(
                "INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', repeat('x', 1100000))",
                (base + 1,),
            )
            c.execute("INSERT INTO trips VALUES (NULL, 1, 2, 3.0, '2021-02-01', NULL)")
            c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (base + 2,))
            c.execute("INSERT INTO trips VALUES (%s, 1, 2, 3.0, '2021-02-01', NULL)", (BIG,))
            c.commit()
        ids = insert(dsn, df, base + 3, 2000, 2)
        missing = reader.wait_for([base, base + 2, BIG] + ids, 60)
        check(
            "6: the stream keeps flowing past unacceptable records",
            not missing,
            f"{len(missing)} missing",
        )
        dead = q(
            dsn, "SELECT ride_id, reason FROM taxi_duration.forwarder_dead_letters ORDER BY id"
        )
        check(
            "6: the oversized record is dead-lettered",
            any(r[0] == str(base + 1) and "too large" in r[1] for r in dead),
            str(dead)[:300],
        )
        check(
            "6: the record without ride id is dead-lettered",
            any(r[0] is None and "partition key" in r[1] for r in dead),
            str(dead)[:300],
        )
        check("6: the oversized record is not in the stream", reader.counts[base + 1] == 0)
        check(
            "6: a bigint ride id above 2^53 is the exact partition key",
            reader.docs.get(BIG, (None, ""))[1] == str(BIG),
            str(reader.docs.get(BIG)),
        )
        st = q(
            dsn,
            "SELECT records_sent, records_retried, records_dead, records_pending,"
            " retained_wal, last_error_at IS NOT NULL FROM taxi_duration.forwarder_lag",
        )
        log(f"forwarder_lag: sent, retried, dead, pending, retained WAL, had error = {st}")
        check("6: forwarder_lag counts the dead letters", st and st[0][2] >= 2, str(st))
        base = sigterm_during_hung_put(dsn, df, base + 3 + 2000, fwd, servers, reader)
        base = hostile_search_path(dsn, df, base, fwd, reader)
        base = forged_log_lines(dsn, df, base, fwd, env, work)

        total = sum(reader.counts.values())
        log(
            f"stream holds {total} records for {len(reader.counts)} ride ids "
            f"({total - len(reader.counts)} duplicates overall)"
        )
    except Exception:
        traceback.print_exc()
        results.append(("unexpected exception", False))
    finally:
        if fwd is not None:
            fwd.stop()
        if proxy is not None:
            proxy.terminate()
            proxy.wait()
        sh_cluster(f"td_cluster_stop {pgdir}")
        servers.stop()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
