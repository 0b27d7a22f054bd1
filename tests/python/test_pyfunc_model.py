"""The pyfunc model (python/taxi_duration_ml/pyfunc_model.py) without servers: saved to a
directory, loaded with mlflow.pyfunc, it predicts what the reference reader predicts from the same
bundle, bit for bit, under every name the bundle accepts for the pickup time; its signature,
input example, code and artifact are what docs/model-lifecycle.md says. The registry side (a
registered version, models:/ URIs, parity with SQL) is tests/integration/test_pyfunc.py."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlflow")

PICKUP = "lpep_pickup_datetime"
INPUT_COLUMNS = ["PULocationID", "DOLocationID", "trip_distance", PICKUP]


def bits(values) -> list[bytes]:
    return [struct.pack("<d", float(v)) for v in values]


@pytest.fixture(scope="module")
def saved(synthetic_xgb_bundle, synthetic_months, tmp_path_factory):
    """(model directory, bundle bytes, validation trips)."""
    from taxi_duration_ml import pyfunc_model

    data = Path(synthetic_xgb_bundle).read_bytes()
    _, va = synthetic_months
    path = tmp_path_factory.mktemp("pyfunc") / "model"
    pyfunc_model.save_model(path, data, va)
    return path, data, va[INPUT_COLUMNS].reset_index(drop=True)


def test_predicts_what_the_reference_reader_predicts(saved):
    import mlflow

    from taxi_duration_ml import bundle

    path, data, trips = saved
    model = mlflow.pyfunc.load_model(str(path))
    b = bundle.loads_bundle(data)
    want = b.predict(trips)
    assert want.dtype == np.float32  # XGBoost's float32, widened exactly by the model
    got = model.predict(trips)
    assert got.dtype == np.float64 and len(got) == len(trips)
    assert bits(got) == bits(want)
    # every name of the pickup time, and none (then the time features are missing)
    for name in ("pickup_datetime", "tpep_pickup_datetime"):
        assert bits(model.predict(trips.rename(columns={PICKUP: name}))) == bits(want)
    without = model.predict(trips.drop(columns=[PICKUP]))
    assert bits(without) == bits(b.predict(trips.drop(columns=[PICKUP])))
    assert bits(without) != bits(want)
    # extra columns are dropped by the signature, not an error
    assert bits(model.predict(trips.assign(VendorID=2))) == bits(want)


def test_refuses_what_serving_refuses(saved):
    import mlflow

    from taxi_duration_ml.bundle import BundleError

    path, _, trips = saved
    model = mlflow.pyfunc.load_model(str(path))
    bad = trips.head(3).copy()
    bad.loc[0, "PULocationID"] = 266  # outside the input's [1, 265]
    with pytest.raises(BundleError, match="PULocationID"):
        model.predict(bad)
    with pytest.raises(Exception, match="trip_distance"):  # required by the signature
        model.predict(trips.drop(columns=["trip_distance"]))


def test_signature_example_code_and_artifact(saved):
    from mlflow.models import Model

    from taxi_duration_ml import pyfunc_model

    path, data, trips = saved
    m = Model.load(str(path))
    assert m.signature.inputs.to_dict() == [
        {"type": "long", "name": "PULocationID", "required": True},
        {"type": "long", "name": "DOLocationID", "required": True},
        {"type": "double", "name": "trip_distance", "required": True},
        {"type": "datetime", "name": "pickup_datetime", "required": False},
        {"type": "datetime", "name": "lpep_pickup_datetime", "required": False},
        {"type": "datetime", "name": "tpep_pickup_datetime", "required": False},
    ]
    assert m.signature.outputs.to_dict() == [
        {"type": "double", "name": "duration", "required": True}
    ]
    example = m.load_input_example(str(path))
    assert len(example) == pyfunc_model.EXAMPLE_ROWS
    assert sorted(example.columns) == sorted(INPUT_COLUMNS)
    assert example["PULocationID"].tolist() == trips["PULocationID"].head(5).tolist()
    # the bundle inside is the file, byte for byte
    assert (path / "artifacts" / "bundle.json").read_bytes() == data
    # the reader travels with the model, not the rest of the package (2.7 MB default bundle, flows)
    code = path / "code" / "taxi_duration_ml"
    assert sorted(p.name for p in code.iterdir()) == sorted(pyfunc_model.CODE_FILES)
    reqs = (path / "requirements.txt").read_text().split()
    assert any(r.startswith(("xgboost-cpu==", "xgboost==")) for r in reqs), reqs


def test_loads_without_the_package_installed(saved, tmp_path):
    """A fresh interpreter that cannot import taxi_duration_ml from anywhere but the model."""
    path, data, trips = saved
    trips.head(20).to_parquet(tmp_path / "trips.parquet")
    script = (
        "import importlib.machinery, struct, sys\n"
        "model = sys.argv[1]\n"
        "class OnlyFromModel:  # taxi_duration_ml is importable from the model's code/ only\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name != 'taxi_duration_ml':\n"
        "            return None\n"
        "        dirs = [p for p in sys.path if p.startswith(model)]\n"
        "        spec = importlib.machinery.PathFinder.find_spec(name, dirs)\n"
        "        if spec is None:\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return spec\n"
        "sys.meta_path.insert(0, OnlyFromModel)\n"
        "try:\n"
        "    import taxi_duration_ml\n"
        "    sys.exit('taxi_duration_ml importable before loading the model')\n"
        "except ModuleNotFoundError:\n"
        "    pass\n"
        "import mlflow, pandas as pd\n"
        "m = mlflow.pyfunc.load_model(model)\n"
        "import taxi_duration_ml\n"
        "assert taxi_duration_ml.__file__.startswith(model), taxi_duration_ml.__file__\n"
        "for v in m.predict(pd.read_parquet(sys.argv[2])):\n"
        "    print(struct.pack('<d', v).hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "trips.parquet")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    from taxi_duration_ml import bundle

    want = bundle.loads_bundle(data).predict(trips.head(20))
    assert out.stdout.split() == [b.hex() for b in bits(want)]
