#!/usr/bin/env python3
"""Streaming latency and throughput (bench/bench_streaming.sh runs this after bench_streaming.py).

(a) steady load: for each rate in --rates (trips/s), real trips of 2021-01 and 2021-02 (cycled,
    fresh ride ids) are inserted for --seconds in small transactions, one every 10 ms carrying
    rate/100 rows (INSERT ... SELECT FROM unnest(...)), paced by an absolute schedule (tick k
    starts at t0 + k * 10 ms; a late tick is not made up by sleeping less later: it just starts
    late), from a process of its own.  A 2 s warm-up at the same rate comes first and is left out
    of the figures.  The cluster runs with track_commit_timestamp = on; afterwards each row's
    commit time is pg_xact_commit_timestamp(xmin).  Latencies:
      commit -> trip event in Kinesis: the record's ApproximateArrivalTimestamp as moto sets it
        (when it stores the record, inside the PutRecords call; moto truncates it to the
        millisecond, so figures are up to 1 ms low);
      commit -> prediction in the predictions stream: the C Lambda (lambda/build/bootstrap) under
        aws-lambda-rie, fed by tests/lib/esm_poller.py (the stand-in for the event-source mapping:
        GetRecords on its shards in turn, batches of up to 500, 200 ms pause when all its shards
        were empty), the prediction record's ApproximateArrivalTimestamp.  --lambdas (default: one
        per shard, as the event-source mapping runs one batch per shard at a time) emulators and
        pollers, the shards dealt among them; with one, a single sequential poller fed every
        shard to one emulator and the predictions fell behind from about 2,000 trips/s on.
    Forwarder CPU (utime + stime of /proc/PID/stat, from its start to the last event sent) per
    1,000 events and its peak RSS (VmHWM).  Each rate has its own slot, trip stream and
    predictions stream (4 shards each), its own forwarder (TD_INFLIGHT default, 4) and Lambda.
(b) maximum sustained throughput: --preload trips COPYed (transactions of 5,000) while one slot per
    configuration exists and no forwarder runs; then for TD_INFLIGHT in --inflight, against moto
    directly and through tests/forwarder/fault_proxy.py --delay-ms (latency before each
    PutRecords), a forwarder on its own slot and its own 4-shard stream is timed from its start
    until forwarder_status.records_sent reaches the preload (TD_POLL_MS=50); every ride id is
    then looked for in the stream.  --repeats rounds of every configuration in turn (all
    configurations once, then again), the median time of each reported as records/s and as the
    ratio to TD_INFLIGHT=1 of the same endpoint in this run.  The proxy is started afresh for
    each of its runs; its counters give the PutRecords calls, records per call and the most
    calls it was forwarding at once (the pipelining actually reached).

PostgreSQL, moto and the proxy listen on --pg-port, --moto-port and --proxy-port (55600-55602 by
default).  Prints a Markdown section on stdout.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from aws_clients import aws_client  # noqa: E402
from esm_poller import Poller  # noqa: E402
from lambda_rie import Rie  # noqa: E402
from servers import Servers  # noqa: E402

BUNDLE = os.path.join(ROOT, "python", "taxi_duration_ml", "default_bundle.json")
FORWARDER = os.path.join(ROOT, "forwarder", "td-forwarder")
PROXY = os.path.join(ROOT, "tests", "forwarder", "fault_proxy.py")
SHARDS = 4
TICK = 0.010  # one transaction every 10 ms
WARMUP_S = 2.0
INSERT = (
    "INSERT INTO trips (ride_id, pulocationid, dolocationid, trip_distance, lpep_pickup_datetime)"
    " SELECT * FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::float8[], %s::timestamp[])"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).replace(",", " ").split()]


# -- data --------------------------------------------------------------------------------------


def load_trips():
    from taxi_duration_ml.data import load_month

    cols = []
    for month in ("2021-01", "2021-02"):
        df = load_month(month, download=False)
        cols.append(
            (
                df["PULocationID"].astype(int).tolist(),
                df["DOLocationID"].astype(int).tolist(),
                df["trip_distance"].astype(float).tolist(),
                [str(t) for t in df["lpep_pickup_datetime"]],
            )
        )
    return tuple(a + b for a, b in zip(*cols, strict=True))


def rows(trips, first_id, n):
    """n trips with ride ids first_id.. (the data cycled)."""
    m = len(trips[0])
    idx = [(first_id + i) % m for i in range(n)]
    return (
        list(range(first_id, first_id + n)),
        [trips[0][i] for i in idx],
        [trips[1][i] for i in idx],
        [trips[2][i] for i in idx],
        [trips[3][i] for i in idx],
    )


def paced_insert(dsn, trips, first_id, rate, seconds, out):
    """Child process: `rate` trips/s for `seconds`, a transaction per 10 ms tick, ticks on an
    absolute schedule.  Puts (rows, elapsed s, max tick lateness s, late ticks) on `out`."""
    ticks = int(round(seconds / TICK))
    per_s = rate * TICK
    sizes = [int((k + 1) * per_s) - int(k * per_s) for k in range(ticks)]
    batches, rid = [], first_id
    for n in sizes:
        batches.append(rows(trips, rid, n) if n else None)
        rid += n
    late_max, late = 0.0, 0
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor()
        t0 = time.monotonic()
        for k, b in enumerate(batches):
            target = t0 + k * TICK
            now = time.monotonic()
            if now < target:
                time.sleep(target - now)
            else:
                late_max = max(late_max, now - target)
                late += now - target > TICK
            if b is not None:
                cur.execute(INSERT, b, prepare=True)
        elapsed = time.monotonic() - t0
    out.put((rid - first_id, elapsed, late_max, late))


def run_paced(dsn, trips, first_id, rate, seconds):
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=paced_insert, args=(dsn, trips, first_id, rate, seconds, q))
    p.start()
    res = q.get()
    p.join()
    return res


# -- helpers -----------------------------------------------------------------------------------


def cluster(cmd, pgdir, port=None, conf=""):
    if cmd == "start":
        script = f'. {ROOT}/tests/lib/cluster.sh; td_cluster_start {pgdir} {port} "{conf}"'
    else:
        script = f". {ROOT}/tests/lib/cluster.sh; td_cluster_stop {pgdir}"
    subprocess.run(["bash", "-c", script], check=cmd == "start")


def make_stream(kin, name):
    kin.create_stream(StreamName=name, ShardCount=SHARDS)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})


def arrivals(kin, stream, key):
    """{ride id: (first ApproximateArrivalTimestamp as epoch s, copies)} of a whole stream."""
    out = {}
    for sh in kin.list_shards(StreamName=stream)["Shards"]:
        it = kin.get_shard_iterator(
            StreamName=stream, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            r = kin.get_records(ShardIterator=it, Limit=10000)
            it = r.get("NextShardIterator")
            for rec in r["Records"]:
                rid = key(json.loads(rec["Data"]))
                ts = rec["ApproximateArrivalTimestamp"].timestamp()
                if rid in out:
                    out[rid] = (min(out[rid][0], ts), out[rid][1] + 1)
                else:
                    out[rid] = (ts, 1)
            if not r["Records"]:
                break
    return out


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def proc_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def records_sent(c, slot):
    row = c.execute(
        "SELECT records_sent FROM taxi_duration.forwarder_status WHERE slot = %s", (slot,)
    ).fetchone()
    return row[0] if row else 0


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def stop_proc(p):
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(xs):
    a = np.asarray(xs, dtype=float)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.max())


# -- (a) ---------------------------------------------------------------------------------------


def steady(a, kin, aws, dsn, trips, rate, first_id, work):
    stream, preds, slot = f"lat_trips_{rate}", f"lat_preds_{rate}", f"lat_{rate}"
    make_stream(kin, stream)
    make_stream(kin, preds)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", (slot,))
    fenv = dict(os.environ, TD_FORWARDER_DSN=dsn, TD_SLOT=slot, TD_TRIPS_STREAM=stream, **aws)
    fenv.pop("AWS_ENDPOINT_URL_S3", None)
    fenv.pop("TD_INFLIGHT", None)
    lenv = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TD_", "MLFLOW_"))}
    lenv.update(aws, TD_MODEL_URI="file://" + BUNDLE, PREDICTIONS_STREAM=preds)
    fwd = None
    ries, pollers = [], []
    try:
        fwd = subprocess.Popen(
            [FORWARDER],
            env=fenv,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(work, f"forwarder-lat-{rate}.log"), "ab"),
        )
        with psycopg.connect(dsn, autocommit=True) as c:
            wait_until(
                lambda: c.execute(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
                ).fetchone()[0],
                60,
                "the forwarder to stream from its slot",
            )
        # one function instance per shard, each fed that shard's batches in order, as the
        # event-source mapping does by default (ParallelizationFactor 1)
        for k in range(a.lambdas):
            ries.append(
                Rie(a.rie, a.bootstrap, lenv, os.path.join(work, f"rie-lat-{rate}-{k}.log"))
            )
            p = Poller(kin, ries[-1], aws["AWS_REGION"], stream=stream)
            p.iters = {sid: it for j, (sid, it) in enumerate(p.iters.items()) if j % a.lambdas == k}
            pollers.append(p)
        for p in pollers:
            p.start()

        warm, _, _, _ = run_paced(dsn, trips, first_id, rate, WARMUP_S)
        lo = first_id + warm
        n, elapsed, late_max, late = run_paced(dsn, trips, lo, rate, a.seconds)
        hi = lo + n - 1
        total = warm + n
        t_end = time.monotonic()
        with psycopg.connect(dsn, autocommit=True) as c:
            wait_until(lambda: records_sent(c, slot) >= total, 300, f"{total} records sent")
        cpu = proc_cpu_s(fwd.pid)
        hwm = proc_hwm_kb(fwd.pid)
        wait_until(
            lambda: sum(p.records for p in pollers) >= total, 600, f"the pollers to deliver {total}"
        )
        drain_s = time.monotonic() - t_end
        for p in pollers:
            p.stop_ev.set()
        for p in pollers:
            p.join(timeout=60)
    finally:
        for p in pollers:
            p.stop_ev.set()
        stop_proc(fwd)
        for r in ries:
            r.stop()
    with psycopg.connect(dsn, autocommit=True) as c:
        commits = dict(
            c.execute(
                "SELECT ride_id, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8"
                " FROM trips WHERE ride_id BETWEEN %s AND %s",
                (lo, hi),
            ).fetchall()
        )
        c.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    ev = arrivals(kin, stream, lambda d: d["ride_id"])
    pr = arrivals(kin, preds, lambda d: d["prediction"]["ride_id"])
    for s in (stream, preds):
        kin.delete_stream(StreamName=s)
    ids = range(lo, hi + 1)
    ev_ms = [(ev[i][0] - commits[i]) * 1000 for i in ids if i in ev]
    pr_ms = [(pr[i][0] - commits[i]) * 1000 for i in ids if i in pr]
    if a.raw_dir:  # per trip: ride id, commit, event arrival, prediction arrival (epoch s)
        os.makedirs(a.raw_dir, exist_ok=True)
        np.save(
            os.path.join(a.raw_dir, f"lat-{rate}.npy"),
            np.array(
                [(i, commits[i], ev.get(i, (np.nan,))[0], pr.get(i, (np.nan,))[0]) for i in ids]
            ),
        )
        shutil.copy(os.path.join(work, f"forwarder-lat-{rate}.log"), a.raw_dir)
    ct = sorted(commits.values())
    res = dict(
        rate=rate,
        n=n,
        achieved=n / elapsed,
        achieved_pg=(n - 1) / (ct[-1] - ct[0]) if len(ct) > 1 else float("nan"),
        late_max_ms=late_max * 1000,
        late=late,
        ev=pct(ev_ms),
        pr=pct(pr_ms),
        ev_missing=n - len(ev_ms),
        pr_missing=n - len(pr_ms),
        ev_dups=sum(ev[i][1] - 1 for i in ids if i in ev),
        cpu_per_1000=cpu / total * 1000,
        cpu=cpu,
        hwm_mb=hwm / 1024,
        invocations=sum(p.invocations for p in pollers),
        poller_errors=sum(len(p.errors) for p in pollers),
        drain_s=drain_s,
    )
    log(f"(a) {rate}/s: {json.dumps(res)}")
    return res, first_id + total


# -- (b) ---------------------------------------------------------------------------------------


def start_proxy(a, upstream, work, tag):
    """tests/forwarder/fault_proxy.py on --proxy-port: no faults, --delay-ms before each
    PutRecords; (process, stats file)."""
    pf, sf = os.path.join(work, f"proxy-{tag}.port"), os.path.join(work, f"proxy-{tag}.stats")
    proxy = subprocess.Popen(
        [
            sys.executable,
            PROXY,
            "--upstream",
            upstream,
            "--port",
            str(a.proxy_port),
            "--port-file",
            pf,
            "--stats-file",
            sf,
            "--fail-rate",
            "0",
            "--reject-rate",
            "0",
            "--delay-ms",
            str(a.delay_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "proxy.log"), "ab"),
    )
    wait_until(lambda: os.path.exists(pf), 30, "the proxy")
    return proxy, sf


def throughput(a, kin, aws, dsn, trips, first_id, work):
    configs = [
        (target, inflight, rep)
        for rep in range(a.repeats)
        for target in ("moto", "proxy")
        for inflight in a.inflight
    ]
    name = {c: f"thr_{c[0]}_{c[1]}_{c[2]}" for c in configs}
    with psycopg.connect(dsn, autocommit=True) as c:
        for cfg in configs:
            c.execute(
                "SELECT pg_create_logical_replication_slot(%s, 'taxi_duration')", (name[cfg],)
            )
    n = a.preload
    with psycopg.connect(dsn) as c:
        for k in range(0, n, 5000):
            ids, pu, do, dist, pick = rows(trips, first_id + k, min(5000, n - k))
            with c.cursor().copy(
                "COPY trips (ride_id, pulocationid, dolocationid, trip_distance,"
                " lpep_pickup_datetime) FROM STDIN"
            ) as cp:
                for r in zip(ids, pu, do, dist, pick, strict=True):
                    cp.write_row(r)
            c.commit()
    log(f"(b) preloaded {n} trips")
    out = []
    for cfg in configs:
        target, inflight, rep = cfg
        slot = stream = name[cfg]
        make_stream(kin, stream)
        fenv = dict(
            os.environ,
            TD_FORWARDER_DSN=dsn,
            TD_SLOT=slot,
            TD_TRIPS_STREAM=stream,
            TD_INFLIGHT=str(inflight),
            TD_POLL_MS="50",
            **aws,
        )
        fenv.pop("AWS_ENDPOINT_URL_S3", None)
        fwd = proxy = None
        try:
            if target == "proxy":
                proxy, stats_file = start_proxy(a, aws["AWS_ENDPOINT_URL"], work, stream)
                fenv["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{a.proxy_port}"
            t0 = time.monotonic()
            fwd = subprocess.Popen(
                [FORWARDER],
                env=fenv,
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(work, f"forwarder-{stream}.log"), "ab"),
            )
            with psycopg.connect(dsn, autocommit=True) as c:
                wait_until(
                    lambda c=c, slot=slot: records_sent(c, slot) >= n,
                    600,
                    f"{n} records sent ({slot})",
                )
            secs = time.monotonic() - t0
        finally:
            stop_proc(fwd)
            stop_proc(proxy)
        stats = None
        if proxy is not None:
            with open(stats_file) as f:
                stats = json.load(f)
        ev = arrivals(kin, stream, lambda d: d["ride_id"])
        complete = all(i in ev for i in range(first_id, first_id + n))
        kin.delete_stream(StreamName=stream)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        out.append(
            dict(
                target=target, inflight=inflight, rep=rep, secs=secs, complete=complete, proxy=stats
            )
        )
        log(
            f"(b) {stream}: {n} in {secs:.2f} s = {n / secs:.0f}/s, all in stream: {complete}"
            f" proxy {stats}"
        )
    return out


# -- main --------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--rie", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--rates", default=os.environ.get("STREAM_RATES", "500,2000,5000"))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("STREAM_SECONDS", 60)))
    ap.add_argument("--preload", type=int, default=int(os.environ.get("STREAM_PRELOAD", 100000)))
    ap.add_argument("--inflight", default=os.environ.get("STREAM_INFLIGHT", "1,2,4"))
    ap.add_argument("--delay-ms", type=float, default=float(os.environ.get("STREAM_DELAY_MS", 20)))
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("STREAM_REPEATS", 3)))
    ap.add_argument("--raw-dir", default=os.environ.get("STREAM_RAW_DIR"))
    ap.add_argument("--lambdas", type=int, default=int(os.environ.get("STREAM_LAMBDAS", SHARDS)))
    ap.add_argument("--parts", default=os.environ.get("STREAM_PARTS", "a,b"))
    ap.add_argument("--pg-port", type=int, default=55600)
    ap.add_argument("--moto-port", type=int, default=55601)
    ap.add_argument("--proxy-port", type=int, default=55602)
    ap.add_argument("--command", default="bash bench/bench_streaming.sh")
    a = ap.parse_args()
    a.rates = [int(x) for x in a.rates.replace(",", " ").split()]
    a.inflight = [int(x) for x in a.inflight.replace(",", " ").split()]
    a.rie, a.bootstrap = os.path.abspath(a.rie), os.path.abspath(a.bootstrap)
    parts = set(a.parts.replace(",", " ").split())
    os.environ.setdefault("TAXI_DATA_DIR", "/work/shared/data")
    trips = load_trips()

    pgdir = os.path.join(a.work, "pg-lat")
    servers = Servers(os.path.join(a.work, "servers-lat"), auth=True, mlflow=False)
    servers.moto_port = a.moto_port
    lat, thr = [], []
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
        cluster(
            "start",
            pgdir,
            a.pg_port,
            "shared_preload_libraries = 'taxi_duration'\nwal_level = logical\n"
            "track_commit_timestamp = on\nmax_replication_slots = 32\nmax_wal_senders = 16\n"
            "output_plugin_libraries = 'pgoutput, test_decoding, taxi_duration'",
        )
        dsn = f"host={pgdir} port={a.pg_port} dbname=postgres user=postgres"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE EXTENSION taxi_duration")
            c.execute(
                "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid int,"
                " dolocationid int, trip_distance float8, lpep_pickup_datetime timestamp)"
            )
        next_id = 1
        if "a" in parts:
            for rate in a.rates:
                res, next_id = steady(a, kin, aws, dsn, trips, rate, next_id, a.work)
                lat.append(res)
        if "b" in parts:
            thr = throughput(a, kin, aws, dsn, trips, next_id, a.work)
    finally:
        cluster("stop", pgdir)
        servers.stop()

    print(report(a, lat, thr))
    return 0


def report(a, lat, thr):
    out = [
        f"\n## Streaming latency and throughput — {time.strftime('%Y-%m-%d')} on "
        f"{os.cpu_count()} cores, {platform.machine()}\n",
        f"Command: `{a.command}`\n",
        "Everything on this one shared, noisy 2-core host: PostgreSQL, moto (SigV4 checking on,"
        " `tests/lib/moto_server.py`), the forwarder, the inserting process, aws-lambda-rie with the"
        " C Lambda, the event-source-mapping stand-in (`tests/lib/esm_poller.py`) and the proxy"
        " compete for the same two cores, and moto (Python) is usually the busiest of them. Read"
        " the figures as this pipeline's behaviour on this host, and the throughput ratios as the"
        " figure that carries over; absolute numbers are no promise for real Kinesis. Streams of"
        f" {SHARDS} shards. `bench/bench_stream_latency.py`'s docstring says exactly what is"
        " measured.\n",
    ]
    if lat:
        out.append(
            f"**(a) Steady load**: real trips of 2021-01/02 (cycled, fresh ride ids), one"
            f" transaction every 10 ms (rate/100 rows, `INSERT ... SELECT FROM unnest(...)`) on an"
            f" absolute schedule for {a.seconds:g} s per rate after a {WARMUP_S:g} s warm-up;"
            " commit time `pg_xact_commit_timestamp(xmin)` (track_commit_timestamp = on);"
            " arrival time the record's `ApproximateArrivalTimestamp` from moto (millisecond"
            " precision, truncated). Forwarder with the default TD_INFLIGHT (4).\n"
        )
        out.append(
            "| target trips/s | achieved trips/s (inserter; from commit times) | trips |"
            " commit → trip event in Kinesis p50 / p99 / max | commit → prediction p50 / p99 / max"
            " | forwarder CPU s per 1,000 events | forwarder peak RSS |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for r in lat:
            out.append(
                f"| {r['rate']:,} | {r['achieved']:,.0f}; {r['achieved_pg']:,.0f} | {r['n']:,} |"
                f" {r['ev'][0]:.0f} / {r['ev'][1]:.0f} / {r['ev'][2]:.0f} ms"
                f" | {r['pr'][0]:.0f} / {r['pr'][1]:.0f} / {r['pr'][2]:.0f} ms"
                f" | {r['cpu_per_1000']:.3f} s | {r['hwm_mb']:.1f} MB |"
            )
        out.append("")
        notes = []
        for r in lat:
            notes.append(
                f"{r['rate']:,}/s: inserter tick at most {r['late_max_ms']:.0f} ms late"
                f" ({r['late']} ticks more than 10 ms late); {r['invocations']} Lambda invocations;"
                f" missing events {r['ev_missing']}, missing predictions {r['pr_missing']},"
                f" duplicate events {r['ev_dups']}, poller errors {r['poller_errors']};"
                f" forwarder CPU {r['cpu']:.2f} s in all."
            )
        out.append("Per rate: " + " ".join(notes) + "\n")
    if thr:
        n = a.preload
        out.append(
            f"**(b) Maximum sustained throughput**: {n:,} trips COPYed (transactions of 5,000)"
            " before the forwarder starts, each configuration on its own slot and its own stream,"
            " timed from the forwarder's start until `forwarder_status.records_sent` reached"
            f' {n:,} (TD_POLL_MS=50); "+{a.delay_ms:g} ms" is moto behind'
            f" `tests/forwarder/fault_proxy.py --delay-ms {a.delay_ms:g}` (no faults injected),"
            " a stand-in for the round trip to a distant endpoint. All configurations in the"
            f" order of the table, {a.repeats} time(s): the median and (in brackets) the best"
            " run of each.\n"
        )
        out.append(
            "| endpoint | TD_INFLIGHT | seconds | records/s | ratio to TD_INFLIGHT=1 (best) |"
            " every ride id in the stream | PutRecords calls (records per call); most calls"
            " at once at the proxy |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for target in ("moto", "proxy"):
            base = None
            for inflight in a.inflight:
                rs = [r for r in thr if r["target"] == target and r["inflight"] == inflight]
                secs = float(np.median([r["secs"] for r in rs]))
                best = min(r["secs"] for r in rs)
                if base is None:
                    base, base_best = secs, best
                label = "moto" if target == "moto" else f"moto +{a.delay_ms:g} ms (proxy)"
                px = rs[0]["proxy"]
                calls = (
                    f"{px['calls']} ({px['records'] / max(px['calls'], 1):.0f});"
                    f" {max(r['proxy']['max_in_flight'] for r in rs)}"
                    if px
                    else "–"
                )
                out.append(
                    f"| {label} | {inflight} | {secs:.2f} ({best:.2f}) | {n / secs:,.0f}"
                    f" ({n / best:,.0f}) | **{base / secs:.2f} x** ({base_best / best:.2f} x) |"
                    f" {all(r['complete'] for r in rs)} | {calls} |"
                )
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
