"""Command line of the training pipeline.

    python -m model train --train 2021-01 --valid 2021-02 --out model/default_bundle.json \\
        [--estimator xgboost|linear] [--version V] [--run-id R] [--max-rounds N] \\
        [--learning-rate LR] [--max-depth D]
    python -m model predict --bundle model/default_bundle.json --month 2021-02 --out preds.csv \\
        [--no-time] [--limit N]
    python -m model check --bundle model/default_bundle.json

Data comes from $TAXI_DATA_DIR (or is downloaded into the cache, see model.data). ``predict``
writes one CSV row per filtered trip: the inputs, the true duration, and the bundle's prediction
(printed with 9 significant digits, which round-trips a float32 exactly).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _cmd_train(a) -> int:
    from . import bundle, data, train

    tr = data.load_month(a.train)
    va = data.load_month(a.valid)
    params = {}
    if a.learning_rate is not None:
        params["learning_rate"] = a.learning_rate
    if a.max_depth is not None:
        params["max_depth"] = a.max_depth
    res = train.fit(
        tr, va, estimator=a.estimator, params=params, max_rounds=a.max_rounds,
        early_stopping_rounds=a.early_stopping_rounds, train_month=a.train, valid_month=a.valid,
        verbose=a.verbose,
    )
    info = bundle.export(res, a.out, version=a.version, run_id=a.run_id)
    m = res.training["metrics"]
    print(f"estimator               {res.estimator_type}")
    print(f"train rows              {len(tr)} (+{res.training['rows']['train_augmented_without_time']} without time)")
    print(f"valid rows              {len(va)}")
    if res.estimator_type == "xgboost":
        print(f"best_iteration          {res.training['best_iteration']} (trees exported: {res.training['n_trees']}, "
              f"max_depth {res.training['params']['max_depth']})")
    print(f"valid RMSE with time    {m['valid_rmse_with_time']:.4f}")
    print(f"valid RMSE without time {m['valid_rmse_without_time']:.4f}")
    print(f"training time           {res.seconds:.1f} s")
    print(f"bundle                  {info['path']} ({info['bytes']} bytes)")
    return 0


def _cmd_predict(a) -> int:
    import pandas as pd

    from . import bundle, data

    b = bundle.load_bundle(a.bundle)
    df = data.load_month(a.month)
    if a.limit:
        df = df.iloc[: a.limit]
    frame = pd.DataFrame({
        "PULocationID": df["PULocationID"].to_numpy(),
        "DOLocationID": df["DOLocationID"].to_numpy(),
        "trip_distance": df["trip_distance"].to_numpy(),
    })
    if not a.no_time:
        frame["pickup_datetime"] = df["lpep_pickup_datetime"].to_numpy()
    t0 = time.perf_counter()
    pred = b.predict(frame)
    dt = time.perf_counter() - t0
    out = frame.copy()
    if "pickup_datetime" in out:
        out["pickup_datetime"] = out["pickup_datetime"].dt.strftime("%Y-%m-%d %H:%M:%S")
    out["duration"] = df["duration"].to_numpy()
    out["prediction"] = pred
    rmse = float(np.sqrt(np.mean((out["duration"].to_numpy() - pred.astype(np.float64)) ** 2)))
    fmt = "%.9g" if pred.dtype == np.float32 else "%.17g"  # exact round trip
    out["prediction"] = [fmt % v for v in pred]
    out.to_csv(a.out, index=False)
    print(f"{len(out)} rows, RMSE {rmse:.4f}, predict {dt:.3f} s -> {a.out}", file=sys.stderr)
    return 0


def _cmd_check(a) -> int:
    from . import bundle

    b = bundle.load_bundle(a.bundle)
    print(json.dumps({
        "model": b.model,
        "estimator": b.estimator_type,
        "iteration_range": b.iteration_range,
        "features": b.count,
        "inputs": [i["name"] for i in b.inputs],
    }))
    return 0


def main(argv=None) -> int:
    from . import train as T

    p = argparse.ArgumentParser(prog="python -m model", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and export a bundle")
    t.add_argument("--train", required=True, help="training month YYYY-MM")
    t.add_argument("--valid", required=True, help="validation month YYYY-MM")
    t.add_argument("--out", required=True, help="bundle path to write")
    t.add_argument("--estimator", choices=["xgboost", "linear"], default="xgboost")
    t.add_argument("--version", default=None, help="model.version (default dev-<train month>)")
    t.add_argument("--run-id", default=None)
    t.add_argument("--max-rounds", type=int, default=T.DEFAULT_MAX_ROUNDS)
    t.add_argument("--early-stopping-rounds", type=int, default=T.DEFAULT_EARLY_STOPPING)
    t.add_argument("--learning-rate", type=float, default=None)
    t.add_argument("--max-depth", type=int, default=None)
    t.add_argument("-v", "--verbose", action="store_true")
    t.set_defaults(func=_cmd_train)
    q = sub.add_parser("predict", help="predict a month with a bundle (reference reader)")
    q.add_argument("--bundle", required=True)
    q.add_argument("--month", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--no-time", action="store_true", help="do not pass the pickup time")
    q.add_argument("--limit", type=int, default=0)
    q.set_defaults(func=_cmd_predict)
    c = sub.add_parser("check", help="load and validate a bundle")
    c.add_argument("--bundle", required=True)
    c.set_defaults(func=_cmd_check)
    a = p.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
