"""One grammar, two readers: the shared corpus tests/fixtures/bundles/grammar/ through both.

Every file under ``accept/`` must load with the Python reader (taxi_duration_ml.bundle.load_bundle) and compile
with the C model library (lib/model/test/bundle_verdict.c, built by ``make -C lib/model``); every file under
``reject/`` must be refused by both. The corpus is written by tests/fixtures/make_grammar_corpus.py.
Accepted files must also load and predict in real XGBoost (the reader's promise that XGBoost never
sees a booster that would crash it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from taxi_duration_ml import bundle

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "bundles" / "grammar"
FILES = sorted(CORPUS.glob("*/*.json"))
VALID = [
    *sorted((ROOT / "tests" / "fixtures" / "bundles").glob("*.json")),
    *sorted((ROOT / "lib" / "model" / "test" / "fixtures").glob("*.bundle.json")),
    ROOT / "python" / "taxi_duration_ml" / "default_bundle.json",
]


def python_verdict(path: Path) -> tuple[bool, str]:
    try:
        bundle.load_bundle(path)
    except bundle.BundleError as e:
        return False, str(e)
    return True, ""


@pytest.fixture(scope="module")
def c_verdicts() -> dict[str, tuple[bool, str]]:
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("no C toolchain to build lib/model/test/bundle_verdict.c")
    build = ROOT / "lib" / "model" / "build"
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "lib" / "model"), str(build / "bundle_verdict")],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            str(build / "bundle_verdict"),
            str(CORPUS / "accept"),
            str(CORPUS / "reject"),
            *map(str, VALID),
        ],
        capture_output=True,
        text=True,
        errors="replace",
    ).stdout
    verdicts = {}
    for line in out.splitlines():
        word, rest = line.split(" ", 1)
        path, _, why = rest.partition(": ")
        verdicts[str(Path(path).resolve())] = (word == "accept", why)
    return verdicts


def test_corpus_is_large_and_covers_both_verdicts():
    names = {p.parent.name for p in FILES}
    assert names == {"accept", "reject"} and len(FILES) > 1000


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_python_and_c_agree_with_the_corpus(path, c_verdicts):
    want = path.parent.name == "accept"
    py_ok, py_why = python_verdict(path)
    c_ok, c_why = c_verdicts[str(path.resolve())]
    assert (py_ok, c_ok) == (want, want), f"python: {py_why!r}; C: {c_why!r}"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_committed_valid_bundles_pass_both_readers(path, c_verdicts):
    assert python_verdict(path) == (True, "")
    assert c_verdicts[str(path.resolve())][0], c_verdicts[str(path.resolve())][1]


# The readers do not need "parents" (they check it when present: a bad entry crashes XGBoost);
# XGBoost's loader requires it and refuses the bundle with an error, which is all we ask of it.
XGBOOST_REFUSES = {"no-parents.json"}


@pytest.mark.parametrize("path", sorted(CORPUS.glob("accept/*.json")), ids=lambda p: p.name)
def test_accepted_bundles_load_and_predict_in_xgboost(path):
    import xgboost

    b = bundle.load_bundle(path)
    rows = [{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 1.0}]
    if path.name in XGBOOST_REFUSES:
        with pytest.raises(xgboost.core.XGBoostError):
            b.predict(rows)
        return
    pred = b.predict(rows)
    assert pred.shape == (1,) and np.isfinite(pred).all()


def test_issue_cases_are_rejected_with_a_reason():
    reasons = {
        "issue-vocabulary-key-nul.json": "NUL",
        "issue-format-nul-junk.json": "NUL",
        "issue-model-name-ff-fe.json": "UTF-8",
        "issue-iteration-range-null.json": "iteration_range",
        "unreachable-parent-out-of-tree.json": "tree 0 node 7 is not reachable",
        "unreachable-not-marked-deleted.json": "tree 0 node 7 is not reachable",
        "leaf-sum-overflows-float32.json": "not finite",
        "type-estimator.booster.learner.learner_model_param.num_feature-0.json": "num_feature",
        "type-estimator.booster.learner.learner_model_param.base_score-2.json": "base_score",
        "dupkey-model.name.json": "duplicate",
        "number-format_version-leading_zero.json": "",
    }
    for name, word in reasons.items():
        ok, why = python_verdict(CORPUS / "reject" / name)
        assert not ok and word in why, (name, why)


def test_c_names_tree_and_node_of_an_unreachable_node(c_verdicts):
    ok, why = c_verdicts[str((CORPUS / "reject" / "unreachable-parent-out-of-tree.json").resolve())]
    assert not ok and "Tree 0 node 7 is not reachable" in why


def test_exporter_refuses_a_booster_with_an_unreachable_node(synthetic_xgb, monkeypatch):
    """bundle_bytes reads back what it writes: a tree XGBoost's loader would crash on is refused."""
    real = bundle.booster_json_bytes(synthetic_xgb.model)
    doc = json.loads(real)
    tree = doc["learner"]["gradient_booster"]["model"]["trees"][0]
    for key, extra in (
        ("left_children", -1),
        ("right_children", -1),
        ("parents", 2147483647),  # outside the tree: XGBoost's loader follows it
        ("split_indices", 2147483647),
        ("default_left", 1),
        ("split_conditions", 0.5),
        ("split_type", 0),
        ("base_weights", 0.0),
        ("loss_changes", 0.0),
        ("sum_hessian", 0.0),
    ):
        tree[key].append(extra)
    param = tree["tree_param"]
    n = int(param["num_nodes"])
    param["num_nodes"], param["num_deleted"] = str(n + 1), "1"
    monkeypatch.setattr(bundle, "booster_json_bytes", lambda _b: json.dumps(doc).encode())
    with pytest.raises(bundle.BundleError, match=f"tree 0 node {n} is not reachable"):
        bundle.bundle_bytes(synthetic_xgb)
    monkeypatch.setattr(bundle, "booster_json_bytes", lambda _b: real)
    assert bundle.loads_bundle(bundle.bundle_bytes(synthetic_xgb)).count > 0
