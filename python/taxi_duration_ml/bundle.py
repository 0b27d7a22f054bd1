"""The model bundle (docs/bundle-format.md): exporter and reference reader.

Exporter: :func:`export` / :func:`bundle_bytes` turn a :class:`taxi_duration_ml.train.TrainResult` into one
compact JSON document. The XGBoost booster is the exact text ``Booster.save_model("….json")`` wrote,
spliced in unchanged as the value of ``estimator.booster``; ``model.estimator_sha256`` is the sha256
of those bytes. Apart from ``model.created_at`` the output is deterministic for the same inputs.

Reader: :func:`load_bundle` parses a bundle, locating the raw text span of ``estimator.booster``
(with ``json.JSONDecoder.raw_decode``, so key order and whitespace do not matter), validates it
against ``bundle.schema.json`` (package data) plus the format's semantic rules, re-hashes the booster span
against ``estimator_sha256``, and returns a :class:`Bundle` that

* builds the estimator's input matrix for trip records FROM THE BUNDLE'S PIPELINE ALONE, as a
  float32 scipy CSR matrix holding an explicit entry exactly where the pipeline sets a feature
  (explicit zeros included) — vectorised with numpy/pandas, fine for ~1M rows;
* predicts with ``xgboost.Booster.inplace_predict`` on the embedded booster (float32), or with the
  linear estimator (double).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import bundle_grammar as G, features as F

FORMAT = "taxi-duration-bundle"
FORMAT_VERSION = 1
KNOWN_VERSIONS = (1,)
MODEL_NAME = "taxi-duration"
SCHEMA_PATH = Path(__file__).resolve().parent / "bundle.schema.json"

INPUTS = [
    {"name": "PULocationID", "type": "integer", "required": True, "min": 1, "max": 265},
    {"name": "DOLocationID", "type": "integer", "required": True, "min": 1, "max": 265},
    {"name": "trip_distance", "type": "number", "required": True, "min": 0},
    {
        "name": "pickup_datetime",
        "type": "timestamp",
        "required": False,
        "aliases": ["lpep_pickup_datetime", "tpep_pickup_datetime"],
    },
]

XGB_OBJECTIVES = G.XGB_OBJECTIVES


class BundleError(ValueError):
    """A bundle (or the input given to it) is invalid."""


# --------------------------------------------------------------------------------------------
# Exporter
# --------------------------------------------------------------------------------------------


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _canonical_int_parts(category: str, n: int, sep: str | None):
    parts = [category] if n == 1 else category.split(sep)
    if len(parts) != n:
        return None
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        return None
    if [str(v) for v in vals] != parts:
        return None
    return vals


def features_from_vectorizer(dv) -> dict:
    """The bundle ``features`` object equivalent to a fitted DictVectorizer (see taxi_duration_ml.features)."""
    numeric = []
    vocab: dict[str, dict[str, int]] = {k: {} for k in F.CATEGORICAL}
    for name, idx in sorted(dv.vocabulary_.items(), key=lambda kv: kv[1]):
        key, cat = F.split_feature_name(name)
        if cat is None:
            if key not in F.NUMERIC:
                raise BundleError(f"DictVectorizer feature {name!r} has no bundle equivalent")
            inp, transform = F.NUMERIC[key]
            numeric.append({"name": key, "input": inp, "transform": transform, "index": int(idx)})
        else:
            if key not in F.CATEGORICAL:
                raise BundleError(f"DictVectorizer feature {name!r} has no bundle equivalent")
            inputs, sep = F.CATEGORICAL[key]
            if _canonical_int_parts(cat, len(inputs), sep) is None:
                raise BundleError(f"category {name!r} is not the decimal form of {inputs}")
            vocab[key][cat] = int(idx)
    categorical = []
    for key, (inputs, sep) in F.CATEGORICAL.items():
        if not vocab[key]:
            continue
        entry = {"name": key, "inputs": list(inputs)}
        if sep is not None:
            entry["separator"] = sep
        entry["vocabulary"] = vocab[key]
        categorical.append(entry)
    return {"count": len(dv.vocabulary_), "numeric": numeric, "categorical": categorical}


def _library_versions() -> dict:
    import importlib.metadata as md
    import sys

    out = {"python": "{}.{}.{}".format(*sys.version_info[:3])}
    for dist in ("xgboost-cpu", "xgboost", "scikit-learn", "numpy", "scipy", "pandas", "pyarrow"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def booster_json_bytes(booster) -> bytes:
    """The exact bytes ``booster.save_model("….json")`` writes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "booster.json")
        booster.save_model(path)
        with open(path, "rb") as f:
            raw = f.read()
    try:
        json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:  # pragma: no cover - xgboost misbehaving
        raise BundleError(f"save_model did not write JSON text: {e}") from e
    return raw


def bundle_bytes(
    result,
    *,
    version: str | None = None,
    run_id: str | None = None,
    created_at: str | None = None,
    name: str | None = None,
) -> bytes:
    """Serialise a TrainResult as a bundle (compact JSON, UTF-8).

    ``name`` is ``model.name`` (default :data:`MODEL_NAME`; the registry publishes with its
    registered model name)."""
    import xgboost

    training = dict(result.training)
    if version is None:
        version = f"dev-{training.get('train_month') or 'unknown'}"
    if created_at is None:
        created_at = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    training["xgboost_version"] = xgboost.__version__
    training["library_versions"] = _library_versions()
    feats = features_from_vectorizer(result.dv)

    if result.estimator_type == "xgboost":
        raw = booster_json_bytes(result.model)
        sha = hashlib.sha256(raw).hexdigest()
        estimator_head = {"type": "xgboost", "iteration_range": [0, result.n_iterations]}
    elif result.estimator_type == "linear":
        raw = None
        sha = None
        coef = np.asarray(result.model.coef_, dtype=np.float64).ravel()
        if coef.shape[0] != feats["count"]:
            raise BundleError("linear coefficients do not match the feature count")
        estimator_head = {
            "type": "linear",
            "intercept": float(result.model.intercept_),
            "coefficients": [float(c) for c in coef],
        }
    else:
        raise BundleError(f"unknown estimator type {result.estimator_type!r}")

    head = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {
            "name": name or MODEL_NAME,
            "version": version,
            "run_id": run_id,
            "created_at": created_at,
            "estimator_sha256": sha,
        },
        "inputs": INPUTS,
        "features": feats,
        "training": training,
    }
    # "estimator" is the last top-level key and "booster" the last key of it: the raw booster
    # text is spliced in verbatim (the reader does not rely on this order, it is just tidy).
    text = _dumps(head)[:-1] + ',"estimator":' + _dumps(estimator_head)
    out = text.encode("utf-8")
    if raw is not None:
        out = out[:-1] + b',"booster":' + raw + b"}"
    out += b"}"
    # Never write what a reader would refuse (e.g. a tree whose unreachable nodes would crash
    # XGBoost's loader, leaves that sum past float32, a string with a control character).
    try:
        loads_bundle(out)
    except BundleError as e:
        raise BundleError(f"refusing to export an invalid bundle: {e}") from e
    return out


def export(result, path, **kw) -> dict:
    """Write the bundle for ``result`` to ``path``; returns a small summary."""
    data = bundle_bytes(result, **kw)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return {"path": str(path), "bytes": len(data)}


# --------------------------------------------------------------------------------------------
# Reader: parsing with raw spans
# --------------------------------------------------------------------------------------------


_DECODER = G.DECODER  # the grammar's JSON layer (python/taxi_duration_ml/bundle_grammar.py)
_WS = re.compile(r"[ \t\n\r]*")


def _ws(s: str, pos: int) -> int:
    return _WS.match(s, pos).end()


def _walk_object(s: str, pos: int, spans: dict, path: tuple, recurse: dict):
    """Parse the object at ``s[pos]``; record ``(start, end)`` of values whose key path is wanted.

    ``recurse`` maps a key to the nested ``recurse`` spec used when descending into that key's
    object (so those objects are walked, not raw-decoded, and their member spans recorded).
    """
    if pos >= len(s) or s[pos] != "{":
        raise BundleError(f"expected an object at offset {pos}")
    obj = {}
    pos = _ws(s, pos + 1)
    if pos < len(s) and s[pos] == "}":
        return obj, pos + 1
    while True:
        if pos >= len(s) or s[pos] != '"':
            raise BundleError(f"expected a key at offset {pos}")
        key, pos = _DECODER.raw_decode(s, pos)
        pos = _ws(s, pos)
        if pos >= len(s) or s[pos] != ":":
            raise BundleError(f"expected ':' at offset {pos}")
        start = pos = _ws(s, pos + 1)
        if key in obj:
            raise BundleError(f"duplicate JSON key {key!r}")
        if key in recurse and pos < len(s) and s[pos] == "{":
            value, end = _walk_object(s, pos, spans, path + (key,), recurse[key])
        else:
            try:
                value, end = _DECODER.raw_decode(s, pos)
            except json.JSONDecodeError as e:
                raise BundleError(f"invalid JSON: {e}") from e
        obj[key] = value
        spans[path + (key,)] = (start, end)
        pos = _ws(s, end)
        if pos < len(s) and s[pos] == ",":
            pos = _ws(s, pos + 1)
            continue
        if pos < len(s) and s[pos] == "}":
            return obj, pos + 1
        raise BundleError(f"expected ',' or '}}' at offset {pos}")


def parse_bundle_text(data: bytes | str):
    """Parse a bundle; returns ``(doc, booster_text or None)``. ``booster_text`` is the raw span.

    The grammar of docs/bundle-format.md: UTF-8, no BOM, no duplicate keys, JSON numbers only (at
    most 63 characters, finite), no control characters or lone surrogates in strings, nesting at
    most 128 deep."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > G.MAX_BUNDLE_BYTES:
            raise BundleError(f"bundle has {len(data)} bytes; the limit is {G.MAX_BUNDLE_BYTES}")
        try:
            s = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BundleError(f"bundle is not UTF-8 JSON text: {e}") from e
    else:
        s = data
    spans: dict = {}
    pos = _ws(s, 0)
    try:
        doc, end = _walk_object(s, pos, spans, (), {"estimator": {}})
        if _ws(s, end) != len(s):
            raise BundleError(f"trailing data after the bundle at offset {end}")
        G.check_document(doc)
    except G.GrammarError as e:
        raise BundleError(str(e)) from e
    except RecursionError as e:
        raise BundleError(f"nesting deeper than {G.MAX_DEPTH} arrays and objects") from e
    span = spans.get(("estimator", "booster"))
    booster_text = s[span[0] : span[1]] if span else None
    return doc, booster_text


# --------------------------------------------------------------------------------------------
# Reader: validation
# --------------------------------------------------------------------------------------------

_SCHEMA_VALIDATOR = None


def _strict_validator_class():
    """Draft 2020-12 where "integer" is an integer token (JSON 1, not 1.0), as the grammar says."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine("integer", lambda _c, v: G.is_int(v))
    return jsonschema.validators.extend(base, type_checker=checker)


def schema_validator(schema_path: str | os.PathLike | None = None):
    global _SCHEMA_VALIDATOR
    import jsonschema

    if schema_path is not None:
        schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
        return _strict_validator_class()(schema)
    if _SCHEMA_VALIDATOR is None:
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        _SCHEMA_VALIDATOR = _strict_validator_class()(schema)
    return _SCHEMA_VALIDATOR


def validate_schema(doc, schema_path=None) -> None:
    if isinstance(doc, dict):
        if doc.get("format") != FORMAT:
            raise BundleError(f"not a taxi-duration bundle (format {doc.get('format')!r})")
        v = doc.get("format_version")
        if not G.is_int(v) or v not in KNOWN_VERSIONS:
            raise BundleError(
                f"unsupported format_version {doc.get('format_version')!r}; "
                f"this reader knows {list(KNOWN_VERSIONS)}"
            )
    v = schema_validator(schema_path)
    err = next(iter(sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise BundleError(f"schema: at {where}: {err.message[:300]}")


def _check_lengths(doc) -> None:
    """Every string the C core reads is at most 1024 bytes of UTF-8 (JSON Schema counts characters)."""
    for k in ("name", "version", "run_id", "created_at", "estimator_sha256"):
        G.check_utf8_length(doc["model"].get(k), f"model.{k}")
    for inp in doc["inputs"]:
        for k in ("name", "type"):
            G.check_utf8_length(inp[k], f"input {k}")
        for a in inp.get("aliases", []):
            G.check_utf8_length(a, "input alias")
    for f in doc["features"]["numeric"]:
        for k in ("name", "input", "transform"):
            G.check_utf8_length(f[k], f"numeric feature {k}")
    for c in doc["features"]["categorical"]:
        for k in ("name", "separator"):
            G.check_utf8_length(c.get(k), f"categorical feature {k}")
        for key in c["vocabulary"]:
            G.check_utf8_length(key, "vocabulary key")


def validate_semantics(doc) -> None:
    """The rules of docs/bundle-format.md that JSON Schema cannot express."""
    try:
        _validate_semantics(doc)
    except G.GrammarError as e:
        raise BundleError(str(e)) from e


def _validate_semantics(doc) -> None:
    _check_lengths(doc)
    inputs = doc["inputs"]
    seen = {}
    for i, inp in enumerate(inputs):
        for n in [inp["name"], *inp.get("aliases", [])]:
            k = n.lower()
            if k in seen and seen[k] != i:
                raise BundleError(f"input name {n!r} is not unique (case-insensitively)")
            seen[k] = i
        if "min" in inp and "max" in inp and inp["min"] > inp["max"]:
            raise BundleError(f"input {inp['name']!r}: min > max")
        if inp["type"] == "timestamp" and ("min" in inp or "max" in inp):
            raise BundleError(f"input {inp['name']!r} is a timestamp and cannot declare min or max")
    by_name = {inp["name"]: inp for inp in inputs}
    feats = doc["features"]
    count = feats["count"]
    used = np.zeros(count, dtype=np.int64)

    def use(idx, what):
        if not 0 <= idx < count:
            raise BundleError(f"{what}: index {idx} outside [0, {count})")
        used[idx] += 1

    vocabulary_size = 0
    for f in feats["numeric"]:
        inp = by_name.get(f["input"])
        if inp is None:
            raise BundleError(f"numeric feature {f['name']!r}: unknown input {f['input']!r}")
        want = ("integer", "number") if f["transform"] == "identity" else ("timestamp",)
        if inp["type"] not in want:
            raise BundleError(
                f"numeric feature {f['name']!r}: {f['transform']} needs a {'/'.join(want)} input"
            )
        use(f["index"], f"numeric feature {f['name']!r}")
    for c in feats["categorical"]:
        for n in c["inputs"]:
            inp = by_name.get(n)
            if inp is None or inp["type"] != "integer":
                raise BundleError(
                    f"categorical feature {c['name']!r}: {n!r} is not an integer input"
                )
        if len(c["inputs"]) >= 2 and "separator" not in c:
            raise BundleError(
                f"categorical feature {c['name']!r}: separator required for 2+ inputs"
            )
        if len(c["inputs"]) > 64:
            raise BundleError(f"categorical feature {c['name']!r} has more than 64 inputs")
        vocabulary_size += len(c["vocabulary"])
        if vocabulary_size > G.MAX_VOCABULARY:
            raise BundleError(f"the vocabularies hold more than {G.MAX_VOCABULARY} entries")
        for cat, idx in c["vocabulary"].items():
            use(idx, f"categorical feature {c['name']!r} entry {cat!r}")
    if count and (used != 1).any():
        bad = int(np.flatnonzero(used != 1)[0])
        raise BundleError(
            f"feature index {bad} is used {int(used[bad])} times (must be exactly once)"
        )

    est = doc["estimator"]
    if est["type"] == "linear":
        if len(est["coefficients"]) != count:
            raise BundleError("linear: coefficients length differs from features.count")
        return
    G.check_booster(est, count)


# --------------------------------------------------------------------------------------------
# Reader: the Bundle
# --------------------------------------------------------------------------------------------

_NOT_FOUND = np.iinfo(np.int64).max


class Bundle:
    """A loaded, validated bundle. Use :meth:`transform` and :meth:`predict`."""

    def __init__(self, doc: dict, booster_text: str | None, path: str | None = None):
        self.doc = doc
        self.booster_text = booster_text
        self.path = path
        self.model = doc["model"]
        self.inputs = doc["inputs"]
        self.features = doc["features"]
        self.count = int(self.features["count"])
        self.estimator = doc["estimator"]
        self.estimator_type = self.estimator["type"]
        self._booster = None
        self._lookups = {}

    # ---- provenance ----
    @property
    def booster_sha256(self) -> str | None:
        if self.booster_text is None:
            return None
        return hashlib.sha256(self.booster_text.encode("utf-8")).hexdigest()

    def verify_sha256(self) -> None:
        want = self.model.get("estimator_sha256")
        if self.estimator_type == "xgboost":
            if want is None:
                return
            got = self.booster_sha256
            if got != want:
                raise BundleError(
                    f"estimator_sha256 mismatch: bundle says {want}, booster text hashes to {got}"
                )

    # ---- estimator ----
    @property
    def iteration_range(self) -> tuple[int, int]:
        if self.estimator_type != "xgboost":
            return (0, 0)
        if "iteration_range" in self.estimator:
            b, e = self.estimator["iteration_range"]
            return (int(b), int(e))
        learner = self.estimator["booster"]["learner"]
        best = learner.get("attributes", {}).get("best_iteration")
        if best is not None:
            return (0, int(best) + 1)
        return (0, self.booster.num_boosted_rounds())

    @property
    def booster(self):
        if self._booster is None:
            import xgboost as xgb

            b = xgb.Booster()
            b.load_model(bytearray(self.booster_text.encode("utf-8")))
            self._booster = b
        return self._booster

    # ---- inputs ----
    @staticmethod
    def _find_columns(columns, inp) -> list:
        """Columns holding ``inp`` (its name, then aliases; exact, then case-insensitive)."""
        names = [inp["name"], *inp.get("aliases", [])]
        found = [n for n in names if n in columns]
        lowered = {n.lower() for n in names}
        found += [
            c for c in columns if isinstance(c, str) and c.lower() in lowered and c not in found
        ]
        return found

    @staticmethod
    def _frame(records) -> pd.DataFrame:
        if isinstance(records, pd.DataFrame):
            return records
        if isinstance(records, dict):
            return pd.DataFrame(records)
        records = list(records)
        if not records:
            return pd.DataFrame()
        return pd.DataFrame.from_records(records)

    def _numeric_input(self, col, inp, n) -> np.ndarray:
        name = inp["name"]
        if col is None:
            return np.full(n, np.nan)
        if col.dtype == object:
            col = col.map(lambda v: np.nan if v is None else v)
        try:
            v = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise BundleError(f"input {name!r}: not numeric ({e})") from e
        given = ~np.isnan(v)
        if np.isinf(v).any():
            raise BundleError(
                f"input {name!r}: infinite value at row {int(np.flatnonzero(np.isinf(v))[0])}"
            )
        if inp["type"] == "integer":
            bad = given & (v != np.floor(v))
            if bad.any():
                raise BundleError(
                    f"input {name!r}: non-integral value at row {int(np.flatnonzero(bad)[0])}"
                )
        bad = np.zeros(n, dtype=bool)
        if "min" in inp:
            bad |= given & (v < inp["min"])
        if "max" in inp:
            bad |= given & (v > inp["max"])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise BundleError(
                f"input {name!r}: value {v[i]!r} at row {i} outside [{inp.get('min')}, {inp.get('max')}]"
            )
        return v

    @staticmethod
    def _timestamp_input(col, inp, n) -> pd.DatetimeIndex:
        if col is None:
            return pd.DatetimeIndex(np.full(n, np.datetime64("NaT", "us")))
        try:
            if pd.api.types.is_datetime64_any_dtype(col.dtype):
                ts = pd.DatetimeIndex(col)
            else:
                ts = pd.DatetimeIndex(
                    pd.to_datetime(col.map(lambda v: None if v is None else v), format="mixed")
                )
        except (TypeError, ValueError) as e:
            raise BundleError(f"input {inp['name']!r}: not a timestamp ({e})") from e
        if ts.tz is not None:  # keep the local wall-clock time
            ts = ts.tz_localize(None)
        return ts

    def input_columns(self, records) -> dict:
        """({input name: float64 array (NaN = missing) or DatetimeIndex (NaT = missing)}, row count)."""
        df = self._frame(records)
        n = len(df)
        cols = {}
        for inp in self.inputs:
            cnames = self._find_columns(df.columns, inp)
            if not cnames and inp["required"]:
                raise BundleError(f"required input {inp['name']!r} not given")
            col = None
            for c in cnames:  # records may use different names: first non-null one wins
                col = df[c] if col is None else col.where(col.notna(), df[c])
            if inp["type"] == "timestamp":
                cols[inp["name"]] = self._timestamp_input(col, inp, n)
            else:
                cols[inp["name"]] = self._numeric_input(col, inp, n)
        return cols, n

    # ---- features ----
    def _lookup(self, cat):
        """Vectorised vocabulary lookup for a categorical feature (cached)."""
        key = cat["name"]
        if key in self._lookups:
            return self._lookups[key]
        inputs, sep = cat["inputs"], cat.get("separator", "")
        n_in = len(inputs)
        safe = n_in == 1 or (sep != "" and not re.search(r"[0-9\-+]", sep))
        if not safe:
            self._lookups[key] = ("strings", cat["vocabulary"])
            return self._lookups[key]
        parts, idx = [], []
        for s, i in cat["vocabulary"].items():
            p = _canonical_int_parts(s, n_in, sep)
            if p is not None:  # other keys can never equal a canonical decimal category
                parts.append(p)
                idx.append(i)
        arr = np.array(parts, dtype=np.int64).reshape(-1, n_in)
        if n_in == 1:
            index = pd.Index(arr[:, 0])
        else:
            index = pd.MultiIndex.from_arrays([arr[:, j] for j in range(n_in)])
        self._lookups[key] = ("index", index, np.asarray(idx, dtype=np.int64))
        return self._lookups[key]

    def _categorical(self, cat, cols, n):
        vals = [cols[name] for name in cat["inputs"]]
        ok = np.ones(n, dtype=bool)
        for v in vals:
            ok &= ~np.isnan(v) & (np.abs(v) < 2.0**63)
        out = np.full(n, _NOT_FOUND, dtype=np.int64)
        if not ok.any():
            return out
        ints = [np.where(ok, v, 0).astype(np.int64)[ok] for v in vals]
        lk = self._lookup(cat)
        if lk[0] == "index":
            _, index, feat_idx = lk
            if len(index) == 0:
                return out
            if len(ints) == 1:
                pos = index.get_indexer(ints[0])
            else:
                pos = index.get_indexer(pd.MultiIndex.from_arrays(ints))
            found = np.where(pos >= 0, feat_idx[np.maximum(pos, 0)], _NOT_FOUND)
        else:
            vocab, sep = lk[1], cat.get("separator", "")
            strs = [sep.join(str(x) for x in t) for t in zip(*ints, strict=True)]
            found = np.array([vocab.get(s, _NOT_FOUND) for s in strs], dtype=np.int64)
        out[ok] = found
        return out

    def transform(self, records, dtype=np.float32) -> sp.csr_matrix:
        """Estimator input for ``records`` (list of dicts, DataFrame, or dict of columns).

        float32 CSR, shape (n, features.count), sorted column indices, one stored value per feature
        the bundle pipeline sets (explicit zeros included); everything else is missing.
        """
        cols, n = self.input_columns(records)
        idx_cols, val_cols = [], []
        for f in self.features["numeric"]:
            src = cols[f["input"]]
            t = f["transform"]
            if t == "identity":
                v = src
            elif t == "hour_of_day":
                v = (
                    src.hour.to_numpy(dtype=np.float64, na_value=np.nan)
                    + src.minute.to_numpy(dtype=np.float64, na_value=np.nan) / 60.0
                )
            elif t == "day_of_week":
                v = src.day_of_week.to_numpy(dtype=np.float64, na_value=np.nan)
            else:  # pragma: no cover - rejected by the schema
                raise BundleError(f"unknown transform {t!r}")
            present = ~np.isnan(v)
            idx_cols.append(np.where(present, np.int64(f["index"]), _NOT_FOUND))
            val_cols.append(v)
        for c in self.features["categorical"]:
            idx = self._categorical(c, cols, n)
            idx_cols.append(idx)
            val_cols.append(np.ones(n, dtype=np.float64))
        if not idx_cols:
            return sp.csr_matrix((n, self.count), dtype=dtype)
        ix = np.stack(idx_cols, axis=1)
        V = np.stack(val_cols, axis=1).astype(dtype)
        order = np.argsort(ix, axis=1, kind="stable")
        ix = np.take_along_axis(ix, order, axis=1)
        V = np.take_along_axis(V, order, axis=1)
        mask = ix != _NOT_FOUND
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(mask.sum(axis=1), out=indptr[1:])
        indices = ix[mask].astype(np.int32)
        data = V[mask]
        if indptr[-1] < 2**31:
            indptr = indptr.astype(np.int32)
        return sp.csr_matrix((data, indices, indptr), shape=(n, self.count), dtype=dtype)

    # ---- prediction ----
    def predict_matrix(self, X) -> np.ndarray:
        if self.estimator_type == "xgboost":
            return self.booster.inplace_predict(
                X, iteration_range=self.iteration_range, missing=np.nan
            )
        coef = np.asarray(self.estimator["coefficients"], dtype=np.float64)
        X = sp.csr_matrix(X)
        return float(self.estimator["intercept"]) + X.astype(np.float64) @ coef

    def predict(self, records) -> np.ndarray:
        """Durations in minutes: float32 for XGBoost (XGBoost's own result), float64 for linear
        (features in double, as scikit-learn and the C core compute them)."""
        dtype = np.float32 if self.estimator_type == "xgboost" else np.float64
        return self.predict_matrix(self.transform(records, dtype=dtype))


def loads_bundle(
    data: bytes | str, *, validate: bool = True, verify: bool = True, path=None
) -> Bundle:
    doc, booster_text = parse_bundle_text(data)
    if validate:
        validate_schema(doc)
        validate_semantics(doc)
    b = Bundle(doc, booster_text, path)
    if verify:
        b.verify_sha256()
    return b


def load_bundle(path, *, validate: bool = True, verify: bool = True) -> Bundle:
    """Read, validate (schema + format rules), check estimator_sha256, and return a Bundle."""
    return loads_bundle(Path(path).read_bytes(), validate=validate, verify=verify, path=str(path))
