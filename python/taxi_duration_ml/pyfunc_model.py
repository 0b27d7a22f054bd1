"""Each registered version as an MLflow pyfunc model (docs/model-lifecycle.md, "Loading a version
with mlflow.pyfunc").

The model is a thin wrapper around the version's bundle: its one artifact, ``bundle``
(``artifacts/bundle.json``), holds the very bytes published at the version's ``bundle_uri``, and
:meth:`TaxiDurationModel.predict` evaluates them with the reference reader
(:func:`taxi_duration_ml.bundle.load_bundle`), the reader the C core is tested against bit for
bit: XGBoost in float32, widened to double as ``taxi_duration.predict_duration()`` returns it.

    import mlflow
    m = mlflow.pyfunc.load_model("models:/taxi-duration@production")
    m.predict(df)    # float64 minutes, one per row

The signature comes from the bundle's ``inputs``: ``PULocationID`` and ``DOLocationID`` (long),
``trip_distance`` (double), all required; the pickup time is optional, as ``pickup_datetime`` or
one of its aliases ``lpep_pickup_datetime`` / ``tpep_pickup_datetime`` (datetime; every name the
bundle accepts is declared, because MLflow drops columns a signature does not name). Output: one
double, ``duration`` in minutes.

The model carries the code it needs (``code/taxi_duration_ml``: the reader, its grammar, the
features and this module, without the rest of the package), so a process with mlflow, xgboost,
numpy, pandas, scipy and jsonschema loads it without taxi-duration-ml installed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import shutil
import tempfile
import warnings
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

ARTIFACT = "bundle"  # key of the bundle in artifacts={...} and context.artifacts
LOGGED_MODEL_NAME = "model"  # the MLflow LoggedModel's name (models:/<model_id>)
OUTPUT = "duration"
EXAMPLE_ROWS = 5
# bundle input types -> MLflow column types
COLUMN_TYPES = {"integer": "long", "number": "double", "timestamp": "datetime"}
# the modules the reader needs at load time (shipped as code/taxi_duration_ml)
CODE_FILES = (
    "__init__.py",
    "bundle.py",
    "bundle_grammar.py",
    "features.py",
    "bundle.schema.json",
    "pyfunc_model.py",
)
# distributions the model's predict imports (pip requirements, pinned to what logged it)
REQUIREMENTS = ("xgboost-cpu", "xgboost", "numpy", "pandas", "scipy", "jsonschema")


class TaxiDurationModel(mlflow.pyfunc.PythonModel):
    """predict(df) = the bundle's predictions (float64 minutes), as the extension computes them."""

    def load_context(self, context):
        from taxi_duration_ml.bundle import load_bundle

        # validated (schema, format rules) and estimator_sha256 checked, as serving does
        self.bundle = load_bundle(context.artifacts[ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        # float32 for XGBoost, widened exactly; float64 for a linear estimator
        return np.asarray(self.bundle.predict(model_input), dtype=np.float64)


def signature(doc: dict):
    """The ModelSignature of a bundle document (its ``inputs``; output ``duration``, double)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    cols = []
    for inp in doc["inputs"]:
        names = [inp["name"], *inp.get("aliases", [])]
        t = COLUMN_TYPES[inp["type"]]
        # with aliases any one of the names may carry the value: none of them is required alone
        required = bool(inp["required"]) and len(names) == 1
        cols += [ColSpec(t, n, required=required) for n in names]
    return ModelSignature(inputs=Schema(cols), outputs=Schema([ColSpec("double", OUTPUT)]))


def input_example(trips: pd.DataFrame, doc: dict, rows: int = EXAMPLE_ROWS) -> pd.DataFrame:
    """The first ``rows`` trips, only the columns the signature names (TLC column names)."""
    names = [n for inp in doc["inputs"] for n in [inp["name"], *inp.get("aliases", [])]]
    return trips.loc[:, [c for c in trips.columns if c in names]].head(rows).reset_index(drop=True)


def requirements() -> list[str]:
    out = []
    for dist in REQUIREMENTS:
        try:
            out.append(f"{dist}=={md.version(dist)}")
        except md.PackageNotFoundError:
            pass
    return out


# MLflow "models from code": the model file MLflow stores (python_model) and runs at load time,
# instead of a cloudpickle of the object
MODEL_CODE = """\
# taxi-duration: the pyfunc model (taxi_duration_ml.pyfunc_model; the package is in code/)
import mlflow

from taxi_duration_ml.pyfunc_model import TaxiDurationModel

mlflow.models.set_model(TaxiDurationModel())
"""


def _code_dir(tmp: Path) -> Path:
    pkg = Path(__file__).resolve().parent
    dst = tmp / "taxi_duration_ml"
    dst.mkdir()
    for name in CODE_FILES:
        shutil.copy2(pkg / name, dst / name)
    return dst


def _model_kwargs(d: Path, data: bytes, example: pd.DataFrame | None) -> dict:
    """What log_model / save_model take: the bundle, the code, the signature, the example."""
    from .bundle import loads_bundle

    doc = loads_bundle(data).doc  # refuse to package what serving would refuse
    path = d / "bundle.json"
    path.write_bytes(data)
    code = d / "taxi_duration_model.py"
    code.write_text(MODEL_CODE)
    return dict(
        python_model=str(code),
        artifacts={ARTIFACT: str(path)},
        code_paths=[str(_code_dir(d))],
        signature=signature(doc),
        input_example=None if example is None else input_example(example, doc),
        pip_requirements=requirements(),
    )


@contextlib.contextmanager
def _quiet():
    # MLflow 3.17 compares DataFrame columns with a range() when it writes an input example,
    # which pandas 3 warns about (Pandas4Warning); nothing for the user to do
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Operation with range is deprecated")
        yield


def log_model(model_id: str, data: bytes, example: pd.DataFrame | None = None):
    """Log the pyfunc model holding bundle ``data`` into the (pending) LoggedModel ``model_id``;
    ``example``: trips, of which the first few become the input example. Returns the ModelInfo."""
    with tempfile.TemporaryDirectory() as d, _quiet():
        kw = _model_kwargs(Path(d), data, example)
        return mlflow.pyfunc.log_model(name=LOGGED_MODEL_NAME, model_id=model_id, **kw)


def save_model(path, data: bytes, example: pd.DataFrame | None = None) -> None:
    """The same MLflow model written to the directory ``path`` (no tracking server)."""
    with tempfile.TemporaryDirectory() as d, _quiet():
        mlflow.pyfunc.save_model(str(path), **_model_kwargs(Path(d), data, example))
