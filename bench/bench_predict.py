"""Benchmark: in-database prediction against a plain scan and against XGBoost itself.

    bash bench/run.sh            (starts a throwaway cluster, then runs this)

On ≥ 1 M real trips in one table, in one run, single-threaded on both sides:
  * ``SELECT sum(trip_distance)``: the scan alone (baseline);
  * ``SELECT sum(predict_duration(...))``: the same scan plus a prediction per row;
  * XGBoost's own ``inplace_predict`` (nthread=1) on the same rows and model (features built
    beforehand, not timed);
  * the first prediction in a brand-new connection, against ``SELECT 1`` in one;
  * the memory each extra backend adds once it has predicted (PSS from /proc, Linux only);
  * every core in one query: the same ``sum(predict_duration(...))`` with 2 parallel workers
    against serial, runs interleaved, the plan checked (a Gather whose workers were launched) and
    the predictions compared bit for bit (count, and the exact sum of their bits read as integers);
  * the trigger on a bulk ``COPY`` of every row: COPY into a copy of the table without the
    trigger (baseline), with ``fill_predicted_duration``, and COPY followed by one ``UPDATE``
    (what the trigger replaces); the filled column compared bit for bit with the SELECT's.
Prints a Markdown report (ratios first) that bench/run.sh records in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
from taxi_duration_ml.bundle import load_bundle  # noqa: E402
from taxi_duration_ml.data import load_month  # noqa: E402

PREDICT3 = "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)"
PREDICT4 = (
    "taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
    " lpep_pickup_datetime)"
)


def timed(fn, repeat: int) -> float:
    """Median wall-clock seconds of fn() over `repeat` runs."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError("no Pss line")


def find_gather(plan: dict) -> dict | None:
    """The first Gather or Gather Merge node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    if plan.get("Node Type") in ("Gather", "Gather Merge"):
        return plan
    for child in plan.get("Plans", []):
        found = find_gather(child)
        if found is not None:
            return found
    return None


# count, and the exact (numeric) sum of the predictions' bits read as integers: independent
# of row order, so serial, parallel and trigger-filled results compare exactly
BITS = "('x' || encode(float8send({expr}), 'hex'))::bit(64)::bigint"


def fingerprint(conn, expr: str, table: str) -> tuple:
    return conn.execute(
        f"SELECT count({expr}), sum({BITS.format(expr=expr)}) FROM {table}"
    ).fetchone()


def parallel_section(conn, table: str, n: int, repeat: int) -> list[str]:
    """sum(predict_duration()) with 2 parallel workers against serial, in one run."""
    query = f"SELECT sum({PREDICT4}) FROM {table}"
    scan = f"SELECT sum(trip_distance) FROM {table}"

    def workers(k: int) -> None:
        conn.execute(f"SET max_parallel_workers_per_gather = {k}")

    workers(2)
    plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}").fetchone()[0]
    gather = find_gather(plan[0]["Plan"])
    if gather is None or gather.get("Workers Launched", 0) < 2:
        found = (
            "no Gather" if gather is None else f"Workers Launched {gather.get('Workers Launched')}"
        )
        raise SystemExit(f"the plan does not run 2 parallel workers ({found}): {query}")
    fp_parallel = fingerprint(conn, PREDICT4, table)
    runs: dict[str, list[float]] = {
        "serial": [],
        "parallel": [],
        "scan serial": [],
        "scan parallel": [],
    }
    for _ in range(repeat):  # interleaved: the machine's noise falls on both alike
        for k, name in ((0, "serial"), (2, "parallel")):
            workers(k)
            runs[name].append(timed(lambda: conn.execute(query).fetchone(), 1))
            runs["scan " + name].append(timed(lambda: conn.execute(scan).fetchone(), 1))
    workers(0)
    fp_serial = fingerprint(conn, PREDICT4, table)
    t = {k: statistics.median(v) for k, v in runs.items()}
    speedup = t["serial"] / t["parallel"]
    per_row = [(t[m] - t["scan " + m]) / n * 1e6 for m in ("serial", "parallel")]
    return [
        "",
        f"**Every core in one query** ({os.cpu_count()} cores; runs interleaved, medians of {repeat}):"
        f" `{query}`.",
        "",
        "| measure | serial | 2 parallel workers | parallel vs serial |",
        "|---|---|---|---|",
        f"| `sum(predict_duration(pu, do, dist, pickup))` | {t['serial']:.3f} s | {t['parallel']:.3f} s |"
        f" **{speedup:.2f} x** the throughput |",
        f"| `sum(trip_distance)` (scan only) | {t['scan serial']:.3f} s | {t['scan parallel']:.3f} s |"
        f" {t['scan serial'] / t['scan parallel']:.2f} x |",
        f"| rows per second | {n / t['serial']:,.0f} | {n / t['parallel']:,.0f} | |",
        f"| wall time per row, minus the scan | {per_row[0]:.2f} us | {per_row[1]:.2f} us | |",
        "",
        f"Plan: {gather['Node Type']} with Workers Planned {gather.get('Workers Planned')},"
        f" Workers Launched {gather.get('Workers Launched')} (EXPLAIN ANALYZE, before the timed runs)."
        f" Predictions serial vs parallel: {'identical' if fp_serial == fp_parallel else 'DIFFERENT'}"
        f" (count {fp_serial[0]:,}; sum of their bits read as integers {fp_serial[1]}"
        f"{'' if fp_serial == fp_parallel else f' vs {fp_parallel[1]}'}).",
    ]


def copy_section(conn, table: str, n: int, repeat: int) -> list[str]:
    """The trigger on a bulk COPY of every row of `table`, against COPY alone and COPY + UPDATE."""
    target = f"{table}_copy"
    buf = io.BytesIO()
    with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as cp:
        for block in cp:
            buf.write(block)
    data = buf.getvalue()
    conn.execute(f"DROP TABLE IF EXISTS {target}")
    conn.execute(
        f"CREATE TABLE {target} (LIKE {table} INCLUDING ALL, predicted_duration double precision)"
    )
    cols = ", ".join(
        r[0]
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
    )
    update = f"UPDATE {target} SET predicted_duration = {PREDICT4}"

    def load(trigger: bool, then_update: bool) -> float:
        conn.execute(f"TRUNCATE {target}")
        conn.execute(f"DROP TRIGGER IF EXISTS fill ON {target}")
        if trigger:
            conn.execute(
                f"CREATE TRIGGER fill BEFORE INSERT ON {target} FOR EACH ROW EXECUTE FUNCTION"
                " taxi_duration.fill_predicted_duration('predicted_duration')"
            )
        conn.execute("CHECKPOINT")  # each load starts from the same WAL state
        t0 = time.perf_counter()
        with conn.transaction():
            with conn.cursor().copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT binary)") as cp:
                for start in range(0, len(data), 1 << 20):
                    cp.write(data[start : start + (1 << 20)])
            if then_update:
                conn.execute(update)
        return time.perf_counter() - t0

    runs: dict[str, list[float]] = {"copy": [], "trigger": [], "update": []}
    for _ in range(repeat):
        runs["copy"].append(load(False, False))
        runs["update"].append(load(False, True))
        runs["trigger"].append(load(True, False))  # last: the table keeps the trigger's values
    same = fingerprint(conn, "predicted_duration", target) == fingerprint(conn, PREDICT4, table)
    conn.execute(f"DROP TABLE {target}")
    t = {k: statistics.median(v) for k, v in runs.items()}
    return [
        "",
        f"**The trigger on a bulk COPY** of all {n:,} rows (binary COPY into a copy of the table with"
        f" its primary key and a `predicted_duration` column; one transaction per load; loads"
        f" interleaved, medians of {repeat}):",
        "",
        "| load | time | rows/s | vs COPY alone |",
        "|---|---|---|---|",
        f"| COPY, no trigger (baseline) | {t['copy']:.3f} s | {n / t['copy']:,.0f} | 1.00 |",
        f"| COPY with `fill_predicted_duration('predicted_duration')` | {t['trigger']:.3f} s |"
        f" {n / t['trigger']:,.0f} | {t['trigger'] / t['copy']:.2f} x |",
        f"| COPY, then `UPDATE ... SET predicted_duration = predict_duration(...)` | {t['update']:.3f} s |"
        f" {n / t['update']:,.0f} | {t['update'] / t['copy']:.2f} x |",
        f"| trigger's cost per row (trigger minus baseline) | {(t['trigger'] - t['copy']) / n * 1e6:.2f} us | | |",
        "",
        f"The trigger filled every row with the same value, bit for bit, as"
        f" `predict_duration(pu, do, dist, pickup)` in a SELECT: {same}.",
    ]


def single_section(conn, a, n: int, info) -> list[str]:
    """One backend, no parallel workers: SQL against a plain scan and against XGBoost."""
    bundle_bytes = info[3]

    def q(sql):
        return lambda: conn.execute(sql).fetchone()

    q(f"SELECT sum(trip_distance) FROM {a.table}")()  # warm the cache
    t_scan = timed(q(f"SELECT sum(trip_distance) FROM {a.table}"), a.repeat)
    t_pred3 = timed(q(f"SELECT sum({PREDICT3}) FROM {a.table}"), a.repeat)
    t_pred4 = timed(q(f"SELECT sum({PREDICT4}) FROM {a.table}"), a.repeat)

    # XGBoost on the same rows: the month repeated `copies` times, like taxi-duration load-trips --copies
    bundle = load_bundle(a.bundle)
    month = load_month(a.month)
    X4 = bundle.transform(month)
    X3 = bundle.transform(month.drop(columns=["lpep_pickup_datetime"]))
    import scipy.sparse as sp

    X4 = sp.vstack([X4] * a.copies, format="csr")
    X3 = sp.vstack([X3] * a.copies, format="csr")
    assert X4.shape[0] == n, (X4.shape, n)
    booster = bundle.booster
    booster.set_param({"nthread": 1})
    rng = bundle.iteration_range
    t_xgb4 = timed(lambda: booster.inplace_predict(X4, iteration_range=rng), a.repeat)
    t_xgb3 = timed(lambda: booster.inplace_predict(X3, iteration_range=rng), a.repeat)

    # first call in a brand-new connection, against SELECT 1 in one
    first_pred, first_one, second_pred = [], [], []
    for _ in range(20):
        with psycopg.connect(a.dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()
            first_pred.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()
            second_pred.append(time.perf_counter() - t0)
        with psycopg.connect(a.dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            c.execute("SELECT 1").fetchone()
            first_one.append(time.perf_counter() - t0)

    # memory: PSS of backends that predicted against backends that did not
    k = 8
    plain = [psycopg.connect(a.dsn, autocommit=True) for _ in range(k)]
    predicting = [psycopg.connect(a.dsn, autocommit=True) for _ in range(k)]
    sample = f"(SELECT * FROM {a.table} LIMIT 20000) t"
    for c in plain:  # the same scan, without prediction
        c.execute(f"SELECT sum(trip_distance), max(lpep_pickup_datetime) FROM {sample}").fetchone()
    for c in predicting:
        c.execute(f"SELECT sum({PREDICT4}), max(lpep_pickup_datetime) FROM {sample}").fetchone()
    pss_plain = statistics.mean(pss_kb(c.info.backend_pid) for c in plain)
    pss_pred = statistics.mean(pss_kb(c.info.backend_pid) for c in predicting)
    for c in plain + predicting:
        c.close()

    per_row_sql3 = (t_pred3 - t_scan) / n * 1e6
    per_row_sql4 = (t_pred4 - t_scan) / n * 1e6
    per_row_xgb3 = t_xgb3 / n * 1e6
    per_row_xgb4 = t_xgb4 / n * 1e6
    med = statistics.median
    extra_kb = pss_pred - pss_plain
    out = [
        f"**One backend**: no parallel workers, JIT off; medians of {a.repeat} runs.",
        "",
        "| measure | value | ratio |",
        "|---|---|---|",
        f"| `sum(trip_distance)` (scan only) | {t_scan:.3f} s | 1.00 (baseline) |",
        f"| `sum(predict_duration(pu, do, dist))` | {t_pred3:.3f} s | {t_pred3 / t_scan:.2f} x scan |",
        f"| `sum(predict_duration(pu, do, dist, pickup))` | {t_pred4:.3f} s | {t_pred4 / t_scan:.2f} x scan |",
        f"| XGBoost `inplace_predict`, 1 thread, no pickup time | {t_xgb3:.3f} s | |",
        f"| XGBoost `inplace_predict`, 1 thread, with pickup time | {t_xgb4:.3f} s | |",
        f"| per-row prediction cost, SQL minus scan (no time / time) | {per_row_sql3:.2f} / {per_row_sql4:.2f} us | |",
        f"| per-row XGBoost (no time / time) | {per_row_xgb3:.2f} / {per_row_xgb4:.2f} us |"
        f" SQL/XGBoost {per_row_sql3 / per_row_xgb3:.2f} / {per_row_sql4 / per_row_xgb4:.2f} |",
        f"| whole SQL statement vs XGBoost alone (with time) | | {t_pred4 / t_xgb4:.2f} x |",
        f"| first prediction in a new connection (median of 20) | {med(first_pred) * 1e3:.3f} ms |"
        f" {med(first_pred) / med(first_one):.2f} x `SELECT 1` in a new connection ({med(first_one) * 1e3:.3f} ms) |",
        f"| second prediction in that connection | {med(second_pred) * 1e3:.3f} ms | |",
        f"| first-call overhead (first - second) | {(med(first_pred) - med(second_pred)) * 1e3:.3f} ms | |",
        f"| extra PSS per backend after predicting ({k} vs {k} backends) | {extra_kb:.0f} kB |"
        f" {extra_kb * 1024 / bundle_bytes:.3f} x bundle size |",
    ]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--table", default="bench_trips")
    ap.add_argument("--month", default="2021-02")
    ap.add_argument("--copies", type=int, default=17)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--sections",
        default="single,parallel,copy",
        help="comma-separated: single (one backend vs XGBoost), parallel, copy (the trigger)",
    )
    ap.add_argument(
        "--bundle", default=str(REPO / "python" / "taxi_duration_ml" / "default_bundle.json")
    )
    args = ap.parse_args()

    # never prepared: a prepared statement keeps the plan of its first SETtings (serial or
    # parallel), and every timed query here must be planned under the settings of its run
    conn = psycopg.connect(args.dsn, autocommit=True, prepare_threshold=None)
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute("SET jit = off")
    n = conn.execute(f"SELECT count(*) FROM {args.table}").fetchone()[0]
    info = conn.execute(
        "SELECT model_version, trees, features, bytes, image_bytes FROM taxi_duration.model_info()"
    ).fetchone()

    version, trees, features, bundle_bytes, image_bytes = info
    out = [
        f"Model {version}: {trees} trees, {features} features; bundle {bundle_bytes / 1e6:.2f} MB,"
        f" shared image {image_bytes / 1e6:.2f} MB. {n:,} trips ({args.month} x {args.copies}).",
        "",
    ]
    sections = set(args.sections.split(","))
    if "single" in sections:
        out += single_section(conn, args, n, info)
    if "parallel" in sections:
        out += parallel_section(conn, args.table, n, args.repeat)
    if "copy" in sections:
        out += copy_section(conn, args.table, n, args.repeat)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
