"""Each registered version is an MLflow pyfunc model that predicts, bit for bit, what the
extension predicts in SQL with the same bundle; on real servers (moto S3 + an MLflow tracking
server, tests/lib/servers.py) and a real PostgreSQL cluster.

The real flow trains and registers two small models on real TLC months: version 1 (promoted:
``production``) and version 2 (another model, not promoted). The cluster serves
``models:/taxi-duration@production`` (its loader resolves the alias through the version's
``bundle_uri`` / ``bundle_sha256`` tags and fetches the bundle from S3), and
``mlflow.pyfunc.load_model("models:/taxi-duration@production").predict(df)`` on about 3,100 real
2021-02 trips must equal ``taxi_duration.predict_duration(...)`` for every trip, compared as the
bytes of the doubles; then version 2 is promoted and both follow. The logged model also carries
its signature, an input example of real trips, and the very bundle published at ``bundle_uri``.

moto runs WITHOUT signature checking here (``auth=False``): moto 5.2.1's server, with checking
on, rejects S3 list requests whose query has a '/', and the MLflow server lists the model's
directory whenever a client downloads a model (docs/model-lifecycle.md, Tests), so no
``models:/`` URI could be loaded at all. Signed publishing and loading are covered by
tests/python/test_lifecycle.py and tests/integration/test_rollout.py.

Needs TAXI_DATA_DIR (skipped otherwise); about one minute.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest
from servers import LIFECYCLE_CLEARED, LIFECYCLE_KEYS, alias_serving, point_lifecycle_at
from td_cluster import wait_until

# Prefect's INFO lines (and its "stopping temporary server" line at exit) are noise here.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

NAME = "taxi-duration"
ALIAS_URI = f"models:/{NAME}@production"
PICKUP = "lpep_pickup_datetime"
SAMPLE_EVERY = 20  # 3,097 of the 61,921 trips of 2021-02, spread over the month
SERVER_KEYS = LIFECYCLE_KEYS
CLEARED = LIFECYCLE_CLEARED
# the signature the model declares: the bundle's inputs, every name of the pickup time optional
SIGNATURE_INPUTS = [
    {"type": "long", "name": "PULocationID", "required": True},
    {"type": "long", "name": "DOLocationID", "required": True},
    {"type": "double", "name": "trip_distance", "required": True},
    {"type": "datetime", "name": "pickup_datetime", "required": False},
    {"type": "datetime", "name": "lpep_pickup_datetime", "required": False},
    {"type": "datetime", "name": "tpep_pickup_datetime", "required": False},
]
SIGNATURE_OUTPUTS = [{"type": "double", "name": "duration", "required": True}]


@pytest.fixture(scope="module")
def servers(data_dir, make_servers, tmp_path_factory):
    """moto (no signature checking, see above) + MLflow; this process's environment points at
    them."""
    import mlflow

    s = make_servers(auth=False, mlflow=True)
    mp = pytest.MonkeyPatch()
    point_lifecycle_at(mp, s.env, tmp_path_factory.mktemp("cache"))
    mlflow.set_tracking_uri(s.env["MLFLOW_TRACKING_URI"])
    try:
        yield s.env
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def versions(servers):
    """Version 1 (promoted by the flow) and version 2 (another model, --no-promote)."""
    from taxi_duration_ml import flow

    def train(depth: int, rounds: int, promote: bool) -> dict:
        return flow.training_flow(
            "2021-01",
            "2021-02",
            params={"max_depth": depth},
            max_rounds=rounds,
            early_stopping_rounds=5,
            trials=1,
            auto_promote=promote,
        )

    r1 = train(4, 15, True)
    r2 = train(6, 25, False)
    assert (r1["version"], r1["promoted"]) == ("1", True)
    assert (r2["version"], r2["promoted"]) == ("2", False)
    return {"1": r1, "2": r2}


@pytest.fixture(scope="module")
def trips(trips_2021_02):
    """About 3,100 real 2021-02 trips: the four inputs, TLC column names and dtypes."""
    cols = ["PULocationID", "DOLocationID", "trip_distance", PICKUP]
    return trips_2021_02.iloc[::SAMPLE_EVERY][cols].reset_index(drop=True)


@pytest.fixture(scope="module")
def pg(servers, versions, trips, make_module_cluster):
    """A cluster serving models:/taxi-duration@production, with the trips in table ``trips``."""
    e = servers
    conf, keys = alias_serving(e, ALIAS_URI)
    cluster = make_module_cluster(conf, env=keys)
    with cluster.connect() as conn:
        conn.execute(
            "CREATE TABLE trips (ride_id integer PRIMARY KEY, pulocationid integer,"
            " dolocationid integer, trip_distance double precision, lpep_pickup_datetime timestamp)"
        )
        with conn.cursor().copy(
            "COPY trips (ride_id, pulocationid, dolocationid, trip_distance, lpep_pickup_datetime)"
            " FROM STDIN"
        ) as cp:
            for i, t in enumerate(trips.itertuples(index=False)):
                cp.write_row(
                    (i, int(t[0]), int(t[1]), float(t[2]), t[3].to_pydatetime()),
                )
    return cluster


# -- helpers --------------------------------------------------------------------------------------


def client():
    from taxi_duration_ml import registry

    return registry.client()


def version_sha(version: str) -> str:
    return client().get_model_version(NAME, version).tags["bundle_sha256"]


def wait_serving(cluster, version: str) -> None:
    """Until the cluster serves that version's published bundle (model_info() sha256)."""
    want = version_sha(version)

    def served():
        return cluster.sql("SELECT model_version, sha256 FROM taxi_duration.model_info()")[0]

    wait_until(lambda: served() == (version, want), 60, f"the cluster to serve version {version}")


def sql_predictions(cluster, with_time: bool) -> list[float]:
    args = "pulocationid, dolocationid, trip_distance" + (
        ", lpep_pickup_datetime" if with_time else ""
    )
    rows = cluster.sql(f"SELECT taxi_duration.predict_duration({args}) FROM trips ORDER BY ride_id")
    return [r[0] for r in rows]


def bits(values) -> list[bytes]:
    """Each value as the 8 bytes of its IEEE double: equal bytes = equal bit for bit."""
    return [struct.pack("<d", float(v)) for v in values]


def compare(got, want) -> int:
    """Number of values equal bit for bit (asserts the lengths match)."""
    assert len(got) == len(want)
    return sum(a == b for a, b in zip(bits(got), bits(want), strict=True))


def logged_model_id(version: str) -> str:
    source = client().get_model_version(NAME, version).source
    assert source.startswith("models:/m-"), source
    return source[len("models:/") :]


def check_parity(pg, trips, version: str, note) -> None:
    """pyfunc @production (which must be `version`) == SQL on the trips, with and without time."""
    import mlflow

    wait_serving(pg, version)
    model = mlflow.pyfunc.load_model(ALIAS_URI)
    assert model.metadata.model_id == logged_model_id(version)
    for with_time in (True, False):
        df = trips if with_time else trips.drop(columns=[PICKUP])
        got = model.predict(df)
        want = sql_predictions(pg, with_time)
        assert len(set(want)) > 100, "the predictions are suspiciously uniform"
        equal = compare(got, want)
        note(
            f"pyfunc {ALIAS_URI} (version {version}) vs SQL predict_duration, "
            f"{'with' if with_time else 'without'} pickup time: {len(want)} trips, {equal} equal"
        )
        assert equal == len(want), f"{len(want) - equal} of {len(want)} trips differ"


# -- tests ----------------------------------------------------------------------------------------


def test_pyfunc_at_production_predicts_what_sql_predicts(pg, versions, trips, note):
    check_parity(pg, trips, "1", note)


def test_the_comparison_tells_versions_apart(pg, versions, trips):
    """Version 2 (not production) predicts differently: a comparison that cannot fail would not
    tell, and @production must not resolve to the latest version."""
    import mlflow

    v2 = mlflow.pyfunc.load_model(f"models:/{NAME}/2").predict(trips)
    equal = compare(v2, sql_predictions(pg, True))
    assert equal < len(trips) // 2, f"version 2 equals version 1 on {equal} of {len(trips)} trips"


def test_model_holds_the_published_bundle_signature_and_example(
    pg, versions, trips_2021_02, tmp_path
):
    import mlflow
    import pandas as pd
    from mlflow.models import Model

    from taxi_duration_ml import bundle, registry

    c = client()
    mv = c.get_model_version(NAME, "1")
    info = mlflow.models.get_model_info(ALIAS_URI)
    assert info.model_id == logged_model_id("1")
    assert info.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    # the signature: the bundle's inputs, output minutes
    assert info.signature is not None
    assert info.signature.inputs.to_dict() == SIGNATURE_INPUTS
    assert info.signature.outputs.to_dict() == SIGNATURE_OUTPUTS
    # the publishing contract is unchanged: tags, S3 object, and the bundle the cluster serves
    bucket = os.environ["TD_MODEL_BUCKET"]
    assert mv.tags["bundle_uri"] == f"s3://{bucket}/{NAME}/1/bundle.json"
    published = registry.version_bundle_bytes(mv)  # checked against bundle_sha256
    assert pg.sql("SELECT sha256 FROM taxi_duration.model_info()")[0][0] == mv.tags["bundle_sha256"]
    # ... and the bundle inside the MLflow model is that file, byte for byte
    local = Path(mlflow.artifacts.download_artifacts(ALIAS_URI, dst_path=str(tmp_path)))
    inside = (local / "artifacts" / "bundle.json").read_bytes()
    assert inside == published
    assert hashlib.sha256(inside).hexdigest() == mv.tags["bundle_sha256"]
    b = bundle.loads_bundle(inside)
    assert (b.model["name"], b.model["version"]) == (NAME, "1")
    # the input example: the first real trips of the validation month, the signature's columns
    assert info.saved_input_example_info is not None
    example = Model.load(str(local)).load_input_example(str(local))
    assert len(example) == 5
    assert set(example.columns) == {"PULocationID", "DOLocationID", "trip_distance", PICKUP}
    first = trips_2021_02.head(5).reset_index(drop=True)
    for col in ("PULocationID", "DOLocationID", "trip_distance"):
        assert example[col].tolist() == first[col].tolist()
    assert pd.to_datetime(example[PICKUP]).tolist() == first[PICKUP].tolist()
    # and the model predicts it as the bundle does
    got = mlflow.pyfunc.load_model(str(local)).predict(example)
    assert compare(got, b.predict(first)) == 5


def test_promoting_moves_pyfunc_and_sql_together(pg, versions, trips, note):
    from taxi_duration_ml import registry

    registry.promote(client(), NAME, "2")
    check_parity(pg, trips, "2", note)
