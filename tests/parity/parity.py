"""Parity: the extension predicts what XGBoost itself predicts, on every validation trip.

    python3 tests/parity/parity.py --dsn DSN --bundle python/taxi_duration_ml/default_bundle.json --month 2021-02

Loads the month's trips into PostgreSQL (scripts/load_trips.py), has the extension serve the
bundle, predicts every trip in SQL (with the pickup time and without it), and compares each value
with XGBoost's own prediction (``Booster.inplace_predict``) from the same bundle through the Python
reader (python/taxi_duration_ml/bundle.py), which builds the features from the bundle alone.  Reports the maximum
absolute difference and how many predictions are bit-identical as float32; fails if any differs
by more than 1e-4 minutes.  The same is done for a linear bundle (``--linear-bundle``) against
scikit-learn's arithmetic (features in double): within 1e-9 minutes.  The default bundle is served
again at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg

REPO = Path(__file__).resolve().parents[2]
from taxi_duration_ml.bundle import load_bundle  # noqa: E402
from taxi_duration_ml.data import load_month  # noqa: E402

TOLERANCE = 1e-4
LINEAR_TOLERANCE = 1e-9


def compare(dsn: str, path: str, trips, tolerance: float) -> bool:
    """Serve `path`, predict every trip in SQL and with the Python reader, report, compare."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT taxi_duration.load_model(%s)", ("file://" + os.path.abspath(path),))
        rows = conn.execute(
            "SELECT taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance,"
            "                                      lpep_pickup_datetime),"
            "       taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance)"
            " FROM parity_trips ORDER BY ride_id"
        ).fetchall()
    sql = np.array(rows, dtype=np.float64)
    bundle = load_bundle(path)
    ok = True
    for label, col, ref in (
        ("with pickup time", 0, bundle.predict(trips)),
        ("without pickup time", 1, bundle.predict(trips.drop(columns=["lpep_pickup_datetime"]))),
    ):
        if len(ref) != len(sql):
            print(f"row count differs: SQL {len(sql)}, Python {len(ref)}")
            return False
        ref = ref.astype(np.float64)
        diff = np.abs(sql[:, col] - ref)
        identical = int(np.sum(sql[:, col] == ref))
        worst = int(np.argmax(diff))
        print(
            f"parity {Path(path).name} ({bundle.estimator_type}) {label}: {len(ref)} trips, "
            f"max |SQL - reference| = {diff.max():.3g} min (trip {worst}), "
            f"bit-identical: {identical}/{len(ref)}"
        )
        ok &= bool(diff.max() <= tolerance)
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument(
        "--bundle", default=str(REPO / "python" / "taxi_duration_ml" / "default_bundle.json")
    )
    ap.add_argument(
        "--linear-bundle", default=str(REPO / "tests" / "fixtures" / "bundles" / "linear.json")
    )
    ap.add_argument("--month", default="2021-02")
    args = ap.parse_args()

    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "load_trips.py"),
            "--dsn",
            args.dsn,
            "--month",
            args.month,
            "--table",
            "parity_trips",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    trips = load_month(args.month)
    ok = True
    for path, tolerance in ((args.linear_bundle, LINEAR_TOLERANCE), (args.bundle, TOLERANCE)):
        ok &= compare(args.dsn, path, trips, tolerance)
    print("parity:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
