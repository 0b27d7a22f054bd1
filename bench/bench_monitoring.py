"""Benchmark: drift_report() in PostgreSQL against Evidently 0.7.23 on 10 M + 10 M rows.

    bash bench/bench_monitoring.sh              (ROWS=200000 bash bench/bench_monitoring.sh: smoke run)

bench_monitoring.sh runs the phases of this script one after the other (never two at a time):

  generate  --work DIR --rows N         the two windows, written once (parquet + CSV)
  load      --work DIR --dsn DSN        tables bench_ref / bench_cur from the CSVs, VACUUM ANALYZE
  sql       --work DIR --dsn DSN ...    drift_report() with 2 parallel workers, then serially
  evidently --work DIR ...              tests/monitoring/evidently_report.py on the parquet files
  report    --work DIR                  compare.py on both reports; prints the Markdown section

Data.  The reference is TLC green 2023-01 (68,211 trips) and the current 2023-02 (64,809), each
replicated to N rows (row i is trip i mod n of its month), with the columns of make_datasets.py's
real pairs: VendorID, passenger_count, payment_type, RatecodeID, trip_type, store_and_fwd_flag,
PULocationID, DOLocationID, trip_distance, fare_amount, tip_amount, total_amount,
congestion_surcharge, duration (target, minutes) and prediction, with the pandas dtypes the month's
parquet has (int64 ids in 2023-01, int32 in 2023-02, float64 for the columns with NULLs, a string
flag).  Each copy is jittered with a fixed seed, at the column's real resolution:

  * trip_distance: +-0.01 mi (whole hundredths, as the meters report it);
  * fare_amount, tip_amount, total_amount: +-1 to 3 cents (whole cents);
  * duration: the trip's length in whole seconds +-1 to 5 s, divided by 60 as make_datasets does;
  * a value that was 0 stays 0 (no-tip, zero-distance, zero-duration trips are real categories)
    and none changes sign (nothing becomes negative that was not);
  * ids, counts, codes, the flag and congestion_surcharge (a fixed fee) are copied unchanged;
  * prediction = 2 + 3.2 * trip_distance + N(0, 3), make_datasets.synthetic_prediction's formula
    on the jittered distance with fresh noise per row.

Why jitter and why this way: the SQL aggregates keep an exact count per distinct value, so their
memory is O(distinct values), not O(rows).  Copying the month 147 times would leave that at one
month's cardinality; random noise on every value would blow it up to O(rows), which no real table
of cents and hundredths of miles has.  Jitter at the real resolution keeps each column's distinct
count close to what 10 M real trips show (a few thousand amounts, distances and durations), keeps
the distributions (so the drift verdicts are those of the real months), and keeps values
realistic.  The prediction is the one column whose distinct count grows with the rows (about one
per row), as a regression model's floating-point output does in a real table; it dominates the
SQL side's memory.

Identical input: each window is generated once (numpy, vectorised) as one Arrow table, written as
parquet for Evidently and as CSV (Arrow's shortest round-trip float text; NULL as an empty field)
for a server-side COPY; the CSV is read back and compared with the table, and after the load every
column's count, min and max in PostgreSQL are compared with the table's.  Column types follow
make_datasets.py's dtype -> PostgreSQL map (create_table_sql).

SQL: one connection; per mode (2 workers, then max_parallel_workers_per_gather = 0) one warm-up
run under auto_explain (log_analyze, no timing; the plan's "Workers Launched" is read from the
server log) and two timed runs of ``SELECT taxi_duration.drift_report('bench_ref', 'bench_cur',
NULL, 'prediction', 'duration')``.  Memory, sampled every 50 ms during each timed run: the sum of
RssAnon (private anonymous memory: what palloc/malloc use; shared buffers are not in it) of the
backend and of every "parallel worker for PID <backend>" process; and the backend's VmHWM growth
during the run (VmHWM reset through /proc/PID/clear_refs before each run, so it is this run's
peak; the backend has already mapped the shared buffers it scans in the warm-up, so the growth is
its private memory).

Evidently: evidently_report.py (drift Report.run + regression Report.run, as the parity tests run
it) in the Evidently venv, with a wall-clock cap and an RSS cap (its RSS is sampled every 100 ms;
the process is killed above the cap, which is recorded as the result).  Its own JSON gives
Report.run seconds and ru_maxrss; the whole process is timed from spawn to exit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MON = REPO / "tests" / "monitoring"
sys.path.insert(0, str(MON))

from make_datasets import REAL_COLUMNS as COLUMNS  # noqa: E402  (the parity test's columns)

WINDOWS = {"reference": ("2023-01", "bench_ref"), "current": ("2023-02", "bench_cur")}
SEED = 20230101
QUERY = (
    "SELECT taxi_duration.drift_report('bench_ref', 'bench_cur', NULL, 'prediction', 'duration')"
)
# the same report with the current set given as a query that casts its columns to the reference's
# types (2023-02's int32 ids -> bigint); see "Plans" in the module docstring
ALIGNED = "SELECT taxi_duration.drift_report('bench_ref', %s, NULL, 'prediction', 'duration')"
EVIDENTLY_PY = "/opt/td-evidently-venv/bin/python"


def data_dir() -> Path:
    env = os.environ.get("TAXI_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def wjson(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n")


def rjson(path: Path):
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------------


def _jitter_hundredths(x, rng, kmax: int):
    """x rounded to whole hundredths, +-1..kmax hundredths (k = 0 allowed); 0 stays 0, no sign change."""
    import numpy as np

    k = rng.integers(-kmax, kmax + 1, len(x))
    y = (np.rint(x * 100.0) + k) / 100.0
    y = np.where(x > 0, np.maximum(y, 0.0), np.where(x < 0, np.minimum(y, 0.0), x))
    return y


def build_window(month: str, rows: int, seed: int):
    """One window as an Arrow table (see the module docstring)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pq.read_table(data_dir() / f"green_tripdata_{month}.parquet")
    n = raw.num_rows
    idx = pa.array(np.arange(rows, dtype=np.int64) % n)
    rng = np.random.default_rng([seed, int(month.replace("-", ""))])
    cols = {}
    for c in COLUMNS:
        col = raw.column(c)
        if pa.types.is_integer(col.type) and col.null_count:
            col = col.cast(pa.float64())  # what pandas reads it as (2023-02 stores these as int64)
        cols[c] = col.take(idx)
    for c, kmax in (
        ("trip_distance", 1),
        ("fare_amount", 3),
        ("tip_amount", 3),
        ("total_amount", 3),
    ):
        x = cols[c].to_numpy()
        cols[c] = pa.array(_jitter_hundredths(x, rng, kmax), type=pa.float64())
    pick = raw.column("lpep_pickup_datetime").cast(pa.int64()).to_numpy()
    drop = raw.column("lpep_dropoff_datetime").cast(pa.int64()).to_numpy()
    unit = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[
        raw.schema.field("lpep_pickup_datetime").type.unit
    ]
    secs = ((drop - pick) / unit)[np.asarray(idx)]
    k = rng.integers(-5, 6, rows)
    secs = np.where(
        secs > 0,
        np.maximum(np.rint(secs) + k, 0.0),
        np.where(secs < 0, np.minimum(np.rint(secs) + k, 0.0), secs),
    )
    cols["duration"] = pa.array(secs / 60.0, type=pa.float64())
    dist = cols["trip_distance"].to_numpy()
    cols["prediction"] = pa.array(2.0 + 3.2 * dist + rng.normal(0.0, 3.0, rows), type=pa.float64())
    table = pa.table(cols)
    return table.replace_schema_metadata(None), n


def cmd_generate(args) -> int:
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    work = Path(args.work)
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    meta_path = data / "meta.json"
    key = {"rows": args.rows, "seed": SEED, "script_mtime": os.path.getmtime(__file__)}
    if meta_path.exists() and rjson(meta_path).get("key") == key:
        print(f"generate: reusing {data}", file=sys.stderr)
        return 0
    t0 = time.perf_counter()
    meta = {"key": key, "windows": {}}
    for role, (month, table_name) in WINDOWS.items():
        t = time.perf_counter()
        table, n_month = build_window(month, args.rows, SEED)
        pq.write_table(table, data / f"{role}.parquet")
        # pandas must read the same dtypes from it as from the month's own file
        import pandas as pd

        want = pd.read_parquet(
            data_dir() / f"green_tripdata_{month}.parquet", columns=COLUMNS
        ).dtypes
        got = pd.read_parquet(data / f"{role}.parquet", columns=COLUMNS).dtypes
        if not want.equals(got):
            raise SystemExit(f"generate: {role} dtypes {dict(got)} != the month's {dict(want)}")
        pcsv.write_csv(table, data / f"{role}.csv")
        # the CSV must hold exactly the table's values (NULLs included)
        back = pcsv.read_csv(
            data / f"{role}.csv",
            convert_options=pcsv.ConvertOptions(
                column_types=table.schema,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )  # PostgreSQL's CSV NULL rule
        if not back.equals(table):
            raise SystemExit(f"generate: {role}.csv does not read back as the table")
        del back
        stats = {}
        for c in table.column_names:
            col = table.column(c)
            s = {
                "count": col.length() - col.null_count,
                "distinct": pc.count_distinct(col).as_py(),
                "type": str(col.type),
            }
            if c != "store_and_fwd_flag":
                mm = pc.min_max(col).as_py()
                s.update({"min": mm["min"], "max": mm["max"]})
            stats[c] = s
        meta["windows"][role] = {
            "month": month,
            "table": table_name,
            "rows": table.num_rows,
            "month_rows": n_month,
            "columns": stats,
            "seconds": time.perf_counter() - t,
        }
        print(
            f"generate: {role} {month} x {table.num_rows / n_month:.1f} = {table.num_rows:,} rows"
            f" ({time.perf_counter() - t:.1f} s)",
            file=sys.stderr,
        )
        del table
    meta["seconds"] = time.perf_counter() - t0
    cfg = {
        "columns": {
            c: {"type": None, "stattest": None, "threshold": None}
            for c in COLUMNS + ["duration", "prediction"]
        },
        "prediction": "prediction",
        "target": "duration",
        "drift_share": 0.5,
        "description": "bench_monitoring: 2023-01 (reference) vs 2023-02 (current), replicated + jittered",
    }
    wjson(data / "config.json", cfg)
    wjson(meta_path, meta)
    return 0


# --------------------------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------------------------


def cmd_load(args) -> int:
    import psycopg
    import pyarrow.parquet as pq
    from make_datasets import create_table_sql, quote_ident

    work = Path(args.work)
    data = work / "data"
    meta = rjson(data / "meta.json")
    t0 = time.perf_counter()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for role, w in meta["windows"].items():
            table = w["table"]
            empty = pq.read_schema(data / f"{role}.parquet").empty_table().to_pandas()
            cols = ", ".join(quote_ident(c) for c in empty.columns)
            t = time.perf_counter()
            with conn.transaction():
                conn.execute(f"DROP TABLE IF EXISTS {quote_ident(table)}")
                conn.execute(create_table_sql(table, empty))
                conn.execute(
                    f"COPY {quote_ident(table)} ({cols}) FROM "
                    f"'{(data / f'{role}.csv').resolve()}' WITH (FORMAT csv, HEADER true, FREEZE true)"
                )
            print(
                f"load: {table} {w['rows']:,} rows ({time.perf_counter() - t:.1f} s)",
                file=sys.stderr,
            )
            # identical data: count, min, max of every column against the Arrow table's
            exprs = []
            for c in empty.columns:
                q = quote_ident(c)
                exprs.append(f"count({q})")
                if c != "store_and_fwd_flag":
                    exprs += [f"min({q})::float8", f"max({q})::float8"]
            row = conn.execute(
                f"SELECT count(*), {', '.join(exprs)} FROM {quote_ident(table)}"
            ).fetchone()
            if row[0] != w["rows"]:
                raise SystemExit(f"load: {table} has {row[0]} rows, want {w['rows']}")
            vals = iter(row[1:])
            for c in empty.columns:
                s = w["columns"][c]
                got = {"count": next(vals)}
                if c != "store_and_fwd_flag":
                    got.update({"min": next(vals), "max": next(vals)})
                want = {
                    k: (float(v) if k in ("min", "max") else v) for k, v in s.items() if k in got
                }
                if got != want:
                    raise SystemExit(f"load: {table}.{c}: PostgreSQL {got} != generated {want}")
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE bench_ref")
        conn.execute("VACUUM ANALYZE bench_cur")
        sizes = conn.execute(
            "SELECT pg_total_relation_size('bench_ref'), pg_total_relation_size('bench_cur')"
        ).fetchone()
        print(f"load: VACUUM ANALYZE ({time.perf_counter() - t:.1f} s)", file=sys.stderr)
    wjson(work / "load.json", {"seconds": time.perf_counter() - t0, "table_bytes": list(sizes)})
    return 0


# --------------------------------------------------------------------------------------------
# sql
# --------------------------------------------------------------------------------------------


def _status_kb(pid: int, keys=("RssAnon", "VmHWM", "VmRSS")) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


class PgMemorySampler:
    """Every `interval` s: RssAnon of the backend + each of its parallel workers; peak of the sum."""

    def __init__(self, postmaster: int, backend: int, interval: float = 0.05):
        self.postmaster, self.backend, self.interval = postmaster, backend, interval
        self.tag = f"parallel worker for PID {backend}".encode()
        self.peak_sum_kb = 0
        self.peak_backend_kb = 0
        self.peak_workers_kb = 0
        self.workers: set[int] = set()
        self.samples = 0
        self.max_concurrent_workers = 0
        self._known: dict[int, bool] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _is_worker(self, pid: int) -> bool:
        if pid not in self._known:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    self._known[pid] = self.tag in f.read()
            except (FileNotFoundError, ProcessLookupError):
                return False
        return self._known[pid]

    def sample(self) -> None:
        backend = _status_kb(self.backend).get("RssAnon", 0)
        workers = 0
        live = 0
        for pid in _children(self.postmaster):
            if pid != self.backend and self._is_worker(pid):
                kb = _status_kb(pid).get("RssAnon")
                if kb is not None:
                    workers += kb
                    live += 1
                    self.workers.add(pid)
        self.samples += 1
        self.max_concurrent_workers = max(self.max_concurrent_workers, live)
        self.peak_backend_kb = max(self.peak_backend_kb, backend)
        self.peak_workers_kb = max(self.peak_workers_kb, workers)
        self.peak_sum_kb = max(self.peak_sum_kb, backend + workers)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def timed_run(conn, postmaster: int, query: str, params=()) -> dict:
    backend = conn.info.backend_pid
    with open(f"/proc/{backend}/clear_refs", "w") as f:  # VmHWM := VmRSS
        f.write("5")
    base = _status_kb(backend)
    with PgMemorySampler(postmaster, backend) as sampler:
        t0 = time.perf_counter()
        report = conn.execute(query, params).fetchone()[0]
        seconds = time.perf_counter() - t0
    after = _status_kb(backend)
    return {
        "seconds": seconds,
        "report": report,
        "peak_rss_anon_sum_mb": sampler.peak_sum_kb / 1024,
        "peak_backend_rss_anon_mb": sampler.peak_backend_kb / 1024,
        "peak_workers_rss_anon_mb": sampler.peak_workers_kb / 1024,
        "backend_rss_anon_before_mb": base.get("RssAnon", 0) / 1024,
        "backend_vmhwm_growth_mb": (after.get("VmHWM", 0) - base.get("VmRSS", 0)) / 1024,
        "worker_pids_seen": len(sampler.workers),
        "max_concurrent_workers": sampler.max_concurrent_workers,
        "samples": sampler.samples,
    }


def explain_warmup(conn, log_path: Path, query: str, params=()) -> dict:
    """One untimed run under auto_explain (analyze, no timing); its plan from the server log."""
    start = log_path.stat().st_size
    for s in (
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_analyze = on",
        "auto_explain.log_timing = off",
        "auto_explain.log_nested_statements = on",
        "auto_explain.log_verbose = off",
    ):
        conn.execute("SET " + s)
    t0 = time.perf_counter()
    conn.execute(query, params).fetchone()
    seconds = time.perf_counter() - t0
    conn.execute("SET auto_explain.log_min_duration = -1")
    time.sleep(0.5)
    with open(log_path, "rb") as f:
        f.seek(start)
        log = f.read().decode("utf-8", "replace")
    # the plan of the report's aggregate query (the one that scans both tables)
    plans = re.split(r"\n(?=\S.*LOG:\s+duration:)", log)
    plan = next(
        (p for p in plans if "Seq Scan on bench_ref" in p or "Seq Scan on bench_cur" in p), ""
    )
    planned = [int(x) for x in re.findall(r"Workers Planned: (\d+)", plan)]
    launched = [int(x) for x in re.findall(r"Workers Launched: (\d+)", plan)]
    nodes = [
        line.strip().removeprefix("->").strip().split("  (")[0]
        for line in plan.splitlines()
        if re.search(r"Aggregate|Gather|Append|Scan on", line)
    ]
    return {
        "seconds": seconds,
        "workers_planned": planned,
        "workers_launched": launched,
        "jit": "JIT:" in plan,
        "plan_nodes": nodes[:12],
        "plan": plan[-6000:],
    }


def aligned_current(conn) -> str:
    """SELECT of bench_cur with each column whose type differs from bench_ref's cast to that type."""
    from make_datasets import quote_ident

    rows = conn.execute(
        "SELECT c.attname, format_type(c.atttypid, c.atttypmod), format_type(r.atttypid, r.atttypmod)"
        " FROM pg_attribute c JOIN pg_attribute r ON r.attrelid = 'bench_ref'::regclass"
        "  AND r.attname = c.attname AND r.attnum > 0 AND NOT r.attisdropped"
        " WHERE c.attrelid = 'bench_cur'::regclass AND c.attnum > 0 AND NOT c.attisdropped"
        " ORDER BY c.attnum"
    ).fetchall()
    cols = [
        quote_ident(n) if tc == tr else f"{quote_ident(n)}::{tr} AS {quote_ident(n)}"
        for n, tc, tr in rows
    ]
    return f"SELECT {', '.join(cols)} FROM bench_cur"


MODES = {
    # name: (label, max_parallel_workers_per_gather, aligned current?)
    "tables_parallel": (
        "`drift_report('bench_ref', 'bench_cur', ...)`, max_parallel_workers_per_gather = 2",
        2,
        False,
    ),
    "aligned_parallel": (
        "`drift_report('bench_ref', '<SELECT ... FROM bench_cur with int columns cast to bigint>', ...)`,"
        " max_parallel_workers_per_gather = 2",
        2,
        True,
    ),
    "tables_serial": (
        "`drift_report('bench_ref', 'bench_cur', ...)`, max_parallel_workers_per_gather = 0 (serial baseline)",
        0,
        False,
    ),
}


def cmd_sql(args) -> int:
    import psycopg

    work = Path(args.work)
    out = {"modes": {}}
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("LOAD 'auto_explain'")
        out["settings"] = dict(
            conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'max_worker_processes', 'max_parallel_workers',"
                " 'max_parallel_workers_per_gather', 'jit', 'server_version')"
            ).fetchall()
        )
        current = aligned_current(conn)
        out["aligned_current"] = current
        for mode in args.modes.split(","):
            label, gather, aligned = MODES[mode]
            query, params = (ALIGNED, (current,)) if aligned else (QUERY, ())
            conn.execute(f"SET max_parallel_workers_per_gather = {gather}")
            res = {
                "label": label,
                "max_parallel_workers_per_gather": gather,
                "aligned": aligned,
                "runs": [],
            }
            out["modes"][mode] = res
            try:
                res["warmup"] = explain_warmup(conn, Path(args.server_log), query, params)
                print(
                    f"sql: {mode} warm-up {res['warmup']['seconds']:.1f} s, workers planned"
                    f" {res['warmup']['workers_planned']} launched {res['warmup']['workers_launched']}",
                    file=sys.stderr,
                )
                for i in range(args.runs):
                    r = timed_run(conn, args.postmaster, query, params)
                    print(
                        f"sql: {mode} run {i + 1}: {r['seconds']:.2f} s, peak RssAnon sum"
                        f" {r['peak_rss_anon_sum_mb']:.0f} MB, {r['worker_pids_seen']} worker(s) seen",
                        file=sys.stderr,
                    )
                    report = r.pop("report")
                    res["runs"].append(r)
                wjson(work / f"sql_{mode}_report.json", report)
            except psycopg.Error as e:
                res["error"] = (
                    f"{e.sqlstate}: {e.diag.message_primary} {e.diag.message_detail or ''}".strip()
                )
                print(f"sql: {mode} failed: {res['error']}", file=sys.stderr)
                conn.execute("SET auto_explain.log_min_duration = -1")
        # where the time goes: the one column with a distinct value per row, and the rest; one run each
        if args.breakdown:
            cols14 = COLUMNS + ["duration"]
            pred_q = (
                "WITH b AS (SELECT prediction, true AS r FROM bench_ref UNION ALL"
                " SELECT prediction, false FROM bench_cur)"
                ' SELECT taxi_duration.column_drift(prediction, r, \'{"kind": "float"}\') FROM b'
            )
            rest_q = "SELECT taxi_duration.drift_report('bench_ref', %s, %s)"
            out["breakdown"] = {}
            for name, query, params in (
                ("prediction column only (`column_drift()` over both tables)", pred_q, ()),
                (
                    "the 14 other columns (`drift_report()`, aligned current, no regression)",
                    rest_q,
                    (current, cols14),
                ),
            ):
                row = out["breakdown"][name] = {}
                for gather in (args.breakdown_workers, 0):
                    conn.execute(f"SET max_parallel_workers_per_gather = {gather}")
                    try:
                        r = timed_run(conn, args.postmaster, query, params)
                        r.pop("report")
                        row[str(gather)] = r
                        print(
                            f"sql: breakdown {name[:30]}... workers {gather}: {r['seconds']:.2f} s,"
                            f" {r['worker_pids_seen']} worker(s) seen",
                            file=sys.stderr,
                        )
                    except psycopg.Error as e:
                        row[str(gather)] = {"error": f"{e.sqlstate}: {e.diag.message_primary}"}
    wjson(work / "sql.json", out)
    return 0


# --------------------------------------------------------------------------------------------
# evidently
# --------------------------------------------------------------------------------------------


def cmd_evidently(args) -> int:
    work = Path(args.work)
    data = work / "data"
    out_json = work / "evidently_report.json"
    if out_json.exists():
        out_json.unlink()
    with open("/proc/meminfo") as f:
        avail_kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    cap_mb = args.mem_cap_mb or int(min(0.9 * avail_kb / 1024, 20 * 1024))
    cmd = [
        EVIDENTLY_PY,
        str(MON / "evidently_report.py"),
        "--reference",
        str(data / "reference.parquet"),
        "--current",
        str(data / "current.parquet"),
        "--config",
        str(data / "config.json"),
        "--out",
        str(out_json),
    ]
    stderr_path = work / "evidently.stderr"
    t0 = time.perf_counter()
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    killed = None
    peak_kb = 0
    while True:
        pid_done, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid_done:
            break
        peak_kb = max(peak_kb, _status_kb(proc.pid).get("VmRSS", 0))
        elapsed = time.perf_counter() - t0
        if killed is None and peak_kb > cap_mb * 1024:
            killed = f"RSS above the {cap_mb} MB cap after {elapsed:.0f} s"
        elif killed is None and elapsed > args.timeout:
            killed = f"over the {args.timeout:.0f} s time cap"
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    res = {
        "wall_seconds": wall,
        "exit_status": os.waitstatus_to_exitcode(status),
        "killed": killed,
        "cap_mb": cap_mb,
        "timeout_s": args.timeout,
        "ru_maxrss_mb": rusage.ru_maxrss / 1024,
        "sampled_peak_rss_mb": peak_kb / 1024,
        "stderr_tail": stderr_path.read_text(errors="replace")[-2000:],
    }
    if out_json.exists():
        ev = rjson(out_json)
        res["seconds"] = ev.get("seconds")
        res["peak_rss_mb"] = ev.get("peak_rss_mb")
        res["rss_after_import_mb"] = ev.get("rss_after_import_mb")
        res["error"] = ev.get("error")
    wjson(work / "evidently.json", res)
    print(
        f"evidently: exit {res['exit_status']}, {wall:.1f} s, ru_maxrss {res['ru_maxrss_mb']:.0f} MB"
        + (f", killed: {killed}" if killed else ""),
        file=sys.stderr,
    )
    return 0


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def _mb(x: float) -> str:
    return f"{x:,.0f} MB"


def _summary(mode: dict) -> dict | None:
    if not mode.get("runs"):
        return None
    runs = mode["runs"]
    secs = [r["seconds"] for r in runs]
    return {
        "best": min(secs),
        "median": statistics.median(secs),
        "all": secs,
        "mem": max(r["peak_rss_anon_sum_mb"] for r in runs),
        "hwm": max(r["backend_vmhwm_growth_mb"] for r in runs),
        "backend": max(r["peak_backend_rss_anon_mb"] for r in runs),
        "workers_mem": max(r["peak_workers_rss_anon_mb"] for r in runs),
        "workers_seen": [r["worker_pids_seen"] for r in runs],
        "launched": (mode.get("warmup") or {}).get("workers_launched") or [0],
    }


def cmd_report(args) -> int:
    from compare import compare, format_table

    work = Path(args.work)
    meta = rjson(work / "data" / "meta.json")
    load = rjson(work / "load.json")
    sql = rjson(work / "sql.json")
    ev = rjson(work / "evidently.json")
    ref_w, cur_w = meta["windows"]["reference"], meta["windows"]["current"]
    modes = sql["modes"]
    sums = {m: _summary(v) for m, v in modes.items()}

    # Evidently's figures
    ev_secs = ev.get("seconds") or {}
    finished = (
        ev_secs.get("drift_report_run") is not None
        and not ev.get("killed")
        and ev["exit_status"] == 0
        and not ev.get("error")
    )
    ev_run = ev_secs.get("report_run") if finished else None
    ev_wall = ev["wall_seconds"]
    ev_rss = ev.get("peak_rss_mb") or ev["ru_maxrss_mb"]

    # verdicts: the first SQL mode that produced a report against Evidently; every other SQL
    # report against that one
    reports = {
        m: rjson(work / f"sql_{m}_report.json")
        for m in modes
        if (work / f"sql_{m}_report.json").exists()
    }
    primary = next(iter(reports), None)
    mismatches, notes = [], []
    if finished and primary:
        evr = rjson(work / "evidently_report.json")
        mismatches = compare(reports[primary], evr, notes)
        (work / "compare.txt").write_text(format_table(reports[primary], evr) + "\n")
    between = {m: compare(r, reports[primary]) for m, r in reports.items() if m != primary}

    def ratio(a, b):
        return f"{a / b:.3f} x" if a is not None and b else "-"

    lines = [
        f"{ref_w['rows'] / 1e6:g} M + {cur_w['rows'] / 1e6:g} M rows: TLC green 2023-01 (reference,"
        f" {ref_w['month_rows']:,} trips) and 2023-02 (current, {cur_w['month_rows']:,}) each replicated"
        f" x {ref_w['rows'] / ref_w['month_rows']:.1f} / x {cur_w['rows'] / cur_w['month_rows']:.1f}"
        " with jitter at the columns' real resolution (fixed seed; the docstring of"
        " `bench/bench_monitoring.py` says what and why), 15 columns (13 trip columns, `duration` target,"
        " synthetic `prediction`), pandas dtypes as read from the months' parquet (so 2023-01's ids are"
        " int64 → bigint and 2023-02's int32 → integer). Evidently and PostgreSQL read the same generated"
        " table (CSV read back and compared; count, min and max of every column checked after COPY).",
        "",
        "| run | time (best of 2; median) | peak memory | workers launched | time vs Evidently `Report.run` |"
        " memory vs Evidently |",
        "|---|---|---|---|---|---|",
    ]
    for m, v in modes.items():
        sm = sums[m]
        if sm is None:
            lines.append(f"| SQL {v['label']} | failed: {v.get('error', '?')} | | | | |")
            continue
        lines.append(
            f"| SQL {v['label']} | {_fmt_s(sm['best'])}; {_fmt_s(sm['median'])} | {_mb(sm['mem'])} |"
            f" {max(sm['launched'])} | {ratio(sm['best'], ev_run)} |"
            f" {ratio(sm['mem'], ev_rss) if finished else '-'} |"
        )
    if finished:
        lines.append(
            f"| Evidently 0.7.23 `Report.run`: drift {_fmt_s(ev_secs['drift_report_run'])}"
            f" + regression {_fmt_s(ev_secs.get('regression_report_run', 0.0))} | {_fmt_s(ev_run)} |"
            f" | | 1.000 x | |"
        )
        lines.append(
            f"| Evidently whole process: Python start to exit (import {_fmt_s(ev_secs.get('import', 0))},"
            f" parquet read {_fmt_s(ev_secs.get('load', 0))}, both reports) | {_fmt_s(ev_wall)} |"
            f" {_mb(ev_rss)} (ru_maxrss) | | {ratio(ev_wall, ev_run)} | 1.000 x |"
        )
    else:
        why = (
            ev.get("killed")
            or (ev.get("error") or {}).get("type")
            or f"exit status {ev['exit_status']}"
        )
        msg = (ev.get("error") or {}).get("message") or ""
        lines.append(
            f"| Evidently 0.7.23 (drift + regression) | did not finish: {why}"
            f"{(' — ' + msg[:200]) if msg else ''}; ended after {_fmt_s(ev_wall)} |"
            f" ≥ {_mb(max(ev['ru_maxrss_mb'], ev['sampled_peak_rss_mb']))} (ru_maxrss) | | | |"
        )
    lines.append("")
    if finished:
        for m, sm in sums.items():
            if sm:
                lines.append(
                    f"- {m}: Evidently's `Report.run` takes {ev_run / sm['best']:.1f} x as long"
                    f" ({ev_wall / sm['best']:.1f} x for its whole process) and its process peaks at"
                    f" {ev_rss / sm['mem']:.1f} x the memory."
                )
    ser = sums.get("tables_serial")
    for m in ("tables_parallel", "aligned_parallel"):
        if ser and sums.get(m):
            lines.append(f"- {m} / tables_serial: {sums[m]['best'] / ser['best']:.2f} x the time.")
    lines.append(
        "- all runs (s): "
        + "; ".join(
            f"{m} {', '.join(f'{x:.2f}' for x in sm['all'])}" for m, sm in sums.items() if sm
        )
        + "."
    )
    bd = sql.get("breakdown") or {}
    if bd:
        lines.append("")
        lines.append("Where the SQL time goes (one run each, right after the runs above):")
        lines.append("")
        lines.append(
            "| part | 2 workers | serial | 2 workers / serial | peak memory 2 workers / serial |"
        )
        lines.append("|---|---|---|---|---|")
        for name, row in bd.items():
            par, ser1 = row.get("2") or {}, row.get("0") or {}
            if "seconds" in par and "seconds" in ser1:
                lines.append(
                    f"| {name} | {_fmt_s(par['seconds'])} ({par['worker_pids_seen']} workers seen) |"
                    f" {_fmt_s(ser1['seconds'])} | {par['seconds'] / ser1['seconds']:.2f} x |"
                    f" {_mb(par['peak_rss_anon_sum_mb'])} / {_mb(ser1['peak_rss_anon_sum_mb'])} |"
                )
            else:
                lines.append(f"| {name} | {par.get('error', '')} | {ser1.get('error', '')} | | |")
    lines.append("")
    plan_bits = []
    for m, v in modes.items():
        w = v.get("warmup") or {}
        plan_bits.append(
            f"{m}: Workers Planned {w.get('workers_planned') or 'none'}, Launched"
            f" {w.get('workers_launched') or 'none'}, worker processes seen in the timed runs"
            f" {sums[m]['workers_seen'] if sums[m] else '-'}; plan "
            + " / ".join(w.get("plan_nodes") or [])
        )
    lines.append(
        "Plans (auto_explain, analyze without timing, on each mode's warm-up run; plus the memory"
        " sampler's count of parallel worker processes): " + ". ".join(plan_bits) + "."
    )
    tp = sums.get("tables_parallel")
    if tp and max(tp["launched"]) == 0:
        lines.append("")
        lines.append(
            "**Problem: `drift_report()` on these two tables gets no parallel plan.** Its query is"
            " `UNION ALL` of the two sets' raw columns; 2023-01's id columns are bigint and"
            " 2023-02's integer, so the branches' column types differ, the planner does not flatten"
            " the `UNION ALL` into an append relation (the current branch stays a Subquery Scan that"
            " casts), and without that there is no Partial Aggregate below a Gather: the plan is a"
            " plain Aggregate over a serial Append. Giving the current set as a query that casts"
            " those columns to bigint (aligned_parallel) gets Parallel Append + Partial Aggregate"
            " with both workers; casting every column to its value type (the `::double precision`"
            " / `::text` drift_report() already applies) inside both `UNION ALL` branches would fix"
            " it for every caller."
        )
    al, ser = sums.get("aligned_parallel"), sums.get("tables_serial")
    if al and ser and al["best"] > 0.9 * ser["best"]:
        lines.append("")
        parts = []
        for row in bd.values():
            a, b = (row.get("2") or {}).get("seconds"), (row.get("0") or {}).get("seconds")
            if a and b:
                parts.append(f"{a / b:.2f} x")
        split = (
            f" ({parts[1]} for the 14 other columns, {parts[0]} for `prediction`)"
            if len(parts) == 2
            else ""
        )
        lines.append(
            f"**Problem: with 2 workers the report is not faster than serial ({al['best'] / ser['best']:.2f} x the"
            f" time).** The breakdown above splits it{split}: the low-cardinality columns gain from the"
            " workers, the `prediction` column (one distinct value per row), which takes most of the time"
            " either way, loses. Every partial state, the leader's own included, is serialized into a"
            " bytea, deserialized by the leader into a new hash map (grown by doubling from the minimum"
            " size, although the serialized header carries the entry count) and then inserted entry by"
            " entry into the leader's map by `drift_combine`; the leader then sorts the merged map alone."
            " For a column whose distinct count is of the order of its row count this serial part"
            " outweighs what the workers save, and the copies cost memory (peak memory column)."
        )
    lines.append("")
    if finished and primary:
        evr = rjson(work / "evidently_report.json")
        if mismatches:
            lines.append(
                f"Verdicts: **{len(mismatches)} mismatch(es)** between `drift_report()` ({primary}) and"
                " Evidently (compare.py):"
            )
            lines += [f"- {x}" for x in mismatches]
        else:
            drifted = sorted(c for c, v in evr["columns"].items() if v["drifted"])
            lines.append(
                f"Verdicts: identical (compare.py on {primary}: same column type, stattest and drifted"
                f" flag for all {len(evr['columns'])} columns, scores within 1e-6, regression metrics"
                f" within 1e-9 relative): dataset_drift {evr['dataset_drift']},"
                f" {evr['number_of_drifted_columns']} of {evr['number_of_columns']} columns drifted"
                f" ({', '.join(drifted) or 'none'})."
            )
        lines += [f"- note: {n}" for n in notes]
    else:
        lines.append("Verdicts: not compared (Evidently produced no report).")
    for m, d in between.items():
        lines.append(
            f"SQL {m} vs {primary}: "
            + ("the same report (same check)." if not d else "differ: " + "; ".join(d))
        )
    lines.append("")
    sett = sql["settings"]
    ap = sums.get("aligned_parallel") or {}
    lines.append(
        "Memory. SQL: the peak, over the statement, of the summed `RssAnon` (private anonymous memory:"
        " palloc/malloc; shared buffers are not in it) of the backend and of its parallel workers, sampled"
        " every 50 ms"
        + (
            f" (aligned_parallel: backend alone {_mb(ap['backend'])}, workers together"
            f" {_mb(ap['workers_mem'])})"
            if ap
            else ""
        )
        + f"; the backend itself held {_mb(max(r['backend_rss_anon_before_mb'] for v in modes.values() for r in v.get('runs', [])))}"
        " before each statement; the backend's own VmHWM growth over the statement (VmHWM reset through clear_refs just before)"
        " was " + ", ".join(f"{m} {_mb(sm['hwm'])}" for m, sm in sums.items() if sm) + "."
        f" Evidently: `ru_maxrss` of its process: everything resident at its peak, including the"
        f" interpreter and libraries ({_mb(ev.get('rss_after_import_mb') or 0)} just after importing"
        f" Evidently) and both DataFrames. Server: shared_buffers {sett.get('shared_buffers')},"
        f" work_mem {sett.get('work_mem')}, max_worker_processes {sett.get('max_worker_processes')},"
        f" JIT {sett.get('jit')} (server default); tables {load['table_bytes'][0] / 2**20:,.0f} +"
        f" {load['table_bytes'][1] / 2**20:,.0f} MB."
    )
    lines.append("")
    dref, dcur = ref_w["columns"], cur_w["columns"]
    lines.append(
        "Distinct values per column (reference / current) — the SQL aggregates' memory follows"
        " these, not the row count: "
        + ", ".join(f"{c} {dref[c]['distinct']:,}/{dcur[c]['distinct']:,}" for c in dref)
        + "."
    )
    lines.append("")
    lines.append(
        f"Benchmark wall time {args.total_seconds / 60:.1f} min (generate {meta['seconds']:.0f} s,"
        f" load + VACUUM ANALYZE {load['seconds']:.0f} s, Evidently {ev_wall:.0f} s, the rest SQL"
        " runs). Other jobs shared this machine during the run; compare ratios rather than"
        " absolute times."
    )
    print("\n".join(lines))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--work", required=True)
    g.add_argument("--rows", type=int, default=10_000_000)
    lo = sub.add_parser("load")
    lo.add_argument("--work", required=True)
    lo.add_argument("--dsn", required=True)
    sq = sub.add_parser("sql")
    sq.add_argument("--work", required=True)
    sq.add_argument("--dsn", required=True)
    sq.add_argument("--server-log", required=True)
    sq.add_argument("--postmaster", type=int, required=True)
    sq.add_argument("--runs", type=int, default=2)
    sq.add_argument("--modes", default=",".join(MODES))
    sq.add_argument("--breakdown", type=int, default=1, help="0: skip the one-run breakdown")
    sq.add_argument("--breakdown-workers", type=int, default=2)
    ev = sub.add_parser("evidently")
    ev.add_argument("--work", required=True)
    ev.add_argument("--timeout", type=float, default=1200.0)
    ev.add_argument(
        "--mem-cap-mb", type=int, default=0, help="0: 90%% of MemAvailable, at most 20 GB"
    )
    rp = sub.add_parser("report")
    rp.add_argument("--work", required=True)
    rp.add_argument("--total-seconds", type=float, default=0.0)
    args = ap.parse_args()
    return {
        "generate": cmd_generate,
        "load": cmd_load,
        "sql": cmd_sql,
        "evidently": cmd_evidently,
        "report": cmd_report,
    }[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
