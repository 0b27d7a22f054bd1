"""Benchmark: in-database prediction against a plain scan and against XGBoost itself.

    bash bench/run.sh            (starts a throwaway cluster, then runs this)

On ≥ 1 M real trips in one table, in one run, single-threaded on both sides:
  * ``SELECT sum(trip_distance)``: the scan alone (baseline);
  * ``SELECT sum(predict_duration(...))``: the same scan plus a prediction per row;
  * XGBoost's own ``inplace_predict`` (nthread=1) on the same rows and model (features built
    beforehand, not timed);
  * the first prediction in a brand-new connection, against ``SELECT 1`` in one;
  * the memory each extra backend adds once it has predicted (PSS from /proc, Linux only).
Prints a Markdown report (ratios first) that bench/run.sh records in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--table", default="bench_trips")
    ap.add_argument("--month", default="2021-02")
    ap.add_argument("--copies", type=int, default=17)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--bundle", default=str(REPO / "python" / "taxi_duration_ml" / "default_bundle.json")
    )
    args = ap.parse_args()

    conn = psycopg.connect(args.dsn, autocommit=True)
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute("SET jit = off")
    n = conn.execute(f"SELECT count(*) FROM {args.table}").fetchone()[0]
    info = conn.execute(
        "SELECT model_version, trees, features, bytes, image_bytes FROM taxi_duration.model_info()"
    ).fetchone()
    version, trees, features, bundle_bytes, image_bytes = info

    def q(sql):
        return lambda: conn.execute(sql).fetchone()

    q(f"SELECT sum(trip_distance) FROM {args.table}")()  # warm the cache
    t_scan = timed(q(f"SELECT sum(trip_distance) FROM {args.table}"), args.repeat)
    t_pred3 = timed(q(f"SELECT sum({PREDICT3}) FROM {args.table}"), args.repeat)
    t_pred4 = timed(q(f"SELECT sum({PREDICT4}) FROM {args.table}"), args.repeat)

    # XGBoost on the same rows: the month repeated `copies` times, like taxi-duration load-trips --copies
    bundle = load_bundle(args.bundle)
    month = load_month(args.month)
    X4 = bundle.transform(month)
    X3 = bundle.transform(month.drop(columns=["lpep_pickup_datetime"]))
    import scipy.sparse as sp

    X4 = sp.vstack([X4] * args.copies, format="csr")
    X3 = sp.vstack([X3] * args.copies, format="csr")
    assert X4.shape[0] == n, (X4.shape, n)
    booster = bundle.booster
    booster.set_param({"nthread": 1})
    rng = bundle.iteration_range
    t_xgb4 = timed(lambda: booster.inplace_predict(X4, iteration_range=rng), args.repeat)
    t_xgb3 = timed(lambda: booster.inplace_predict(X3, iteration_range=rng), args.repeat)

    # first call in a brand-new connection, against SELECT 1 in one
    first_pred, first_one, second_pred = [], [], []
    for _ in range(20):
        with psycopg.connect(args.dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()
            first_pred.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            c.execute("SELECT taxi_duration.predict_duration(130, 205, 3.66)").fetchone()
            second_pred.append(time.perf_counter() - t0)
        with psycopg.connect(args.dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            c.execute("SELECT 1").fetchone()
            first_one.append(time.perf_counter() - t0)

    # memory: PSS of backends that predicted against backends that did not
    k = 8
    plain = [psycopg.connect(args.dsn, autocommit=True) for _ in range(k)]
    predicting = [psycopg.connect(args.dsn, autocommit=True) for _ in range(k)]
    sample = f"(SELECT * FROM {args.table} LIMIT 20000) t"
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
        f"Model {version}: {trees} trees, {features} features; bundle {bundle_bytes / 1e6:.2f} MB,"
        f" shared image {image_bytes / 1e6:.2f} MB. {n:,} trips ({args.month} x {args.copies}),"
        f" one backend, no parallel workers, JIT off; medians of {args.repeat} runs.",
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
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
