"""The bundle's one grammar (docs/bundle-format.md, "Grammar" and "Types"), Python side.

The C model library (lib/model/td_json_strict.c, td_bundle.c, td_xgboost.c) enforces the same rules; the
shared corpus tests/fixtures/bundles/grammar/ holds both to it. This module has

* the JSON layer: a decoder that rejects duplicate keys, NaN/Infinity, numbers longer than 63
  characters or too large for a double, and :func:`check_document`, which rejects strings with
  control characters or lone surrogates and nesting deeper than :data:`MAX_DEPTH`;
* :func:`check_booster`: the embedded XGBoost model checked exactly as the C core checks it
  (integers written as integers, XGBoost's integers-in-strings, every tree reachable from its
  root except XGBoost's own deleted nodes, ``parents`` consistent, float32 leaf sums finite).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

MAX_DEPTH = 128
MAX_NUMBER_CHARS = 63
MAX_STRING_BYTES = 1024
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_TREES = 10000
MAX_NODES_PER_TREE = 1 << 20
MAX_TOTAL_NODES = 1 << 24
MAX_DEPTH_TREE = 64
MAX_VOCABULARY = 1 << 20
UINT32_MAX = 2**32 - 1
INT32_MAX = 2**31 - 1
DELETED_SPLIT = 2147483647  # XGBoost's deleted-node split index (with default_left 1)

XGB_OBJECTIVES = ("reg:squarederror", "reg:linear", "reg:absoluteerror", "reg:pseudohubererror")

_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UINT_TEXT = re.compile(r"(0|[1-9][0-9]*)")
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_BASE_SCORE = re.compile(rf"({_NUMBER})|\[({_NUMBER})\]")


class GrammarError(ValueError):
    """The bundle breaks the grammar; taxi_duration_ml.bundle re-raises it as a BundleError."""


# ---------------------------------------------------------------------------------------------
# JSON layer
# ---------------------------------------------------------------------------------------------


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise GrammarError(f"duplicate JSON key {k!r}")
        d[k] = v
    return d


def _reject_constant(name):
    raise GrammarError(f"non-standard JSON constant {name}")


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise GrammarError(f"number {text[:20]}... is longer than {MAX_NUMBER_CHARS} characters")
    v = float(text)
    if not math.isfinite(v):
        raise GrammarError(f"number {text} is too large for a double")
    return v


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise GrammarError(f"number {text[:20]}... is longer than {MAX_NUMBER_CHARS} characters")
    return int(text)  # at most 63 digits: always finite as a double


DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_reject_constant,
    parse_float=_parse_float,
    parse_int=_parse_int,
)


def check_string(s: str, where: str) -> None:
    m = _CONTROL_OR_SURROGATE.search(s)
    if m is not None:
        c = ord(m.group())
        what = "a NUL" if c == 0 else "a lone surrogate" if c >= 0xD800 else "a control character"
        raise GrammarError(f"{where}: string has {what} (U+{c:04X})")


def check_document(doc) -> None:
    """Strings (keys included) and nesting depth of a parsed document."""
    stack = [(doc, 1, "(root)")]
    while stack:
        v, depth, where = stack.pop()
        if isinstance(v, str):
            check_string(v, where)
        elif isinstance(v, (dict, list)):
            if depth > MAX_DEPTH:
                raise GrammarError(f"nesting deeper than {MAX_DEPTH} arrays and objects")
            if isinstance(v, dict):
                for k, x in v.items():
                    check_string(k, f"{where}: key")
                    stack.append((x, depth + 1, f"{where}/{k}"))
            else:
                stack.extend((x, depth + 1, f"{where}/{i}") for i, x in enumerate(v))


def is_int(v) -> bool:
    """An integer token (JSON ``1``, not ``1.0``, ``1e0`` or ``true``)."""
    return type(v) is int


def check_utf8_length(s, where: str) -> None:
    if isinstance(s, str) and len(s.encode("utf-8")) > MAX_STRING_BYTES:
        raise GrammarError(f"{where} is longer than {MAX_STRING_BYTES} bytes")


# ---------------------------------------------------------------------------------------------
# The XGBoost booster, as td_xgboost.c checks it
# ---------------------------------------------------------------------------------------------


def _uint_param(obj, key, where, required=False, default=0) -> int:
    if not isinstance(obj, dict) or key not in obj:
        if required:
            raise GrammarError(f"the booster's {where} has no {key!r}")
        return default
    v = obj[key]
    if not isinstance(v, str) or _UINT_TEXT.fullmatch(v) is None or int(v) > UINT32_MAX:
        raise GrammarError(
            f"the booster's {where} has a {key!r} that is not a string of decimal digits"
        )
    return int(v)


def base_score(text) -> np.float32:
    if not isinstance(text, str):
        raise GrammarError("the booster's learner_model_param has no 'base_score' string")
    m = _BASE_SCORE.fullmatch(text)
    if m is None:
        raise GrammarError(f"the booster's base_score {text[:40]!r} is not one JSON number")
    num = m.group(1) or m.group(2)
    if len(num) > MAX_NUMBER_CHARS:
        raise GrammarError("the booster's base_score is too long")
    with np.errstate(over="ignore"):
        v = np.float32(float(num))
    if not np.isfinite(v):
        raise GrammarError("the booster's base_score is not a finite float32")
    return v


def _int_array(tree, key, t, n, lo, hi, allow_bool=False) -> list[int]:
    arr = tree.get(key)
    if not isinstance(arr, list) or len(arr) != n:
        raise GrammarError(f"tree {t} has no {key!r} array of num_nodes ({n}) elements")
    out = []
    for i, v in enumerate(arr):
        if allow_bool and isinstance(v, bool):
            v = int(v)
        elif not is_int(v):
            raise GrammarError(f"tree {t} node {i} has a {key!r} value that is not an integer")
        if not lo <= v <= hi:
            raise GrammarError(f"tree {t} node {i} has {key!r} {v}, outside [{lo}, {hi}]")
        out.append(v)
    return out


def _plan_tree(tree, t) -> tuple[int, int]:
    if not isinstance(tree, dict):
        raise GrammarError(f"tree {t} is not an object")
    if not is_int(tree.get("id")) or tree["id"] != t:
        raise GrammarError(f"tree {t} has no integer 'id' equal to its position, {t}")
    param = tree.get("tree_param")
    if not isinstance(param, dict):
        raise GrammarError(f"tree {t} has no 'tree_param' object")
    where = f"tree {t}"
    n = _uint_param(param, "num_nodes", where, required=True)
    deleted = _uint_param(param, "num_deleted", where)
    leaf_vector = _uint_param(param, "size_leaf_vector", where, default=1)
    if n > MAX_NODES_PER_TREE:
        raise GrammarError(f"tree {t} has {n} nodes; the limit is {MAX_NODES_PER_TREE}")
    if n == 0 or deleted >= n:
        raise GrammarError(f"tree {t} has {n} nodes of which {deleted} are deleted")
    if leaf_vector > 1:
        raise GrammarError(f"tree {t} has vector leaves; only single-target models are supported")
    if "categories" in tree and tree["categories"] != []:
        raise GrammarError(f"tree {t} has categorical splits, which are not supported")
    for key in (
        "left_children",
        "right_children",
        "split_indices",
        "split_conditions",
        "default_left",
    ):
        if not isinstance(tree.get(key), list) or len(tree[key]) != n:
            raise GrammarError(f"tree {t} has no {key!r} array of num_nodes ({n}) elements")
    if "parents" in tree and (not isinstance(tree["parents"], list) or len(tree["parents"]) != n):
        raise GrammarError(f"tree {t} has a 'parents' that is not an array of num_nodes elements")
    return n, deleted


def _leaf_range(tree, t, n, deleted, count) -> tuple[np.float32, np.float32]:
    """Check one tree's arrays and structure; the smallest and largest reachable leaf."""
    left = _int_array(tree, "left_children", t, n, -1, INT32_MAX)
    right = _int_array(tree, "right_children", t, n, -1, INT32_MAX)
    split = _int_array(tree, "split_indices", t, n, 0, UINT32_MAX)
    dleft = _int_array(tree, "default_left", t, n, 0, 1, allow_bool=True)
    parents = None
    cond = []
    for i, v in enumerate(tree["split_conditions"]):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise GrammarError(f"tree {t} node {i} has a split condition that is not a number")
        with np.errstate(over="ignore"):
            f = np.float32(v)
        if not np.isfinite(f):
            raise GrammarError(
                f"tree {t} node {i} has a threshold or leaf value that is not a finite float32"
            )
        cond.append(f)
    if "parents" in tree:
        parents = _int_array(tree, "parents", t, n, -1, INT32_MAX)
    if "split_type" in tree:
        st = tree["split_type"]
        if not isinstance(st, list) or any(not is_int(v) or v != 0 for v in st):
            raise GrammarError(f"tree {t} has categorical splits, which are not supported")
    reached = [False] * n
    wparent = [-1] * n
    reached[0] = True
    stack = [(0, 0)]
    count_reached = 1
    leaves = []
    while stack:
        o, d = stack.pop()
        lc, rc = left[o], right[o]
        if lc == -1:
            if rc != -1:
                raise GrammarError(f"tree {t} node {o} has no left child but has right child {rc}")
            leaves.append(cond[o])
            continue
        if lc >= n or rc != lc + 1 or rc >= n:
            raise GrammarError(
                f"tree {t} node {o} has children {lc} and {rc}; the right child must be the left "
                f"child + 1 and below {n}"
            )
        if reached[lc] or reached[rc]:
            raise GrammarError(f"tree {t} node {o} leads to a node reached more than once")
        if split[o] >= count:
            raise GrammarError(
                f"tree {t} node {o} splits on feature {split[o]}, but the model has {count}"
            )
        if d + 1 > MAX_DEPTH_TREE:
            raise GrammarError(f"tree {t} is deeper than {MAX_DEPTH_TREE} levels")
        reached[lc] = reached[rc] = True
        wparent[lc] = wparent[rc] = o
        count_reached += 2
        if count_reached > n - deleted:
            raise GrammarError(
                f"tree {t} has more nodes reachable from its root than num_nodes minus num_deleted"
            )
        stack.append((rc, d + 1))
        stack.append((lc, d + 1))
    if n - count_reached != deleted:
        raise GrammarError(
            f"tree {t} has {n - count_reached} nodes not reachable from its root, but num_deleted is {deleted}"
        )
    for i in range(1, n):
        if reached[i]:
            if parents is not None and parents[i] != wparent[i]:
                raise GrammarError(
                    f"tree {t} node {i} has parent {parents[i]} in 'parents', but it is reached from node {wparent[i]}"
                )
        elif (
            left[i] != -1
            or right[i] != -1
            or split[i] != DELETED_SPLIT
            or not dleft[i]
            or (parents is not None and not 0 <= parents[i] < n)
        ):
            raise GrammarError(
                f"tree {t} node {i} is not reachable from the root and is not a deleted node as "
                "XGBoost writes one (no children, split index 2147483647, default_left 1, a parent "
                "in the tree)"
            )
    return min(leaves), max(leaves)


def _iterations(model, n, npt) -> tuple[int, list[int] | None]:
    if "iteration_indptr" not in model:
        if npt == 0 or n % npt != 0:
            raise GrammarError("the booster's tree count is not a multiple of num_parallel_tree")
        return n // npt, None
    ip = model["iteration_indptr"]
    if not isinstance(ip, list):
        raise GrammarError("the booster's 'iteration_indptr' is not an array")
    ok = 2 <= len(ip) <= n + 1 and all(is_int(v) for v in ip)
    ok = ok and ip[0] == 0 and ip[-1] == n and all(a < b for a, b in zip(ip, ip[1:], strict=False))
    if not ok:
        raise GrammarError("the booster's 'iteration_indptr' does not describe its trees")
    return len(ip) - 1, ip


def _tree_range(estimator, learner, iterations, starts, npt) -> tuple[int, int]:
    begin, end = 0, iterations
    if "iteration_range" in estimator:
        r = estimator["iteration_range"]
        if not (
            isinstance(r, list)
            and len(r) == 2
            and all(is_int(v) for v in r)
            and 0 <= r[0] < r[1] <= iterations
        ):
            raise GrammarError(
                f"iteration_range {r!r} is not [begin, end) with 0 <= begin < end <= {iterations}"
            )
        begin, end = r
    else:
        attrs = learner.get("attributes", {})
        if "best_iteration" in attrs:
            b = attrs["best_iteration"]
            if not isinstance(b, str) or _UINT_TEXT.fullmatch(b) is None or int(b) + 1 > iterations:
                raise GrammarError(f"best_iteration {b!r} is not an iteration below {iterations}")
            end = int(b) + 1
    if starts is not None:
        return starts[begin], starts[end]
    return begin * npt, end * npt


def check_booster(estimator: dict, count: int) -> None:
    """Everything td_xgboost.c checks of ``estimator`` (type xgboost) and its booster."""
    booster = estimator.get("booster")
    if not isinstance(booster, dict) or not isinstance(booster.get("learner"), dict):
        raise GrammarError("the estimator has no XGBoost booster with a 'learner' object")
    learner = booster["learner"]
    version = booster.get("version")
    if not isinstance(version, list) or not all(is_int(v) for v in version):
        raise GrammarError("the booster has no 'version' array of integers")
    attrs = learner.get("attributes", {})
    if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
        raise GrammarError("the booster's learner 'attributes' is not an object of strings")
    lmp = learner.get("learner_model_param")
    if not isinstance(lmp, dict):
        raise GrammarError("the booster has no 'learner_model_param' object")
    nf = _uint_param(lmp, "num_feature", "learner_model_param", required=True)
    if nf != count:
        raise GrammarError(f"the booster has {nf} features, but features.count is {count}")
    if _uint_param(lmp, "num_class", "learner_model_param") > 1:
        raise GrammarError("multi-class xgboost models are not supported")
    if _uint_param(lmp, "num_target", "learner_model_param", default=1) > 1:
        raise GrammarError("multi-target xgboost models are not supported")
    base = base_score(lmp.get("base_score"))
    obj = learner.get("objective")
    name = obj.get("name") if isinstance(obj, dict) else None
    if not isinstance(name, str):
        raise GrammarError("the booster has no 'objective.name' string")
    if name not in XGB_OBJECTIVES:
        raise GrammarError(f"xgboost objective {name!r} is not supported")
    gb = learner.get("gradient_booster")
    if not isinstance(gb, dict) or not isinstance(gb.get("name"), str):
        raise GrammarError("the booster has no 'gradient_booster' object with a 'name'")
    if gb["name"] != "gbtree":
        raise GrammarError(f"xgboost booster {gb['name']!r} is not supported (gbtree only)")
    model = gb.get("model")
    trees = model.get("trees") if isinstance(model, dict) else None
    if not isinstance(trees, list):
        raise GrammarError("the booster has no 'model.trees' array")
    n = len(trees)
    if n > MAX_TREES:
        raise GrammarError(f"the booster has more than {MAX_TREES} trees")
    if n == 0:
        raise GrammarError("the booster has no trees")
    gmp = model.get("gbtree_model_param")
    if not isinstance(gmp, dict):
        raise GrammarError("the booster has no 'gbtree_model_param' object")
    if _uint_param(gmp, "num_trees", "gbtree_model_param", default=n) != n:
        raise GrammarError(f"the booster's num_trees differs from its {n} trees")
    npt = _uint_param(gmp, "num_parallel_tree", "gbtree_model_param", default=1)
    info = model.get("tree_info")
    if not isinstance(info, list) or len(info) != n or any(not is_int(g) or g != 0 for g in info):
        raise GrammarError("the booster's 'tree_info' is not one output group 0 per tree")
    iterations, starts = _iterations(model, n, npt)
    begin, end = _tree_range(estimator, learner, iterations, starts, npt)
    if end <= begin:
        raise GrammarError("the iteration range selects no trees")
    sizes, total = [], 0
    for t, tree in enumerate(trees):
        sizes.append(_plan_tree(tree, t))
        total += sizes[-1][0]
        if total > MAX_TOTAL_NODES:
            raise GrammarError(f"the booster has more than {MAX_TOTAL_NODES} nodes in all")
    lo, hi = np.float32(base), np.float32(base)
    with np.errstate(over="ignore", invalid="ignore"):
        for t, tree in enumerate(trees):
            tmin, tmax = _leaf_range(tree, t, *sizes[t], count)
            if begin <= t < end:  # float32 sums, in tree order, as scoring does
                lo, hi = np.float32(lo + tmin), np.float32(hi + tmax)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise GrammarError(
            f"the booster's predictions can reach {lo} or {hi}: base_score plus the smallest "
            "(largest) leaf of each evaluated tree, summed in float32, is not finite"
        )
