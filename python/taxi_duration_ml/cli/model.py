"""Commands on models and bundles: ``train`` (offline export, or the Prefect/MLflow flow),
``predict`` (a month through the reference reader) and ``check`` (validate a bundle)."""

from __future__ import annotations

import json
import sys
import time

from ..defaults import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_PARAMS,
    MAX_DEPTH_LIMIT,
)
from . import argtypes as T
from .errors import CommandFailed, UsageError
from .flows import add_local, require_flow_server
from .parser import add_command

# flow.DEFAULT_TRIALS, repeated here so that --help needs no Prefect (tests/python/test_cli.py
# checks that they agree)
DEFAULT_TRIALS = 3
FLOW_ONLY = ("trials", "no_register", "no_promote", "json", "local")
EXPORT_ONLY = ("version", "run_id")


def add_commands(sub, common) -> None:
    t = add_command(
        sub,
        "train",
        parents=common,
        help="train a model: the MLflow/Prefect flow, or with --out a plain bundle export",
        description="""\
Train the DictVectorizer + XGBoost (or linear) model on one month and validate it (and stop
early) on another.

Without --out, run the training flow (Prefect): a small parameter search, each trial an MLflow
run; register the best as a new version, publish its bundle to S3 and move the 'production'
alias when it beats the current production bundle (docs/model-lifecycle.md).

With --out FILE, only train and write the bundle to FILE: no MLflow, no Prefect, no registry.
This is how python/taxi_duration_ml/default_bundle.json is built.

Trips come from TAXI_DATA_DIR, else they are downloaded into the cache.""",
    )
    t.add_argument("--train", required=True, type=T.month, metavar="YYYY-MM", help="training month")
    t.add_argument(
        "--valid",
        required=True,
        type=T.month,
        metavar="YYYY-MM",
        help="validation month (also drives early stopping, as the course does)",
    )
    t.add_argument(
        "--estimator",
        choices=["xgboost", "linear"],
        default="xgboost",
        help="XGBoost, or scikit-learn's LinearRegression",
    )
    t.add_argument(
        "--max-rounds",
        type=T.positive_int,
        default=DEFAULT_MAX_ROUNDS,
        metavar="N",
        help="most boosting rounds",
    )
    t.add_argument(
        "--early-stopping-rounds",
        type=T.non_negative_int,
        default=DEFAULT_EARLY_STOPPING,
        metavar="N",
        help="stop after N rounds without improvement on the validation month; 0: never",
    )
    t.add_argument(
        "--learning-rate",
        type=T.positive_float,
        default=None,
        metavar="LR",
        help=f"fixed learning rate (default: {DEFAULT_PARAMS['learning_rate']} for --out; "
        "the flow searches it unless given)",
    )
    t.add_argument(
        "--max-depth",
        type=T.max_depth,
        default=None,
        metavar="D",
        help=f"fixed tree depth, 1 to {MAX_DEPTH_LIMIT} (default: {DEFAULT_PARAMS['max_depth']} for --out; "
        "the flow searches it unless given)",
    )
    t.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print XGBoost's validation RMSE every 50 rounds",
    )
    ex = t.add_argument_group("offline export (with --out)")
    ex.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="write the bundle to FILE instead of running the flow (directories are created)",
    )
    ex.add_argument(
        "--version",
        default=None,
        metavar="V",
        help="the bundle's model.version (default: dev-<training month>)",
    )
    ex.add_argument(
        "--run-id", default=None, metavar="R", help="the bundle's model.run_id (default: none)"
    )
    fl = t.add_argument_group("training flow (without --out)")
    fl.add_argument(
        "--trials",
        type=T.positive_int,
        default=None,
        metavar="N",
        help=f"parameter sets to try, at most 5; 1: the default parameters only "
        f"(default: {DEFAULT_TRIALS}; ignored with --learning-rate/--max-depth)",
    )
    fl.add_argument(
        "--no-register", action="store_true", help="log the MLflow run only, register nothing"
    )
    fl.add_argument(
        "--no-promote",
        action="store_true",
        help="register and publish, never move the production alias",
    )
    fl.add_argument("--json", action="store_true", help="print one JSON summary line")
    add_local(fl)
    t.set_defaults(func=cmd_train)

    q = add_command(
        sub,
        "predict",
        parents=common,
        help="predict a month's trips with a bundle (the reference reader)",
        description="""\
Predict every filtered trip of a month with a bundle through the Python reference reader and
write one CSV row per trip: the inputs, the true duration and the prediction (9 significant
digits, which round-trip a float32 exactly).  Prints the row count, RMSE and time on stderr.""",
    )
    q.add_argument(
        "--bundle", required=True, type=T.existing_file, metavar="FILE", help="bundle JSON file"
    )
    q.add_argument(
        "--month", required=True, type=T.month, metavar="YYYY-MM", help="month to predict"
    )
    q.add_argument(
        "--out", required=True, type=T.output_file, metavar="FILE", help="CSV file to write"
    )
    q.add_argument(
        "--no-time", action="store_true", help="do not pass the pickup time to the model"
    )
    q.add_argument(
        "--limit",
        type=T.non_negative_int,
        default=0,
        metavar="N",
        help="predict only the first N trips; 0: all",
    )
    q.set_defaults(func=cmd_predict)

    c = add_command(
        sub,
        "check",
        parents=common,
        help="load and validate a bundle",
        description="""\
Load a bundle with the reference reader (JSON Schema and every structural rule the extension
applies) and print a JSON summary: model, estimator, iteration range, feature count, inputs.
Exit status 1 when the bundle is invalid.""",
    )
    c.add_argument(
        "--bundle", required=True, type=T.existing_file, metavar="FILE", help="bundle JSON file"
    )
    c.set_defaults(func=cmd_check)


def _train_params(a) -> dict:
    params = {}
    if a.learning_rate is not None:
        params["learning_rate"] = a.learning_rate
    if a.max_depth is not None:
        params["max_depth"] = a.max_depth
    return params


def _only_with(a, names, mode: str) -> None:
    given = [n for n in names if getattr(a, n) not in (None, False)]
    if given:
        opts = ", ".join("--" + n.replace("_", "-") for n in given)
        raise UsageError(f"{opts}: only with {mode} (see 'taxi-duration train --help')")


def cmd_train(a) -> int:
    from .. import data

    if a.out is None:
        _only_with(a, EXPORT_ONLY, "--out FILE (the flow takes both from the MLflow registry)")
        require_flow_server(a)
    else:
        _only_with(a, FLOW_ONLY, "the training flow, i.e. without --out")
    # every missing month named in one error before anything starts (downloads what it can)
    data.locate_months([a.train, a.valid])
    if a.out is None:
        return _train_flow(a)
    from .. import bundle, train

    tr = data.load_month(a.train)
    va = data.load_month(a.valid)
    res = train.fit(
        tr,
        va,
        estimator=a.estimator,
        params=_train_params(a),
        max_rounds=a.max_rounds,
        early_stopping_rounds=a.early_stopping_rounds,
        train_month=a.train,
        valid_month=a.valid,
        verbose=a.verbose,
    )
    info = bundle.export(res, a.out, version=a.version, run_id=a.run_id)
    m = res.training["metrics"]
    print(f"estimator               {res.estimator_type}")
    print(
        f"train rows              {len(tr)} (+{res.training['rows']['train_augmented_without_time']} without time)"
    )
    print(f"valid rows              {len(va)}")
    if res.estimator_type == "xgboost":
        print(
            f"best_iteration          {res.training['best_iteration']} (trees exported: {res.training['n_trees']}, "
            f"max_depth {res.training['params']['max_depth']})"
        )
    print(f"valid RMSE with time    {m['valid_rmse_with_time']:.4f}")
    print(f"valid RMSE without time {m['valid_rmse_without_time']:.4f}")
    print(f"training time           {res.seconds:.1f} s")
    print(f"bundle                  {info['path']} ({info['bytes']} bytes)")
    return 0


def _train_flow(a) -> int:
    from .. import flow

    r = flow.training_flow(
        a.train,
        a.valid,
        estimator=a.estimator,
        params=_train_params(a) or None,
        trials=DEFAULT_TRIALS if a.trials is None else a.trials,
        max_rounds=a.max_rounds,
        early_stopping_rounds=a.early_stopping_rounds,
        register_model=not a.no_register,
        auto_promote=not a.no_promote,
    )
    summary = {
        k: r.get(k)
        for k in (
            "tracking_uri",
            "run_id",
            "model_name",
            "version",
            "bundle_uri",
            "bundle_sha256",
            "metrics",
            "previous_production",
            "production_rmse",
            "promoted",
            "reason",
        )
    }
    if a.json:
        print(json.dumps(summary))
        return 0
    print(f"tracking URI            {summary['tracking_uri']}")
    print(f"MLflow run              {summary['run_id']}")
    for t in r["trials"]:
        print(
            f"trial {t['trial']}                 {t['params']} -> RMSE with time {t['valid_rmse_with_time']:.4f}"
            f" ({t['n_trees']} trees)"
        )
    print(f"valid RMSE with time    {summary['metrics']['valid_rmse_with_time']:.4f}")
    print(f"valid RMSE without time {summary['metrics']['valid_rmse_without_time']:.4f}")
    if summary["version"] is None:
        print(f"bundle                  {summary['bundle_uri']} (not registered)")
        return 0
    print(f"registered              {summary['model_name']} version {summary['version']}")
    print(f"bundle                  {summary['bundle_uri']} sha256 {summary['bundle_sha256']}")
    print(
        f"production              {'-> ' + summary['version'] if summary['promoted'] else 'unchanged'}"
        f" ({summary['reason']})"
    )
    return 0


def _load_bundle(path: str):
    from .. import bundle

    try:
        return bundle.load_bundle(path)
    except bundle.BundleError as e:
        raise CommandFailed(f"{path}: invalid bundle: {e}") from e


def cmd_predict(a) -> int:
    import numpy as np
    import pandas as pd

    from .. import data

    b = _load_bundle(a.bundle)
    df = data.load_month(a.month)
    if a.limit:
        df = df.iloc[: a.limit]
    frame = pd.DataFrame(
        {
            "PULocationID": df["PULocationID"].to_numpy(),
            "DOLocationID": df["DOLocationID"].to_numpy(),
            "trip_distance": df["trip_distance"].to_numpy(),
        }
    )
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


def cmd_check(a) -> int:
    b = _load_bundle(a.bundle)
    print(
        json.dumps(
            {
                "model": b.model,
                "estimator": b.estimator_type,
                "iteration_range": b.iteration_range,
                "features": b.count,
                "inputs": [i["name"] for i in b.inputs],
            }
        )
    )
    return 0
