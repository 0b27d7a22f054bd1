"""The training flow (Prefect): data → features → XGBoost (small search) → evaluate → MLflow →
registry → S3 → promotion.  See docs/model-lifecycle.md.

    taxi-duration train --train 2021-01 --valid 2021-02 [--trials N] [--max-rounds N] \\
        [--no-register] [--no-promote] [--env dev|prod]

Steps (one Prefect task each):

1. read the training and the validation month (:mod:`taxi_duration_ml.data`);
2. fit the DictVectorizer + XGBoost for each of ``trials`` candidate parameter sets (the first is
   :data:`taxi_duration_ml.train.DEFAULT_PARAMS`), each a nested MLflow run; keep the best by validation RMSE
   with pickup time (early stopping uses the same month, as the course does);
3. create the MLflow run, log params + metrics; register a model version N (unless
   ``register=False``); export the bundle with ``model.version = "N"``, ``model.run_id`` = the run;
   log it as the run artifact ``bundle/bundle.json``; upload it to
   ``s3://$TD_MODEL_BUCKET/<name>/<N>/bundle.json`` with its sha256; tag the version;
4. evaluate the new bundle AND the current ``production`` bundle (read back from its
   ``bundle_uri``) with the reference reader on the validation month, with pickup time; move
   ``production`` to N only when N's RMSE is strictly lower (or when there is no production yet).

Prefect: with ``PREFECT_API_URL`` set the flow reports to that server; otherwise Prefect 3 starts a
temporary local API in-process (a few seconds, once per process). This module turns off Prefect's
anonymous telemetry unless set (no network here) and gives the temporary server 120 s to start
(first start creates its SQLite database).
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from . import bundle as B, data as D, registry as R, train as T  # noqa: E402

# Candidates of the small search, in order; trials=N uses the first N. All within MAX_DEPTH_LIMIT.
SEARCH_SPACE = [
    {
        "max_depth": T.DEFAULT_PARAMS["max_depth"],
        "learning_rate": T.DEFAULT_PARAMS["learning_rate"],
        "min_child_weight": T.DEFAULT_PARAMS["min_child_weight"],
    },
    {"max_depth": 6, "learning_rate": 0.3, "min_child_weight": 1.0},
    {"max_depth": 8, "learning_rate": 0.1, "min_child_weight": 3.0},
    {"max_depth": 7, "learning_rate": 0.2, "min_child_weight": 5.0},
    {"max_depth": 5, "learning_rate": 0.3, "min_child_weight": 1.0},
]
DEFAULT_TRIALS = 3


def candidates(params: dict | None, trials: int) -> list[dict]:
    """Parameter sets to try: ``params`` alone when given, else the first ``trials`` of the space."""
    if params:
        return [dict(params)]
    trials = max(1, min(int(trials), len(SEARCH_SPACE)))
    return [dict(p) for p in SEARCH_SPACE[:trials]]


def reader_frame(df: pd.DataFrame, with_time: bool = True) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "PULocationID": df["PULocationID"].to_numpy(),
            "DOLocationID": df["DOLocationID"].to_numpy(),
            "trip_distance": df["trip_distance"].to_numpy(),
        }
    )
    if with_time:
        out["pickup_datetime"] = df[D.COLUMNS[0]].to_numpy()
    return out


def evaluate_bundle(data: bytes, valid_df: pd.DataFrame) -> dict:
    """RMSE of a bundle on a month, through the reference reader (what serving computes)."""
    b = B.loads_bundle(data)
    y = valid_df["duration"].to_numpy(dtype=np.float64)
    return {
        "valid_rmse_with_time": T.rmse(y, b.predict(reader_frame(valid_df, True))),
        "valid_rmse_without_time": T.rmse(y, b.predict(reader_frame(valid_df, False))),
    }


def _flat_params(training: dict) -> dict:
    p = {f"xgb_{k}": v for k, v in (training.get("params") or {}).items()}
    for k in (
        "train_month",
        "valid_month",
        "num_boost_round_max",
        "early_stopping_rounds",
        "best_iteration",
        "n_trees",
    ):
        if training.get(k) is not None:
            p[k] = training[k]
    for k, v in (training.get("rows") or {}).items():
        p[f"rows_{k}"] = v
    return {k: str(v)[:6000] for k, v in p.items()}


def _log(
    c,
    run_id: str,
    params: dict | None = None,
    metrics: dict | None = None,
    tags: dict | None = None,
):
    import time

    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    c.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items() if v is not None],
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


# --------------------------------------------------------------------------------------------
# tasks
# --------------------------------------------------------------------------------------------


@task(name="load-month", cache_policy=NO_CACHE)
def load_month(month: str, data_dir: str | None = None) -> pd.DataFrame:
    df = D.load_month(month, data_dir)
    get_run_logger().info("%s: %d trips after the duration filter", month, len(df))
    return df


@task(name="start-mlflow-run", cache_policy=NO_CACHE)
def start_run(train_month: str, valid_month: str, estimator: str, extra_tags: dict) -> dict:
    c = R.client()
    exp = R.ensure_experiment(c)
    tags = {
        "train_month": train_month,
        "valid_month": valid_month,
        "estimator": estimator,
        **extra_tags,
    }
    run = c.create_run(exp, run_name=f"{estimator} {train_month} -> {valid_month}", tags=tags)
    get_run_logger().info(
        "MLflow run %s (experiment %s, %s)", run.info.run_id, exp, R.tracking_uri()
    )
    return {"run_id": run.info.run_id, "experiment_id": exp}


@task(name="train", cache_policy=NO_CACHE)
def train_candidates(
    train_df,
    valid_df,
    *,
    estimator,
    configs,
    max_rounds,
    early_stopping_rounds,
    train_month,
    valid_month,
    run,
) -> tuple:
    """Fit every candidate (nested MLflow runs); return (best TrainResult, trial summaries)."""
    log = get_run_logger()
    c = R.client()
    trials = []
    best = None
    for i, params in enumerate(configs if estimator == "xgboost" else [{}]):
        res = T.fit(
            train_df,
            valid_df,
            estimator=estimator,
            params=params,
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
            train_month=train_month,
            valid_month=valid_month,
        )
        m = res.training["metrics"]
        child = c.create_run(
            run["experiment_id"],
            run_name=f"trial {i}",
            tags={"mlflow.parentRunId": run["run_id"], "trial": str(i)},
        )
        _log(
            c,
            child.info.run_id,
            params=_flat_params(res.training),
            metrics={**m, "train_seconds": res.seconds, "n_trees": res.training.get("n_trees")},
        )
        c.set_terminated(child.info.run_id)
        trials.append(
            {
                "trial": i,
                "params": params,
                "n_trees": res.training.get("n_trees"),
                "seconds": res.seconds,
                **m,
            }
        )
        log.info(
            "trial %d %s: valid RMSE with time %.4f (%s trees, %.1f s)",
            i,
            params,
            m["valid_rmse_with_time"],
            res.training.get("n_trees"),
            res.seconds,
        )
        if (
            best is None
            or m["valid_rmse_with_time"] < best.training["metrics"]["valid_rmse_with_time"]
        ):
            best = res
    return best, trials


@task(name="register-and-publish", cache_policy=NO_CACHE)
def register_and_publish(result, valid_df, *, run, register: bool, trials: list) -> dict:
    """Log the chosen model; register version N; export, evaluate, log and publish its bundle."""
    import tempfile
    from pathlib import Path

    log = get_run_logger()
    c = R.client()
    run_id = run["run_id"]
    tr = result.training
    _log(
        c,
        run_id,
        params={**_flat_params(tr), "estimator": result.estimator_type, "trials": len(trials)},
        metrics={**tr["metrics"], "train_seconds": result.seconds, "n_trees": tr.get("n_trees")},
    )
    name = R.model_name()
    out = {
        "run_id": run_id,
        "model_name": name,
        "version": None,
        "bundle_uri": None,
        "bundle_sha256": None,
    }
    if register:
        mv = R.register_pyfunc_version(
            c,
            name,
            run_id,
            tags={
                "train_month": tr.get("train_month"),
                "valid_month": tr.get("valid_month"),
                "estimator": result.estimator_type,
            },
            description=f"{result.estimator_type} trained on {tr.get('train_month')}, "
            f"validated on {tr.get('valid_month')}",
        )
        version = str(mv.version)
        out["version"] = version
        data = B.bundle_bytes(result, version=version, run_id=run_id, name=name)
        R.log_pyfunc_model(c, mv, data, example=valid_df)  # version N as an MLflow pyfunc model
    else:
        data = B.bundle_bytes(
            result, version=f"dev-{tr.get('train_month')}", run_id=run_id, name=name
        )
    metrics = evaluate_bundle(data, valid_df)
    out["metrics"] = metrics
    out["bundle_bytes"] = data
    _log(c, run_id, metrics={f"bundle_{k}": v for k, v in metrics.items()})
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / R.BUNDLE_FILE
        p.write_bytes(data)
        c.log_artifact(run_id, str(p), R.BUNDLE_ARTIFACT_DIR)
    artifact_uri = (
        c.get_run(run_id).info.artifact_uri.rstrip("/")
        + f"/{R.BUNDLE_ARTIFACT_DIR}/{R.BUNDLE_FILE}"
    )
    if not register:
        log.info("not registered (--no-register); bundle logged as %s", artifact_uri)
        out["bundle_uri"], out["bundle_sha256"] = artifact_uri, R.sha256_hex(data)
        return out
    for k, v in metrics.items():
        c.set_model_version_tag(name, version, k, repr(float(v)))
    pub = R.publish_version(c, name, version, data, run_id, fallback_uri=artifact_uri)
    if not pub["s3"]:
        log.warning(
            "TD_MODEL_BUCKET is not set: version %s not uploaded to S3; bundle_uri = %s",
            version,
            pub["bundle_uri"],
        )
    out.update(bundle_uri=pub["bundle_uri"], bundle_sha256=pub["bundle_sha256"])
    _log(
        c,
        run_id,
        tags={
            "registered_model": name,
            "registered_version": version,
            "bundle_uri": pub["bundle_uri"],
            "bundle_sha256": pub["bundle_sha256"],
        },
    )
    log.info(
        "registered %s version %s; bundle %s (sha256 %s, %d bytes)",
        name,
        version,
        pub["bundle_uri"],
        pub["bundle_sha256"],
        len(data),
    )
    return out


@task(name="decide-promotion", cache_policy=NO_CACHE)
def decide_promotion(published: dict, valid_df, *, promote: bool) -> dict:
    """Compare with the current production bundle on this validation month; promote if better."""
    log = get_run_logger()
    c = R.client()
    name, version = published["model_name"], published["version"]
    new_rmse = published["metrics"]["valid_rmse_with_time"]
    prod = R.production_version(c, name)
    out = {
        "previous_production": None if prod is None else str(prod.version),
        "production_rmse": None,
        "promoted": False,
        "reason": "",
    }
    if prod is None:
        out["reason"] = "no production version yet"
    else:
        try:
            out["production_rmse"] = evaluate_bundle(R.version_bundle_bytes(prod), valid_df)[
                "valid_rmse_with_time"
            ]
        except Exception as e:  # noqa: BLE001 - unreadable production bundle: never auto-promote over it
            out["reason"] = f"production version {prod.version} could not be evaluated: {e}"
            log.warning(out["reason"])
    if prod is not None and out["production_rmse"] is not None:
        better = new_rmse < out["production_rmse"]
        out["reason"] = (
            f"valid RMSE with time {new_rmse:.4f} {'<' if better else '>='} "
            f"production v{prod.version} {out['production_rmse']:.4f}"
        )
    should = (prod is None) or (
        out["production_rmse"] is not None and new_rmse < out["production_rmse"]
    )
    if should and promote:
        R.promote(c, name, version)
        out["promoted"] = True
    elif should:
        out["reason"] += " (not promoted: --no-promote)"
    _log(
        c,
        published["run_id"],
        metrics={"production_valid_rmse_with_time": out["production_rmse"]},
        tags={"promoted": str(out["promoted"]).lower(), "promotion_reason": out["reason"][:5000]},
    )
    log.info(
        "version %s %s: %s",
        version,
        "PROMOTED to production" if out["promoted"] else "not promoted",
        out["reason"],
    )
    return out


# --------------------------------------------------------------------------------------------
# the flow
# --------------------------------------------------------------------------------------------


@flow(name="taxi-duration-training")
def training_flow(
    train_month: str,
    valid_month: str,
    *,
    estimator: str = "xgboost",
    params: dict | None = None,
    trials: int = DEFAULT_TRIALS,
    max_rounds: int = T.DEFAULT_MAX_ROUNDS,
    early_stopping_rounds: int = T.DEFAULT_EARLY_STOPPING,
    register_model: bool = True,
    auto_promote: bool = True,
    data_dir: str | None = None,
) -> dict:
    D.check_month(train_month)
    D.check_month(valid_month)
    tr = load_month(train_month, data_dir)
    va = load_month(valid_month, data_dir)
    tags = {}
    try:
        from prefect.runtime import flow_run

        tags = {
            "prefect_flow_run_id": str(flow_run.id),
            "prefect_flow_run_name": str(flow_run.name),
        }
    except Exception:  # noqa: BLE001 - informative only
        pass
    run = start_run(train_month, valid_month, estimator, tags)
    c = R.client()
    try:
        result, trials_out = train_candidates(
            tr,
            va,
            estimator=estimator,
            configs=candidates(params, trials),
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
            train_month=train_month,
            valid_month=valid_month,
            run=run,
        )
        published = register_and_publish(
            result, va, run=run, register=register_model, trials=trials_out
        )
        decision = (
            decide_promotion(published, va, promote=auto_promote)
            if register_model
            else {
                "promoted": False,
                "previous_production": None,
                "production_rmse": None,
                "reason": "not registered",
            }
        )
    except BaseException:
        c.set_terminated(run["run_id"], "FAILED")
        raise
    c.set_terminated(run["run_id"], "FINISHED")
    return {
        **published,
        **decision,
        "trials": trials_out,
        "result": result,
        "tracking_uri": R.tracking_uri(),
    }
