#!/usr/bin/env python3
"""td-forwarder and Debezium side by side (bench/bench_debezium.sh runs this).

One moto (Kinesis), one PostgreSQL cluster (wal_level = logical, track_commit_timestamp = on),
the same trips table and the same real trips (green taxi 2021-01 + 2021-02, repeated to reach
--trips, ride ids 0..N-1), COPYed in transactions of --tx rows.  Each forwarder runs alone, on a
freshly created table with its own slot and its own stream (so neither takes CPU from the
other), through three phases:

  throughput  N trips COPYed as fast as PostgreSQL takes them while the forwarder runs:
              events/s from the first insert to the last event's arrival in the stream;
              CPU seconds (utime + stime) and peak RSS (VmHWM) of the forwarding process, from
              /proc, just before it is stopped; bytes per event (the records' data).
  paced       --paced-trips trips at --paced-rate trips/s: commit → stream latency,
              ApproximateArrivalTimestamp of each ride id's first record minus
              pg_xact_commit_timestamp(xmin) of its row (p50 / p99 / max); the throughput
              phase's latency is reported too (it is mostly the backlog).
  kill -9     --kill-trips trips COPYed at --kill-rate trips/s while the forwarder runs; once
              half of them are inserted and a tenth sent, the forwarder is killed
              with SIGKILL and started again a second later; at the end, ride ids of the table
              missing from the stream (lost) and extra records (duplicates).

td-forwarder is a black box: its environment (TD_FORWARDER_DSN, TD_SLOT, TD_TABLES, TD_COLUMNS,
TD_TRIPS_STREAM, TD_POLL_MS, AWS_*).  The Debezium side is bench/debezium (java -jar
target/td-debezium.jar, DBZ_* and AWS_*).  Both poll every 100 ms.  Streams have --shards shards
(512: moto 5.2.1 appends a record in time proportional to the records already in its shard; into
64 shards it went from 6,900 to 1,070 records/s over the first 400,000, into 512 it stays near
8,000 for 250,000).
Prints a Markdown section on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import signal
import subprocess
import sys
import threading
import time

import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from aws_clients import aws_client  # noqa: E402
from forwarding import TRIPS_COLUMNS, TRIPS_DDL, forwarder_env  # noqa: E402
from servers import Servers  # noqa: E402

PG_PORT = 55132
MOTO_PORT = 55101
CLK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the trips ---------------------------------------------------------------------------------


def trip_lines(n):
    """n CSV lines (ride_id, pulocationid, dolocationid, trip_distance, pickup) of real trips,
    2021-01 then 2021-02, repeated; ride ids 0..n-1."""
    import pandas as pd

    from taxi_duration_ml.data import load_month

    df = pd.concat([load_month(m, download=False) for m in ("2021-01", "2021-02")])
    rest = [
        f"{int(r.PULocationID)},{int(r.DOLocationID)},{float(r.trip_distance)!r},"
        f"{r.lpep_pickup_datetime}\n"
        for r in df.itertuples()
    ]
    return [f"{i},{rest[i % len(rest)]}" for i in range(n)], len(rest)


def insert(dsn, lines, tx, rate=0.0, progress=None):
    """COPY `lines` in transactions of `tx` rows; `rate` > 0 paces them (trips/s)."""
    t0 = time.monotonic()
    with psycopg.connect(dsn) as c:
        for k in range(0, len(lines), tx):
            if rate:
                delay = t0 + k / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            with c.cursor().copy(
                "COPY trips (ride_id, pulocationid, dolocationid, trip_distance,"
                " lpep_pickup_datetime) FROM STDIN WITH (FORMAT csv)"
            ) as cp:
                cp.write("".join(lines[k : k + tx]))
            c.commit()
            if progress is not None:
                progress[0] = k + tx


# -- the stream --------------------------------------------------------------------------------


class StreamReader:
    """Every shard of a stream from TRIM_HORIZON on, incrementally: records per partition key
    (the ride id, for both forwarders), the first arrival time of each, the data's bytes."""

    def __init__(self, kin, stream):
        self.kin = kin
        self.counts = collections.Counter()
        self.first = {}
        self.records = 0
        self.bytes = 0
        self.iters = {
            sh["ShardId"]: kin.get_shard_iterator(
                StreamName=stream, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for sh in kin.list_shards(StreamName=stream)["Shards"]
        }

    def poll(self):
        for sid, it in self.iters.items():
            while it:
                r = self.kin.get_records(ShardIterator=it, Limit=10000)
                it = r.get("NextShardIterator")
                for rec in r["Records"]:
                    key = rec["PartitionKey"]
                    self.counts[key] += 1
                    self.records += 1
                    self.bytes += len(rec["Data"])
                    if key not in self.first:
                        self.first[key] = rec["ApproximateArrivalTimestamp"].timestamp()
                if not r["Records"]:
                    break
            self.iters[sid] = it
        return len(self.counts)


# -- the forwarding processes ------------------------------------------------------------------


class Proc:
    """A forwarding process (argv, env), stderr appended to a log; CPU and peak RSS from /proc."""

    def __init__(self, name, argv, env, logpath):
        self.name, self.argv, self.env, self.logpath, self.p = name, argv, env, logpath, None

    running: list[Proc] = []  # stopped by main() whatever happens

    def start(self):
        Proc.running.append(self)
        with open(self.logpath, "ab") as f:
            self.p = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=f,
                cwd=os.path.dirname(self.logpath),
            )

    def usage(self):
        """(CPU seconds, peak RSS in MiB) of the running process."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK
        with open(f"/proc/{self.p.pid}/status") as f:
            hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        return cpu, hwm / 1024

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def check_alive(self):
        if self.p.poll() is not None:
            with open(self.logpath, errors="replace") as f:
                tail = "".join(f.readlines()[-20:])
            raise RuntimeError(f"{self.name} exited with {self.p.returncode}:\n{tail}")


class Bench:
    def __init__(self, a, work, aws, kin, dsn):
        self.a, self.work, self.aws, self.kin, self.dsn = a, work, aws, kin, dsn
        self.jar = os.path.join(ROOT, "bench", "debezium", "target", "td-debezium.jar")

    def sql(self, query, *args):
        with psycopg.connect(self.dsn, autocommit=True) as c:
            cur = c.execute(query, args)
            return cur.fetchall() if cur.description else []

    def make_proc(self, kind, tag, stream):
        slot = f"bench_{kind}_{tag}"
        logpath = os.path.join(self.work, f"{kind}-{tag}.log")
        if kind == "td":
            env = forwarder_env(
                self.aws,
                TD_FORWARDER_DSN=self.dsn,
                TD_SLOT=slot,
                TD_TABLES="public.trips",
                TD_COLUMNS=TRIPS_COLUMNS,
                TD_TRIPS_STREAM=stream,
                TD_POLL_MS="100",
            )
            return Proc(
                "td-forwarder", [os.path.join(ROOT, "forwarder", "td-forwarder")], env, logpath
            ), slot
        env = forwarder_env(
            self.aws,
            DBZ_PG_HOST="127.0.0.1",
            DBZ_PG_PORT=str(PG_PORT),
            DBZ_SLOT=slot,
            DBZ_PUBLICATION=slot,
            DBZ_TABLES="public.trips",
            DBZ_STREAM=stream,
            DBZ_OFFSET_FILE=os.path.join(self.work, f"{slot}.offsets"),
            DBZ_STATUS_FILE=os.path.join(self.work, f"{slot}.status"),
            DBZ_POLL_MS="100",
        )
        java = [os.environ.get("JAVA", "java"), *os.environ.get("DBZ_JAVA_OPTS", "").split()]
        return Proc("Debezium", [*java, "-jar", self.jar], env, logpath), slot

    def fresh(self, kind, tag):
        """A new trips table, a stream, the forwarder started with a new slot."""
        self.sql("DROP TABLE IF EXISTS trips")
        self.sql(TRIPS_DDL)
        stream = f"bench_{kind}_{tag}"
        self.kin.create_stream(StreamName=stream, ShardCount=self.a.shards)
        self.kin.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
        proc, slot = self.make_proc(kind, tag, stream)
        proc.start()
        deadline = time.monotonic() + 120
        while not self.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", slot):
            proc.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} did not create slot {slot}")
            time.sleep(0.1)
        time.sleep(1.0)  # let it reach its streaming loop
        return proc, slot, StreamReader(self.kin, stream)

    def done(self, proc, slot):
        proc.stop()
        for _ in range(100):
            if not self.sql(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active", slot
            ):
                break
            time.sleep(0.1)
        self.sql(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
            " WHERE slot_name = %s AND active",
            slot,
        )
        time.sleep(0.2)
        self.sql("SELECT pg_drop_replication_slot(%s)", slot)
        self.sql(f"DROP PUBLICATION IF EXISTS {slot}")

    def sent(self, kind, slot):
        """Events the forwarder says Kinesis accepted (None if it does not say): td-forwarder's
        forwarder_status row, the harness's status file.  Cheaper than reading the stream, which
        in moto costs as much CPU as writing it (GetRecords scans a shard from its start)."""
        try:
            if kind == "td":
                rows = self.sql(
                    "SELECT records_sent FROM taxi_duration.forwarder_status WHERE slot = %s", slot
                )
                return rows[0][0] if rows else 0
            with open(os.path.join(self.work, f"{slot}.status")) as f:
                return int(f.read() or 0)
        except FileNotFoundError:
            return 0
        except (psycopg.Error, ValueError):
            return None

    def wait_sent(self, proc, kind, slot, n, timeout):
        """Until the forwarder says n events were accepted (or cannot say)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while (now := self.sent(kind, slot)) is not None and now < n:
            proc.check_alive()
            if now != seen:
                seen, since = now, time.monotonic()
            if time.monotonic() > deadline or time.monotonic() - since > self.a.stall:
                log(f"{proc.name}: says {now} of {n} sent; giving up")
                return
            time.sleep(0.1)

    def wait_all(self, proc, reader, n, timeout, interval=2.0):
        """Until n ride ids are in the stream: False after `timeout` s, or after --stall s
        without a new one."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while (now := reader.poll()) < n:
            proc.check_alive()
            if now != seen:
                seen, since = now, time.monotonic()
            if time.monotonic() > deadline or time.monotonic() - since > self.a.stall:
                log(f"{proc.name}: {now} of {n} ride ids in the stream; giving up")
                return False
            time.sleep(interval)
        return True

    def latencies(self, reader):
        """commit → first arrival, ms, for every row of the table found in the stream."""
        rows = self.sql(
            "SELECT ride_id::text, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8"
            " FROM trips"
        )
        lat = sorted((reader.first[r] - c) * 1000 for r, c in rows if r in reader.first)
        return lat, rows

    # -- phases ---------------------------------------------------------------------------------
    def throughput(self, kind, lines):
        n = len(lines)
        proc, slot, reader = self.fresh(kind, "tput")
        t0 = time.time()
        insert(self.dsn, lines, self.a.tx)
        t_ins = time.time() - t0
        self.wait_sent(proc, kind, slot, n, self.a.timeout)
        ok = self.wait_all(proc, reader, n, self.a.stall)
        cpu, rss = proc.usage()
        self.done(proc, slot)
        lat, _ = self.latencies(reader)
        last = max(reader.first.values())
        res = {
            "complete": ok,
            "secs": last - t0,
            "rate": n / (last - t0),
            "insert_rate": n / t_ins,
            "cpu": cpu,
            "rss": rss,
            "bytes": reader.bytes / max(reader.records, 1),
            "dups": reader.records - len(reader.counts),
            "lat": lat,
        }
        log(
            f"{kind} throughput: {res['rate']:.0f} events/s, cpu {cpu:.1f} s, rss {rss:.0f} MiB,"
            f" {res['bytes']:.0f} B/event, complete {ok}"
        )
        return res

    def paced(self, kind, lines):
        proc, slot, reader = self.fresh(kind, "paced")
        insert(self.dsn, lines, self.a.paced_tx, rate=self.a.paced_rate)
        self.wait_sent(proc, kind, slot, len(lines), self.a.timeout)
        ok = self.wait_all(proc, reader, len(lines), self.a.stall, interval=0.5)
        self.done(proc, slot)
        lat, _ = self.latencies(reader)
        log(
            f"{kind} paced: p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, max {lat[-1]:.0f} ms"
        )
        return {"complete": ok, "lat": lat}

    def kill9(self, kind, lines):
        n = len(lines)
        proc, slot, reader = self.fresh(kind, "kill")
        progress = [0]
        ins = threading.Thread(
            target=insert, args=(self.dsn, lines, self.a.tx, self.a.kill_rate, progress)
        )
        ins.start()

        # mid-stream, while inserting: once half the trips are inserted and a tenth sent
        # (as the forwarder says: reading the stream is slow, moto's GetRecords scans a shard
        # from its start)
        def sending():
            sent = self.sent(kind, slot)
            return sent >= n // 10 if sent is not None else reader.poll() > 0

        while progress[0] < n // 2 or not sending():
            proc.check_alive()
            if not ins.is_alive() and progress[0] < n // 2:
                raise RuntimeError("the inserts stopped early")
            time.sleep(0.01)
        proc.kill9()
        inserted = progress[0]
        at = (reader.poll(), inserted)
        log(f"{kind}: kill -9 with {at[0]} ride ids in the stream, {at[1]} inserted")
        time.sleep(1.0)
        proc.start()
        ins.join()
        self.wait_all(proc, reader, n, self.a.timeout)
        time.sleep(3.0)  # duplicates still on their way
        reader.poll()
        self.done(proc, slot)
        ids = [r[0] for r in self.sql("SELECT ride_id::text FROM trips")]
        missing = sorted(int(i) for i in ids if reader.counts[i] == 0)
        lost = len(missing)
        if missing:
            log(f"{kind} kill -9: lost ride ids {ranges(missing)}")
        dups = sum(reader.counts[i] - 1 for i in ids if reader.counts[i] > 1)
        log(f"{kind} kill -9: lost {lost}, duplicates {dups} of {len(ids)}")
        return {"rows": len(ids), "lost": lost, "dups": dups, "at": at, "missing": ranges(missing)}


def ranges(ids):
    """'a-b, c, ...' for sorted integers."""
    out, start = [], None
    for k, i in enumerate(ids):
        if start is None:
            start = i
        if k + 1 == len(ids) or ids[k + 1] != i + 1:
            out.append(f"{start}-{i}" if i != start else str(i))
            start = None
    return ", ".join(out)


def pct(xs, p):
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def versions():
    v = {}
    v["postgres"] = subprocess.run(
        [
            os.path.join(os.environ.get("TD_PG_BINDIR", "/usr/lib/postgresql/15/bin"), "postgres"),
            "--version",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    v["java"] = subprocess.run(
        ["java", "-version"], capture_output=True, text=True
    ).stderr.splitlines()[0]
    v["td"] = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    try:
        from importlib.metadata import version

        v["moto"] = subprocess.run(
            [
                os.path.join(
                    os.environ.get("TD_SERVERS_VENV", "/opt/td-servers-venv"), "bin", "python"
                ),
                "-c",
                "import moto; print(moto.__version__)",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        v["boto3"] = version("boto3")
    except Exception:  # noqa: BLE001 - informational only
        pass
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--trips", type=int, default=1_000_000)
    ap.add_argument("--tx", type=int, default=1000, help="rows per COPY transaction")
    ap.add_argument("--paced-trips", type=int, default=30_000)
    ap.add_argument("--paced-rate", type=float, default=1000.0)
    ap.add_argument("--paced-tx", type=int, default=100)
    ap.add_argument("--kill-trips", type=int, default=200_000)
    ap.add_argument("--kill-rate", type=float, default=5_000.0, help="trips/s while killing")
    ap.add_argument("--shards", type=int, default=512)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--stall", type=float, default=120, help="s without progress: give up")
    ap.add_argument("--only", default="td,dbz")
    ap.add_argument("--kill-only", action="store_true", help="the kill -9 phase alone, no report")
    ap.add_argument("--command", default="bash bench/bench_debezium.sh")
    a = ap.parse_args()
    a.paced_trips = min(a.paced_trips, a.trips)
    a.kill_trips = min(a.kill_trips, a.trips)
    os.environ.setdefault("TAXI_DATA_DIR", "/work/shared/data")

    lines, distinct = trip_lines(a.trips)
    log(f"{len(lines)} trips ({distinct} distinct rows of 2021-01 + 2021-02)")
    pgdir = os.path.join(a.work, "pg")
    servers = Servers(os.path.join(a.work, "servers"), auth=True, mlflow=False)
    servers.moto_port = MOTO_PORT
    res = {}
    try:
        env = servers.start()
        aws = {
            k: env[k]
            for k in (
                "AWS_ENDPOINT_URL",
                "AWS_REGION",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
            )
        }
        kin = aws_client("kinesis", aws)
        conf = "\n".join(
            [
                "shared_preload_libraries = 'taxi_duration'",
                "listen_addresses = '127.0.0.1'",  # Debezium's JDBC driver needs TCP
                "wal_level = logical",
                "track_commit_timestamp = on",
                "max_replication_slots = 8",
                "max_wal_senders = 8",
                "max_wal_size = '4GB'",
                "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'",
            ]
        )
        subprocess.run(
            [
                "bash",
                "-c",
                f'. {ROOT}/tests/lib/cluster.sh; td_cluster_start {pgdir} {PG_PORT} "$1"',
                "-",
                conf,
            ],
            check=True,
        )
        dsn = f"host={pgdir} port={PG_PORT} dbname=postgres user=postgres"
        b = Bench(a, a.work, aws, kin, dsn)
        b.sql("CREATE EXTENSION taxi_duration")
        for kind in a.only.split(","):
            res[kind] = (
                {
                    "tput": b.throughput(kind, lines),
                    "paced": b.paced(kind, lines[: a.paced_trips]),
                    "kill": b.kill9(kind, lines[: a.kill_trips]),
                }
                if a.kill_only is False
                else {"kill": b.kill9(kind, lines[: a.kill_trips])}
            )
        if a.kill_only:
            return 0
    finally:
        for p in Proc.running:
            p.stop()
        subprocess.run(["bash", "-c", f". {ROOT}/tests/lib/cluster.sh; td_cluster_stop {pgdir}"])
        servers.stop()
    print(section(a, res, versions(), distinct))
    return 0


def section(a, res, v, distinct):
    names = {"td": "td-forwarder", "dbz": "Debezium 3.6.1.Final (embedded)"}
    kinds = [k for k in ("td", "dbz") if k in res]
    rows = []

    def row(label, fmt):
        rows.append(f"| {label} | " + " | ".join(fmt(res[k]) for k in kinds) + " |")

    row(
        f"throughput, {a.trips:,} trips: events/s, first insert → last event in the stream",
        lambda r: f"**{r['tput']['rate']:,.0f}** ({r['tput']['secs']:.1f} s)",
    )
    row("  all ride ids in the stream", lambda r: str(r["tput"]["complete"]))
    row("  (insert rate, trips/s)", lambda r: f"{r['tput']['insert_rate']:,.0f}")
    row(
        "  CPU seconds of the forwarding process (user + system)",
        lambda r: f"{r['tput']['cpu']:.1f}",
    )
    row("  CPU µs per event", lambda r: f"{r['tput']['cpu'] / a.trips * 1e6:.0f}")
    row("  peak RSS (VmHWM)", lambda r: f"{r['tput']['rss']:.0f} MiB")
    row("  bytes per event (record data)", lambda r: f"{r['tput']['bytes']:.0f}")
    row(
        "  commit → stream latency p50 / p99 / max (backlog)",
        lambda r: "{:,.0f} / {:,.0f} / {:,.0f} ms".format(*lat3(r["tput"]["lat"])),
    )
    row(
        f"paced, {a.paced_trips:,} trips at {a.paced_rate:,.0f}/s in transactions of {a.paced_tx}:"
        " commit → stream p50 / p99 / max",
        lambda r: "**{:,.0f}** / {:,.0f} / {:,.0f} ms".format(*lat3(r["paced"]["lat"])),
    )
    row(
        f"kill -9 while inserting {a.kill_trips:,} trips at {a.kill_rate:,.0f}/s, restarted:"
        " lost / duplicated",
        lambda r: (
            f"**{r['kill']['lost']}** / {r['kill']['dups']:,} (killed at {r['kill']['at'][0]:,} in stream,"
            f" {r['kill']['at'][1]:,} inserted)"
        ),
    )
    row("  the lost ride ids", lambda r: r["kill"]["missing"] or "none")
    notes = []
    if res.get("dbz", {}).get("kill", {}).get("lost"):
        notes.append(
            "Debezium's losses after the kill -9: the PostgreSQL connector (3.6.1) stores the"
            " position of the last event it handed over as the LSN of its WAL record, and COPY"
            " writes many rows in one multi-insert WAL record (all decoded with that LSN); on"
            " restart, `WalPositionLocator` skips every event up to and including the stored LSN,"
            " so the rows of that record after the last one sent are never emitted"
            " (debezium/dbz#1554; the fix, debezium/debezium PR #7531, adds a per-LSN event count,"
            " `lsn_events_processed`, to the offsets: it is in debezium-connector-postgres"
            " 3.7.1.Final, not in 3.6.1 nor 3.6.4). td-forwarder confirms whole transactions"
            " (`pg_replication_slot_advance` to a commit LSN), so it resends instead."
        )
    head = "| | " + " | ".join(names[k] for k in kinds) + " |\n|---|" + "---|" * len(kinds)
    return f"""
## Debezium side by side — {time.strftime("%Y-%m-%d")} on {os.cpu_count()} cores, {platform.machine()}

Command: `{a.command}`

Versions: {v.get("postgres")}; td-forwarder at {v.get("td")} (`TD_POLL_MS=100`); Debezium 3.6.1.Final
(`debezium-embedded`, PostgreSQL connector, `plugin.name=pgoutput`, `snapshot.mode=no_data`,
`poll.interval.ms=100`, `offset.flush.interval.ms=1000`, JSON without schemas) with the AWS SDK
for Java 2.59.1 (`bench/debezium/`), {v.get("java")}; moto {v.get("moto")} with SigV4 checking,
streams of {a.shards} shards, all on this host.

The same {a.trips:,} real trips ({distinct:,} distinct rows of green 2021-01 + 2021-02, repeated;
ride ids 0..N-1) COPYed in transactions of {a.tx:,} rows into a fresh `trips` table while the
forwarder runs, each forwarder alone (own slot, own stream). Latency: each ride id's first
record's `ApproximateArrivalTimestamp` minus `pg_xact_commit_timestamp(xmin)` of its row
(`track_commit_timestamp = on`). CPU and peak RSS: `/proc/<pid>/stat` and `VmHWM` of the
forwarding process (the JVM for Debezium) at the end of the throughput phase.

{head}
{chr(10).join(rows)}
{"".join(chr(10) + n + chr(10) for n in notes)}"""


def lat3(lat):
    return (pct(lat, 50), pct(lat, 99), lat[-1] if lat else float("nan"))


if __name__ == "__main__":
    sys.exit(main())
