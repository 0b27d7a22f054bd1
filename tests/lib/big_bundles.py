"""Bigger bundles made from a real one, for the serving tests and the rollout benchmark.

``scaled_bundle`` repeats the trees (a bigger model, slower to compile); its predictions are
not the original's, so it serves for timing, memory and cancellation only.
"""

from __future__ import annotations

import json


def scaled_bundle(text: str, copies: int, version: str | None = None) -> bytes:
    """The bundle with its trees repeated ``copies`` times (and model version ``version``)."""
    doc = json.loads(text)
    model = doc["estimator"]["booster"]["learner"]["gradient_booster"]["model"]
    trees = model["trees"]
    n = len(trees)
    model["trees"] = [dict(t, id=c * n + i) for c in range(copies) for i, t in enumerate(trees)]
    model["tree_info"] = model["tree_info"] * copies
    model["gbtree_model_param"]["num_trees"] = str(n * copies)
    if "iteration_indptr" in model:
        model["iteration_indptr"] = list(range(0, n * copies + 1))
    doc["estimator"]["iteration_range"] = [0, n * copies]
    doc["model"]["estimator_sha256"] = None
    if version is not None:
        doc["model"]["version"] = version
    return json.dumps(doc).encode()
