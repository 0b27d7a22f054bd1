#!/usr/bin/env python3
"""Generate stattest_goldens.h: Evidently 0.7.23's score for every column of
gen_drift_goldens.py (plus a few edge cases below) and every stattest of the
catalogue that tds_stats.h adds to the seven of drift_goldens.h.

The scores come from Evidently itself (its legacy stattest functions, which
call scipy), so run this with Evidently's environment:

    /opt/td-evidently-venv/bin/python lib/stats/test/gen_stattest_goldens.py

Rows are passed sorted by value, reference then current: the order in
which the C library lays out a value map's rows for the two permutation
tests (TVD seeds numpy's generator with 0 itself; empirical_mmd does not,
so numpy is seeded with 0 here just before it).  A test that raises in
Evidently is recorded as an error the C library must report too.
"""

import os
import sys
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from importlib import import_module  # noqa: E402

import gen_drift_goldens as g  # noqa: E402
from evidently.legacy.calculations.stattests import (  # noqa: E402
    anderson_darling_stattest,
    cramer_von_mises_stattest,
    energy_distance,
    epps_singleton_stattest,
    fisher_exact_stattest,
    g_stattest,
    hellinger_distance,
    mann_whitney_urank_stattest,
    mmd_stattest,
    tvd_stattest,
)
from evidently.legacy.core import ColumnType  # noqa: E402

t_test_module = import_module("evidently.legacy.calculations.stattests.t_test")

warnings.simplefilter("ignore")
OUT = os.path.join(HERE, "stattest_goldens.h")

# name -> (function, numerical allowed, categorical allowed)
TESTS = {
    "anderson": (anderson_darling_stattest._anderson_darling, True, False),
    "cramer_von_mises": (cramer_von_mises_stattest._cramer_von_mises, True, False),
    "ed": (energy_distance._energy_dist, True, False),
    "es": (epps_singleton_stattest._epps_singleton, True, False),
    "fisher_exact": (fisher_exact_stattest._fisher_exact_stattest, False, True),
    "g_test": (g_stattest._g_stat_test, False, True),
    "hellinger": (hellinger_distance._hellinger_distance, True, True),
    "mannw": (mann_whitney_urank_stattest._mannwhitneyu_rank, True, False),
    "empirical_mmd": (mmd_stattest._mmd_stattest, True, False),
    "t_test": (t_test_module._t_test2samp, True, False),
    "TVD": (tvd_stattest._tvd_stattest, False, True),
}

MMD_MAX_ROWS = 3000  # Evidently's kernel matrix is (n_ref + n_cur)^2 doubles
TVD_MAX_ROWS = 9000  # Evidently's permutation test is slow in Python


def extra_cases():
    m = g.column_from_map
    s = g.column_from_specs
    U, N, I, C = g.KIND_UNIFORM, g.KIND_NORMAL, g.KIND_INT, g.KIND_CONST  # noqa: E741
    return [
        # Cramer-von Mises exact path (max n <= 20) with and without ties
        s("cvm_exact", True, False, g.spec(U, 0, 1, 12, 201), g.spec(U, 0.3, 1, 20, 202)),
        m("cvm_exact_ties", True, True, [1, 2, 3, 4], [3, 4, 2, 1], [1, 2, 5, 4]),
        s("cvm_21", True, False, g.spec(U, 0, 1, 21, 203), g.spec(U, 0.1, 1, 9, 204)),
        # Mann-Whitney exact (n <= 8, no ties) and asymptotic with ties
        s("mwu_exact_8", True, False, g.spec(N, 0, 1, 8, 205), g.spec(N, 0.5, 1, 30, 206)),
        s("mwu_exact_9", True, False, g.spec(N, 0, 1, 9, 207), g.spec(N, 0.5, 1, 9, 208)),
        m("mwu_small_ties", True, True, [1, 2, 3], [2, 3, 1], [1, 1, 4]),
        # Fisher / G-test: equal windows, binary
        m("bin_equal", False, False, [0, 1], [300, 200], [260, 240]),
        m("bin_equal_far", False, False, [0, 1], [30, 70], [80, 20]),
        m("bin_one_key", False, False, [5], [40], [40]),
        m("bin_only_cur", False, False, [0, 1], [50, 0], [45, 5]),
        m("cat_equal_3", False, False, [1, 2, 3], [100, 60, 40], [90, 50, 60]),
        m("cat_equal_new", False, False, [1, 2, 3, 4], [100, 60, 40, 0], [90, 50, 50, 10]),
        m("cat_equal_same", False, False, [1, 2, 3], [10, 20, 30], [10, 20, 30]),
        # constant columns
        s("const_same", True, False, g.spec(C, 2, 0, 50, 209), g.spec(C, 2, 0, 40, 210)),
        s("const_diff", True, False, g.spec(C, 2, 0, 50, 211), g.spec(C, 3, 0, 40, 212)),
        # Anderson-Darling interpolated (not capped) p-value, Epps-Singleton n < 25
        s("ad_mid", True, False, g.spec(N, 0, 1, 300, 213), g.spec(N, 0.12, 1, 300, 214)),
        s("es_small", True, False, g.spec(N, 0, 1, 12, 215), g.spec(N, 0.4, 1.5, 15, 216)),
        s("ints_small", True, True, g.spec(I, 0, 9, 60, 217), g.spec(I, 1, 9, 70, 218)),
    ]


def evaluate(case, name):
    func, num_ok, cat_ok = TESTS[name]
    if not (num_ok if case["numerical"] else cat_ok):
        return None
    n = len(case["ref"]) + len(case["cur"])
    if name == "empirical_mmd" and n > MMD_MAX_ROWS:
        return None
    if name == "TVD" and n > TVD_MAX_ROWS:
        return None
    dtype = np.int64 if case["integer_dtype"] else np.float64
    ref = pd.Series(np.sort(case["ref"]).astype(dtype))
    cur = pd.Series(np.sort(case["cur"]).astype(dtype))
    ftype = ColumnType.Numerical if case["numerical"] else ColumnType.Categorical
    np.random.seed(0)
    try:
        score = float(func(ref, cur, ftype, 0.1)[0])
    except Exception as e:  # noqa: BLE001 — Evidently's error aborts its report
        return ("error", type(e).__name__ + ": " + str(e).split("\n")[0][:100])
    return ("score", score)


def main():
    cases = g.column_cases() + extra_cases()
    rows = []
    for case in cases:
        for name in TESTS:
            r = evaluate(case, name)
            if r is None:
                continue
            rows.append((case, name, r))
    np.random.seed(0)
    perm = np.random.permutation(25)
    np.random.seed(0)
    draws = np.random.randint(0, 2**32, size=8, dtype=np.uint64)
    with open(OUT, "w") as f:
        f.write(
            "/*\n * stattest_goldens.h — generated by lib/stats/test/gen_stattest_goldens.py;"
            " do not edit.\n * Evidently's scores (evidently 0.7.23 legacy stattests over scipy %s,"
            " numpy %s, pandas %s).\n */\n\n"
            % (__import__("scipy").__version__, np.__version__, pd.__version__)
        )
        for i, case in enumerate(cases):
            if case["vm"] is not None:
                vals, refc, curc = case["vm"]
                f.write(g.carray("double", "sx%d_values" % i, vals, g.cdbl))
                f.write(g.carray("int64_t", "sx%d_ref" % i, refc, g.cint))
                f.write(g.carray("int64_t", "sx%d_cur" % i, curc, g.cint))
        f.write("static const stattest_case stattest_cases[] = {\n")
        for i, case in enumerate(cases):
            rs, cs = case["ref_spec"], case["cur_spec"]
            vm = case["vm"]
            f.write(
                '\t{ "%s", %d, %d, { %d, %s, %s, %d, UINT64_C(%d) }, '
                "{ %d, %s, %s, %d, UINT64_C(%d) }, %d, %s, %s, %s },\n"
                % (
                    case["name"],
                    int(case["numerical"]),
                    int(case["integer_dtype"]),
                    rs[0],
                    g.cdbl(rs[1]),
                    g.cdbl(rs[2]),
                    rs[3],
                    rs[4],
                    cs[0],
                    g.cdbl(cs[1]),
                    g.cdbl(cs[2]),
                    cs[3],
                    cs[4],
                    len(vm[0]) if vm else 0,
                    ("sx%d_values" % i) if vm else "NULL",
                    ("sx%d_ref" % i) if vm else "NULL",
                    ("sx%d_cur" % i) if vm else "NULL",
                )
            )
        f.write("};\n\nstatic const stattest_golden stattest_goldens[] = {\n")
        for case, name, (kind, val) in rows:
            if kind == "score":
                f.write('\t{ "%s", "%s", %s, 0, NULL },\n' % (case["name"], name, g.cdbl(val)))
            else:
                f.write(
                    '\t{ "%s", "%s", NAN, 1, "%s" },\n'
                    % (case["name"], name, val.replace("\\", "").replace('"', "'"))
                )
        f.write("};\n\n")
        f.write(g.carray("int64_t", "golden_mt_permutation_25", perm, g.cint))
        f.write(g.carray("uint64_t", "golden_mt_randint32", draws, lambda v: "UINT64_C(%d)" % v))
    print("wrote", os.path.relpath(OUT), "(%d scores)" % len(rows))


if __name__ == "__main__":
    main()
