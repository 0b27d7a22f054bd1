"""Trips and XGBoost's answers for bench/core_bench.c (bench/core_bench.sh runs both).

    python3 bench/core_trips.py --out DIR [--month 2021-02] [--bundle B] [--repeat 5]

Writes DIR/trips.csv (pu,do,distance,pickup_epoch_us per trip of the month), DIR/ref4.f32 and
DIR/ref3.f32 (XGBoost's own float32 predictions with and without the pickup time, for the
bit-exactness check), and prints XGBoost's single-threaded ``inplace_predict`` time per row on
the same trips (features built beforehand, not timed; process CPU time, best of --repeat:
this machine is shared, CPU time is less disturbed by other load than wall time), one line per variant:
``xgb4 NS`` and ``xgb3 NS``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from taxi_duration_ml.bundle import load_bundle
from taxi_duration_ml.data import load_month

REPO = Path(__file__).resolve().parents[1]


def best_ns(fn, repeat: int, n: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        runs.append(time.process_time() - t0)
    return min(runs) / n * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--month", default="2021-02")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--bundle", default=str(REPO / "python" / "taxi_duration_ml" / "default_bundle.json")
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle(args.bundle)
    month = load_month(args.month)
    us = month["lpep_pickup_datetime"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    with open(out / "trips.csv", "w") as f:
        for pu, do, dist, t in zip(
            month["PULocationID"], month["DOLocationID"], month["trip_distance"], us, strict=True
        ):
            f.write(f"{int(pu)},{int(do)},{float(dist)!r},{int(t)}\n")
    X4 = bundle.transform(month)
    X3 = bundle.transform(month.drop(columns=["lpep_pickup_datetime"]))
    booster = bundle.booster
    booster.set_param({"nthread": 1})
    rng = bundle.iteration_range
    bundle.predict_matrix(X4).astype(np.float32).tofile(out / "ref4.f32")
    bundle.predict_matrix(X3).astype(np.float32).tofile(out / "ref3.f32")
    if args.repeat == 0:
        return
    n = X4.shape[0]
    for name, X in (("xgb4", X4), ("xgb3", X3)):
        t = best_ns(
            lambda X=X: booster.inplace_predict(X, iteration_range=rng, missing=np.nan),
            args.repeat,
            n,
        )
        print(f"{name} {t:.1f}")


if __name__ == "__main__":
    main()
