"""Training: DictVectorizer features → XGBoost (default) or scikit-learn LinearRegression.

XGBoost is trained with ``reg:squarederror`` and seed 42 on the (augmented, see
:mod:`taxi_duration_ml.features`) training month, with early stopping on the validation month (with pickup
time), as the MLOps Zoomcamp's example does — so the validation RMSE reported is not a fully
held-out estimate; this is recorded in the bundle's ``training`` metadata. The booster is then sliced to
``best_iteration + 1`` iterations, so the exported model means exactly what it contains.

Threads: ``TAXI_NTHREAD`` if set, else all cores. The thread count is not a model parameter and is
not recorded in the bundle.

Progress: a bar per boosting round on a terminal (:mod:`taxi_duration_ml.progress`; the defaults
live in :mod:`taxi_duration_ml.defaults`, importable without XGBoost).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression

from . import features as F, progress
from .defaults import (  # noqa: F401 - re-exported: train.DEFAULT_PARAMS etc.
    DEFAULT_EARLY_STOPPING,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_PARAMS,
    MAX_DEPTH_LIMIT,
)


def nthread() -> int:
    env = os.environ.get("TAXI_NTHREAD")
    if env:
        return max(1, int(env))
    return os.cpu_count() or 1


def rmse(y_true, y_pred) -> float:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


@dataclass
class TrainResult:
    """What the exporter needs: fitted vectorizer, estimator, and metadata."""

    estimator_type: str  # "xgboost" or "linear"
    dv: DictVectorizer
    model: object  # sliced xgb.Booster or LinearRegression
    training: dict = field(default_factory=dict)
    seconds: float = 0.0  # wall time of fitting (not written to the bundle)

    @property
    def n_iterations(self) -> int:
        return self.model.num_boosted_rounds() if self.estimator_type == "xgboost" else 0

    def predict_dicts(self, dicts) -> np.ndarray:
        X = self.dv.transform(dicts)
        if self.estimator_type == "xgboost":
            return self.model.inplace_predict(X, iteration_range=(0, self.n_iterations))
        return self.model.predict(X)


class _RoundProgress(xgb.callback.TrainingCallback):
    """Advances a progress bar after each boosting round, showing the validation RMSE."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def after_iteration(self, model, epoch, evals_log) -> bool:
        rmse_log = evals_log.get("valid", {}).get("rmse")
        if rmse_log:
            self.bar.set_postfix_str(f"valid RMSE {float(rmse_log[-1]):.4f}", refresh=False)
        self.bar.update(1)
        return False

    def after_training(self, model):
        self.bar.refresh()  # the last round drawn, however fast the rounds were (mininterval)
        return model


def _validation_sets(valid_df: pd.DataFrame):
    y = valid_df[F.TARGET].to_numpy(dtype=np.float64)
    return F.trip_dicts(valid_df, with_time=True), F.trip_dicts(valid_df, with_time=False), y


def fit(
    train_df: pd.DataFrame,
    valid_df: pd.DataFrame,
    *,
    estimator: str = "xgboost",
    params: dict | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    early_stopping_rounds: int = DEFAULT_EARLY_STOPPING,
    augment_fraction: float = F.AUGMENT_FRACTION,
    augment_seed: int = F.AUGMENT_SEED,
    train_month: str | None = None,
    valid_month: str | None = None,
    verbose: bool = False,
) -> TrainResult:
    """Fit the pipeline on ``train_df`` (with ``duration``), early-stopping/evaluating on ``valid_df``."""
    t0 = time.perf_counter()
    train_dicts, y_train = F.training_dicts(train_df, augment_fraction, augment_seed)
    dv = DictVectorizer()
    X_train = dv.fit_transform(train_dicts)
    valid_time, valid_notime, y_valid = _validation_sets(valid_df)
    X_valid_time = dv.transform(valid_time)
    X_valid_notime = dv.transform(valid_notime)

    training = {
        "train_month": train_month,
        "valid_month": valid_month,
        "rows": {
            "train_filtered": int(len(train_df)),
            "train_augmented_without_time": int(len(train_dicts) - len(train_df)),
            "train_total": int(len(train_dicts)),
            "valid_filtered": int(len(valid_df)),
        },
        "filter": "1 <= duration (minutes) <= 60",
        "augmentation": {"fraction_without_time": augment_fraction, "seed": augment_seed},
        "target": "duration (minutes)",
    }

    if estimator == "xgboost":
        p = dict(DEFAULT_PARAMS)
        p.update(params or {})
        if int(p["max_depth"]) > MAX_DEPTH_LIMIT:
            raise ValueError(f"max_depth {p['max_depth']} > {MAX_DEPTH_LIMIT}")
        dtrain = xgb.DMatrix(X_train, label=y_train)
        dvalid_notime = xgb.DMatrix(X_valid_notime, label=y_valid)
        dvalid = xgb.DMatrix(X_valid_time, label=y_valid)
        with progress.bar(total=max_rounds, desc="boosting", unit="round") as bar:
            booster = xgb.train(
                {**p, "nthread": nthread(), "eval_metric": "rmse"},
                dtrain,
                num_boost_round=max_rounds,
                # early stopping uses the LAST eval set: the validation month with pickup time
                evals=[(dvalid_notime, "valid_without_time"), (dvalid, "valid")],
                early_stopping_rounds=early_stopping_rounds if early_stopping_rounds else None,
                verbose_eval=50 if verbose else False,
                callbacks=[_RoundProgress(bar)],
            )
        rounds_trained = booster.num_boosted_rounds()
        best = int(booster.best_iteration) if early_stopping_rounds else rounds_trained - 1
        model = booster[: best + 1]
        n_it = model.num_boosted_rounds()
        pred_time = model.inplace_predict(X_valid_time, iteration_range=(0, n_it))
        pred_notime = model.inplace_predict(X_valid_notime, iteration_range=(0, n_it))
        training.update(
            {
                "params": p,
                "num_boost_round_max": max_rounds,
                "early_stopping_rounds": early_stopping_rounds,
                "early_stopping_on": "validation month with pickup time (as the course does; "
                "the validation RMSE below is therefore not a fully held-out estimate)",
                "rounds_trained": rounds_trained,
                "stopped_early": bool(early_stopping_rounds) and rounds_trained < max_rounds,
                "best_iteration": best,
                "n_iterations": n_it,
                "n_trees": n_it,  # num_parallel_tree = 1: one tree per iteration
            }
        )
    elif estimator == "linear":
        model = LinearRegression()
        model.fit(X_train, y_train)
        pred_time = model.predict(X_valid_time)
        pred_notime = model.predict(X_valid_notime)
        training["params"] = {"estimator": "sklearn.linear_model.LinearRegression"}
    else:
        raise ValueError(f"unknown estimator {estimator!r} (xgboost or linear)")

    training["metrics"] = {
        "valid_rmse_with_time": rmse(y_valid, pred_time),
        "valid_rmse_without_time": rmse(y_valid, pred_notime),
    }
    return TrainResult(estimator, dv, model, training, time.perf_counter() - t0)
