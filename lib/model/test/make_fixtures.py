#!/usr/bin/env python3
"""Generate the XGBoost parity fixtures for the pure-C core's unit tests.

Trains a few small boosters on synthetic taxi-like data the way the training
pipeline does (per-trip dicts -> DictVectorizer -> CSR -> xgboost), wraps
each saved model (`save_model("x.json")`, embedded byte-for-byte) into a
model bundle (docs/bundle-format.md), and records XGBoost's own float32
predictions for a set of trips, as hex bit patterns.

Output (committed; the C tests do not need Python):
    fixtures/<name>.bundle.json   the bundle
    fixtures/<name>.rows.json     {"rows": [{"ride": {...}, "expected": "0x..."}]}

Rows are trip objects as td_decode_ride reads them: a key that is absent is
an absent input, null is a missing value.

Run from anywhere:  python3 lib/model/test/make_fixtures.py
"""

import datetime as dt
import json
import os
import re
import struct
import tempfile

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from sklearn.feature_extraction import DictVectorizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
rng = np.random.default_rng(20261128)

N_ZONES = 14
EPOCH_START = dt.datetime(2019, 1, 1)


def random_trip(allow_missing=True):
    pu = int(rng.integers(1, N_ZONES + 1))
    do = int(rng.integers(1, N_ZONES + 1))
    dist = float(np.round(rng.exponential(3.0), 2))
    if rng.random() < 0.05:
        dist = 0.0
    when = EPOCH_START + dt.timedelta(minutes=int(rng.integers(0, 3 * 365 * 24 * 60)))
    trip = {
        "PULocationID": pu,
        "DOLocationID": do,
        "trip_distance": dist,
        "pickup_datetime": when.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if allow_missing:
        r = rng.random()
        if r < 0.04:
            trip["trip_distance"] = None
        elif r < 0.07:
            trip["pickup_datetime"] = None
        elif r < 0.09:
            trip["PULocationID"] = None
    return trip


def duration(trip):
    d = trip["trip_distance"]
    base = 4.0 + 2.5 * (d if d is not None else 3.0)
    if trip["pickup_datetime"]:
        t = dt.datetime.strptime(trip["pickup_datetime"], "%Y-%m-%d %H:%M:%S")
        if 7 <= t.hour <= 9 or 16 <= t.hour <= 18:
            base *= 1.4
        if t.weekday() >= 5:
            base *= 0.85
    if trip["PULocationID"] is not None:
        base += (trip["PULocationID"] % 5) - (trip["DOLocationID"] % 3)
    return max(1.0, base + rng.normal(0, 2.0))


def features(trip):
    """The per-trip dict the DictVectorizer sees (what the bundle describes)."""
    f = {}
    if trip.get("PULocationID") is not None and trip.get("DOLocationID") is not None:
        f["PU_DO"] = "%d_%d" % (trip["PULocationID"], trip["DOLocationID"])
    if trip.get("PULocationID") is not None:
        f["PU"] = "%d" % trip["PULocationID"]
    if trip.get("trip_distance") is not None:
        f["trip_distance"] = trip["trip_distance"]
    if trip.get("pickup_datetime"):
        t = dt.datetime.strptime(
            trip["pickup_datetime"].replace("T", " ")[:19], "%Y-%m-%d %H:%M:%S"
        )
        f["hour"] = t.hour + t.minute / 60
        f["dow"] = t.weekday()
    return f


def to_csr(dv, trips):
    """CSR with every present value stored, zeros included (like DictVectorizer)."""
    voc = dv.vocabulary_
    data, indices, indptr = [], [], [0]
    for trip in trips:
        row = []
        for k, v in features(trip).items():
            if isinstance(v, str):
                key = "%s=%s" % (k, v)
                if key in voc:
                    row.append((voc[key], 1.0))
            else:
                row.append((voc[k], float(v)))
        row.sort()
        for i, v in row:
            indices.append(i)
            data.append(v)
        indptr.append(len(indices))
    return sp.csr_matrix(
        (
            np.array(data, dtype=np.float64),
            np.array(indices, dtype=np.int32),
            np.array(indptr, dtype=np.int64),
        ),
        shape=(len(trips), len(voc)),
    )


def bundle_text(dv, booster_text, name, iteration_range=None):
    voc = dv.vocabulary_
    numeric = [
        {
            "name": "trip_distance",
            "input": "trip_distance",
            "transform": "identity",
            "index": voc["trip_distance"],
        },
        {
            "name": "hour",
            "input": "pickup_datetime",
            "transform": "hour_of_day",
            "index": voc["hour"],
        },
        {
            "name": "dow",
            "input": "pickup_datetime",
            "transform": "day_of_week",
            "index": voc["dow"],
        },
    ]
    pu_do = {k[len("PU_DO=") :]: v for k, v in voc.items() if k.startswith("PU_DO=")}
    pu = {k[len("PU=") :]: v for k, v in voc.items() if k.startswith("PU=")}
    estimator = {"type": "xgboost"}
    if iteration_range is not None:
        estimator["iteration_range"] = list(iteration_range)
    estimator["booster"] = "@@BOOSTER@@"
    bundle = {
        "format": "taxi-duration-bundle",
        "format_version": 1,
        "model": {
            "name": "taxi-duration-fixture",
            "version": name,
            "run_id": None,
            "created_at": "2026-11-28T13:30:00Z",
            "estimator_sha256": None,
        },
        "inputs": [
            {"name": "PULocationID", "type": "integer", "required": True, "min": 1, "max": 265},
            {"name": "DOLocationID", "type": "integer", "required": True, "min": 1, "max": 265},
            {"name": "trip_distance", "type": "number", "required": True, "min": 0},
            {
                "name": "pickup_datetime",
                "type": "timestamp",
                "required": False,
                "aliases": ["lpep_pickup_datetime", "tpep_pickup_datetime"],
            },
        ],
        "features": {
            "count": len(voc),
            "numeric": numeric,
            "categorical": [
                {
                    "name": "PU_DO",
                    "inputs": ["PULocationID", "DOLocationID"],
                    "separator": "_",
                    "vocabulary": pu_do,
                },
                {"name": "PU", "inputs": ["PULocationID"], "vocabulary": pu},
            ],
        },
        "estimator": estimator,
        "training": {"generator": "lib/model/test/make_fixtures.py", "xgboost": xgb.__version__},
    }
    text = json.dumps(bundle, separators=(",", ":"))
    return text.replace('"@@BOOSTER@@"', booster_text.strip())


def f32hex(x):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(np.float32(x))))[0]


def test_trips(booster_text, dv):
    trips = [random_trip() for _ in range(160)]
    # Thresholds on trip_distance, hit exactly and one float32 ulp either side.
    model = json.loads(booster_text)
    idx = dv.vocabulary_["trip_distance"]
    thresholds = set()
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for f, c, left in zip(
            tree["split_indices"], tree["split_conditions"], tree["left_children"], strict=True
        ):
            if left != -1 and f == idx:
                thresholds.add(float(np.float32(c)))
    for th in sorted(thresholds)[:25]:
        for v in (
            th,
            float(np.nextafter(np.float32(th), np.float32(-1e9))),
            float(np.nextafter(np.float32(th), np.float32(1e9))),
        ):
            if v >= 0:
                t = random_trip(False)
                t["trip_distance"] = v
                trips.append(t)
    # Missing values, absent optional input, unseen category, pre-1970, 'T'.
    extra = [
        {
            "PULocationID": None,
            "DOLocationID": None,
            "trip_distance": None,
            "pickup_datetime": None,
        },
        {"PULocationID": 3, "DOLocationID": 4, "trip_distance": None},
        {"PULocationID": 3, "DOLocationID": 250, "trip_distance": 2.5},
        {
            "PULocationID": 200,
            "DOLocationID": 201,
            "trip_distance": 7.25,
            "pickup_datetime": "2021-03-14 08:45:00",
        },
        {
            "PULocationID": 5,
            "DOLocationID": 6,
            "trip_distance": 0.0,
            "pickup_datetime": "1965-07-04 17:59:59",
        },
        {
            "PULocationID": 5,
            "DOLocationID": 6,
            "trip_distance": 1.0,
            "pickup_datetime": "1969-12-31 23:30:00",
        },
        {
            "PULocationID": 7,
            "DOLocationID": 7,
            "trip_distance": 12.0,
            "pickup_datetime": "2020-02-29T07:15:30.250000",
        },
        {
            "PULocationID": 1,
            "DOLocationID": 14,
            "trip_distance": 30.5,
            "lpep_pickup_datetime": "2022-12-31 23:59:00",
        },
    ]
    for e in extra:
        trips.append(e)
    return trips


def canonical(trip):
    """The dict form features() reads (aliases folded in)."""
    t = dict(trip)
    if "lpep_pickup_datetime" in t:
        t["pickup_datetime"] = t.pop("lpep_pickup_datetime")
    return t


def write_fixture(name, bundle, booster, dv, trips, iteration_range=(0, 0)):
    X = to_csr(dv, [canonical(t) for t in trips])
    pred = booster.inplace_predict(X, iteration_range=iteration_range)
    # The DMatrix path must agree with inplace_predict.
    pred2 = booster.predict(xgb.DMatrix(X), iteration_range=iteration_range)
    assert np.array_equal(pred.astype(np.float32), pred2.astype(np.float32)), name
    rows = [{"ride": t, "expected": f32hex(p)} for t, p in zip(trips, pred, strict=True)]
    with open(os.path.join(OUT, name + ".bundle.json"), "w") as f:
        f.write(bundle)
    with open(os.path.join(OUT, name + ".rows.json"), "w") as f:
        json.dump(
            {"xgboost": xgb.__version__, "iteration_range": list(iteration_range), "rows": rows},
            f,
            separators=(",", ":"),
        )
        f.write("\n")
    print("%-24s %6d bytes bundle, %d rows" % (name, len(bundle), len(rows)))


def save_text(booster):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.json")
        booster.save_model(path)
        with open(path) as f:
            return f.read()


def main():
    os.makedirs(OUT, exist_ok=True)
    train = [random_trip() for _ in range(3000)]
    y = np.array([duration(t) for t in train])
    dv = DictVectorizer()
    dv.fit([features(t) for t in train])
    X = to_csr(dv, train)

    # 1. hist, default (estimated) base_score, as saved ("[...]" on 3.1+).
    params = {
        "objective": "reg:squarederror",
        "max_depth": 5,
        "eta": 0.3,
        "tree_method": "hist",
        "seed": 42,
        "nthread": 1,
    }
    b = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=24)
    text = save_text(b)
    trips = test_trips(text, dv)
    write_fixture("xgb_hist", bundle_text(dv, text, "xgb_hist"), b, dv, trips)

    # 2. The same model with base_score in the scalar spelling ("5E-1").
    m = re.search(r'"base_score":"([^"]*)"', text)
    scalar = m.group(1).strip("[]()")
    text2 = text.replace(m.group(0), '"base_score":"%s"' % scalar)
    assert text2 != text or "[" not in m.group(1)
    write_fixture(
        "xgb_hist_scalar_base", bundle_text(dv, text2, "xgb_hist_scalar_base"), b, dv, trips
    )

    # 3. Early stopping: best_iteration below the number of trees.
    valid = [random_trip() for _ in range(600)]
    yv = np.array([duration(t) for t in valid])
    params3 = dict(params, eta=0.6, max_depth=6)
    b3 = xgb.train(
        params3,
        xgb.DMatrix(X, label=y),
        num_boost_round=200,
        evals=[(xgb.DMatrix(to_csr(dv, valid), label=yv), "valid")],
        early_stopping_rounds=5,
        verbose_eval=False,
    )
    best = int(b3.attr("best_iteration"))
    assert best + 1 < b3.num_boosted_rounds(), "early stopping did not leave extra trees"
    text3 = save_text(b3)
    assert '"best_iteration"' in text3
    trips3 = test_trips(text3, dv)
    write_fixture(
        "xgb_best_iteration",
        bundle_text(dv, text3, "xgb_best_iteration"),
        b3,
        dv,
        trips3,
        iteration_range=(0, best + 1),
    )

    # 4. An explicit iteration_range in the bundle, on the first model.
    write_fixture(
        "xgb_iteration_range",
        bundle_text(dv, text, "xgb_iteration_range", iteration_range=(3, 17)),
        b,
        dv,
        trips,
        iteration_range=(3, 17),
    )

    # 5. exact method (thresholds between observed values), absolute error,
    #    two parallel trees per iteration, a fixed base_score.
    params5 = {
        "objective": "reg:absoluteerror",
        "max_depth": 4,
        "eta": 0.5,
        "tree_method": "exact",
        "num_parallel_tree": 2,
        "subsample": 0.8,
        "base_score": 12.5,
        "seed": 7,
        "nthread": 1,
    }
    b5 = xgb.train(params5, xgb.DMatrix(X, label=y), num_boost_round=8)
    text5 = save_text(b5)
    trips5 = test_trips(text5, dv)
    write_fixture(
        "xgb_exact_parallel",
        bundle_text(dv, text5, "xgb_exact_parallel", iteration_range=(1, 7)),
        b5,
        dv,
        trips5,
        iteration_range=(1, 7),
    )


if __name__ == "__main__":
    main()
