"""Benchmark: text content drift (a TF-IDF + SGD domain classifier) in drift_report() against
Evidently 0.7.23's own function, on free text written from real trips.

    bash bench/bench_text_drift.sh                (SIZES="2000 20000" ...: smoke run, not recorded)

Data: tests/monitoring/make_datasets.py's _trip_notes: one note per trip of TLC green 2023-01
then 2023-02 (reference) and 2023-04 then 2023-03 (current), written from the trip's zones, pickup
time, distance, payment and tip ("Pickup East Harlem North (Manhattan) at 06:31, 2.3 miles to
Central Harlem; paid by credit card, tip 1.5"); the first N trips of each (N in SIZES, at most
133,020: no trip repeated).  The column is declared text ({"type": "text"}), as Evidently's test
function is called directly.  Both sides get the same rows: the notes are loaded into bench_ref /
bench_cur, and Evidently gets each window's rows in text order (the order the SQL side lays a
value map out in: the classifier's seeded split picks rows by position).

Per size and test (abs_text_content_drift, Evidently's default above 1000 reference rows; and
perc_text_content_drift, forced, at the sizes in PERC_SIZES: 1000 random classifiers on the test
half), interleaved: one warm-up of each side, then RUNS timed runs each, alternating.
  SQL:       SELECT taxi_duration.drift_report('bench_ref', 'bench_cur', ARRAY['note'], ...)
             (the whole report: both scans, the value map, the classifier)
  Evidently: legacy.calculations.stattests' _abs/_perc_text_content_drift on the two sorted
             pandas Series (the classifier alone: no report, no frame building; its import and
             the parquet read are not timed), in its own virtualenv, one process per size.
Reported: median seconds, Evidently / SQL, and whether the AUCs are the same double.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "monitoring"))

EVIDENTLY_PY = os.environ.get("TD_EVIDENTLY_PYTHON", "/opt/td-evidently-venv/bin/python")

EVIDENTLY_RUNNER = r"""
import json, sys, time, warnings
import pandas as pd
from evidently.legacy.calculations.stattests.text_content_drift import _perc_text_content_drift
from evidently.legacy.calculations.stattests.text_content_drift_abs import _abs_text_content_drift
from evidently.legacy.core import ColumnType
ref = pd.read_parquet(sys.argv[1])["note"]
cur = pd.read_parquet(sys.argv[2])["note"]
jobs = json.loads(sys.argv[3])
out = []
warnings.simplefilter("ignore")
for test, threshold, runs in jobs:
    fn = _abs_text_content_drift if test == "abs_text_content_drift" else _perc_text_content_drift
    times = []
    for i in range(runs + 1):  # the first is a warm-up
        t = time.perf_counter()
        auc, drifted = fn(ref, cur, ColumnType.Text, threshold)
        if i:
            times.append(time.perf_counter() - t)
    out.append({"test": test, "auc": float(auc), "drifted": bool(drifted), "seconds": times})
print(json.dumps(out))
"""


def notes(months: tuple[str, ...], n: int):
    """The first n notes of the months' trips (no repeats: at most the months' trips)."""
    import pandas as pd
    from make_datasets import _trip_notes

    whole = pd.concat([_trip_notes(m, 10**7)[["note"]] for m in months], ignore_index=True)
    if n > len(whole):
        raise SystemExit(f"{n} rows asked, {len(whole)} trips in {months}")
    return whole.head(n).sort_values("note", kind="stable").reset_index(drop=True)


def sql_load(conn, table: str, frame) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (note text)")
    with conn.cursor().copy(f"COPY {table} (note) FROM STDIN") as copy:
        for note in frame["note"]:
            copy.write_row((note,))
    conn.execute(f"VACUUM ANALYZE {table}")


def sql_run(conn, test: str) -> tuple[float, dict]:
    options = json.dumps({"columns": {"note": {"type": "text", "stattest": test}}})
    t = time.perf_counter()
    row = conn.execute(
        "SELECT taxi_duration.drift_report('bench_ref', 'bench_cur', ARRAY['note'], NULL, NULL, %s)",
        (options,),
    ).fetchone()
    return time.perf_counter() - t, row[0]["columns"]["note"]


def main() -> int:
    import psycopg

    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sizes", default="10000 40000 120000")
    ap.add_argument("--perc-sizes", default="10000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    perc_sizes = {int(s) for s in args.perc_sizes.split()}
    rows = []
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for n in (int(s) for s in args.sizes.split()):
            ref, cur = notes(("2023-01", "2023-02"), n), notes(("2023-04", "2023-03"), n)
            ref.to_parquet(work / "ref.parquet", index=False)
            cur.to_parquet(work / "cur.parquet", index=False)
            sql_load(conn, "bench_ref", ref)
            sql_load(conn, "bench_cur", cur)
            tests = [("abs_text_content_drift", 0.55)]
            if n in perc_sizes:
                tests.append(("perc_text_content_drift", 0.95))
            jobs = [(t, thr, args.runs) for t, thr in tests]
            ev = subprocess.run(
                [
                    EVIDENTLY_PY,
                    "-c",
                    EVIDENTLY_RUNNER,
                    str(work / "ref.parquet"),
                    str(work / "cur.parquet"),
                    json.dumps(jobs),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            ev_results = {r["test"]: r for r in json.loads(ev.stdout)}
            for test, _ in tests:
                sql_run(conn, test)  # warm-up
                times = []
                for _ in range(args.runs):
                    s, col = sql_run(conn, test)
                    times.append(s)
                e = ev_results[test]
                sql_s, ev_s = statistics.median(times), statistics.median(e["seconds"])
                same = col["score"] == e["auc"] and col["drifted"] == e["drifted"]
                rows.append((n, test, col["score"], same, sql_s, ev_s))
                print(
                    f"{n} {test}: auc {col['score']!r} (Evidently {e['auc']!r}), "
                    f"SQL {sql_s:.3f} s, Evidently {ev_s:.3f} s",
                    file=sys.stderr,
                )
    print(
        "| rows per window | test | ROC AUC | same AUC and verdict as Evidently | drift_report() (s) "
        "| Evidently's test alone (s) | Evidently / SQL |"
    )
    print("|---|---|---|---|---|---|---|")
    for n, test, auc, same, sql_s, ev_s in rows:
        print(
            f"| {n:,} | {test} | {auc:.6f} | {'yes' if same else '**NO**'} | {sql_s:.3f} "
            f"| {ev_s:.3f} | {ev_s / sql_s:.1f}× |"
        )
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
