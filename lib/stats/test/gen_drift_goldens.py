#!/usr/bin/env python3
"""Generate the golden vectors of tests/unit/test_drift.c with scipy/numpy.

Every expected value in the output is computed here by scipy 1.17, numpy
and pandas (and scikit-learn for R2/RMSE), through the same calls Evidently
0.7.23 makes: the functions below marked "Evidently" are verbatim copies of
legacy/calculations/stattests/*.py and regression_performance.py, so the
goldens do not depend on an importable Evidently.

Sample data is not stored: both this script and the C test draw it from
splitmix64 with the same exact arithmetic (see gen_value below), so a case
is (kind, a, b, n, seed) per window.  A few cases give a value map
(distinct values and counts) instead.

Output (committed; the C tests do not need Python):
    drift_goldens.h   C99 initialisers, doubles as hex literals

Run from anywhere:  python3 lib/stats/test/gen_drift_goldens.py
"""

import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.special as sc
from scipy import stats
from scipy.spatial import distance
from scipy.stats import distributions
from scipy.stats._stats_py import _attempt_exact_2kssamp
from sklearn.metrics import r2_score

try:
    from sklearn.metrics import root_mean_squared_error
except ImportError:  # scikit-learn < 1.4
    from sklearn.metrics import mean_squared_error

    def root_mean_squared_error(y_true, y_pred):
        return mean_squared_error(y_true, y_pred, squared=False)


HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "drift_goldens.h")

warnings.simplefilter("ignore")

# ---------------------------------------------------------------------
# Deterministic data, mirrored by test_drift.c
# ---------------------------------------------------------------------

MASK = (1 << 64) - 1

KIND_UNIFORM = 0  # a + b u
KIND_NORMAL = 1  # a + b s, s = u1 + u2 + u3 + u4 - 2 (left to right)
KIND_INT = 2  # a + floor(b u)
KIND_SKEW_INT = 3  # a + floor(b u u)
KIND_INT_NORMAL = 4  # a + floor(b s)
KIND_CONST = 5  # a


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return float(self.next() >> 11) * 2.0**-53


def gen_value(rng, kind, a, b):
    if kind == KIND_UNIFORM:
        return a + b * rng.uniform()
    if kind in (KIND_NORMAL, KIND_INT_NORMAL):
        s = rng.uniform() + rng.uniform()
        s = s + rng.uniform()
        s = s + rng.uniform()
        s = s - 2.0
        if kind == KIND_NORMAL:
            return a + b * s
        return a + float(math.floor(b * s))
    if kind == KIND_INT:
        return a + float(math.floor(b * rng.uniform()))
    if kind == KIND_SKEW_INT:
        u = rng.uniform()
        return a + float(math.floor(b * u * u))
    if kind == KIND_CONST:
        return a
    raise ValueError(kind)


def gen_sample(spec):
    kind, a, b, n, seed = spec
    rng = SplitMix64(seed)
    return np.array([gen_value(rng, kind, a, b) for _ in range(n)], dtype=np.float64)


# ---------------------------------------------------------------------
# Evidently 0.7.23, verbatim (legacy/calculations/stattests)
# ---------------------------------------------------------------------

NUMERICAL, CATEGORICAL = "num", "cat"


def get_unique_not_nan_values_list_from_series(current_data, reference_data):
    return list(set(reference_data.dropna().unique()) | set(current_data.dropna().unique()))


def get_binned_data(reference_data, current_data, feature_type, n, feel_zeroes=True):
    n_vals = reference_data.nunique()
    if feature_type == NUMERICAL and n_vals > 20:
        combined = np.asarray(pd.concat([reference_data, current_data], axis=0).values)
        bins = np.histogram_bin_edges(combined, bins="sturges")
        reference_percents = np.histogram(reference_data, bins)[0] / len(reference_data)
        current_percents = np.histogram(current_data, bins)[0] / len(current_data)
    else:
        keys = get_unique_not_nan_values_list_from_series(
            current_data=current_data, reference_data=reference_data
        )
        ref_feature_dict = {**dict.fromkeys(keys, 0), **dict(reference_data.value_counts())}
        current_feature_dict = {**dict.fromkeys(keys, 0), **dict(current_data.value_counts())}
        reference_percents = np.array([ref_feature_dict[key] / len(reference_data) for key in keys])
        current_percents = np.array([current_feature_dict[key] / len(current_data) for key in keys])
    if feel_zeroes:
        np.place(
            reference_percents,
            reference_percents == 0,
            min(reference_percents[reference_percents != 0]) / 10**6
            if min(reference_percents[reference_percents != 0]) <= 0.0001
            else 0.0001,
        )
        np.place(
            current_percents,
            current_percents == 0,
            min(current_percents[current_percents != 0]) / 10**6
            if min(current_percents[current_percents != 0]) <= 0.0001
            else 0.0001,
        )
    return reference_percents, current_percents


def _chi_stat_test(reference_data, current_data, feature_type, threshold):
    keys = get_unique_not_nan_values_list_from_series(
        current_data=current_data, reference_data=reference_data
    )
    ref_feature_dict = {**dict.fromkeys(keys, 0), **dict(reference_data.value_counts())}
    current_feature_dict = {**dict.fromkeys(keys, 0), **dict(current_data.value_counts())}
    k_norm = current_data.shape[0] / reference_data.shape[0]
    f_exp = [ref_feature_dict[key] * k_norm for key in keys]
    f_obs = [current_feature_dict[key] for key in keys]
    p_value = stats.chisquare(f_obs, f_exp)[1]
    return p_value, p_value < threshold


def proportions_diff_z_stat_ind(ref, curr):
    n1 = len(ref)
    n2 = len(curr)
    p1 = float(sum(ref)) / n1
    p2 = float(sum(curr)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    return (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))


def proportions_diff_z_test(z_stat, alternative="two-sided"):
    if alternative == "two-sided":
        return 2 * (1 - stats.norm.cdf(np.abs(z_stat)))
    raise ValueError(alternative)


def _z_stat_test(reference_data, current_data, feature_type, threshold):
    if (
        reference_data.nunique() == 1
        and current_data.nunique() == 1
        and reference_data.unique()[0] == current_data.unique()[0]
    ):
        p_value = 1
    else:
        keys = sorted(
            get_unique_not_nan_values_list_from_series(
                current_data=current_data, reference_data=reference_data
            )
        )
        p_value = proportions_diff_z_test(
            proportions_diff_z_stat_ind(
                reference_data.apply(lambda x, key=keys[0]: 0 if x == key else 1),
                current_data.apply(lambda x, key=keys[0]: 0 if x == key else 1),
            )
        )
    return p_value, p_value < threshold


def _jensenshannon(reference_data, current_data, feature_type, threshold, n_bins=30, base=None):
    reference_percents, current_percents = get_binned_data(
        reference_data, current_data, feature_type, n_bins, False
    )
    jensenshannon_value = distance.jensenshannon(reference_percents, current_percents, base)
    return jensenshannon_value, jensenshannon_value >= threshold


def _psi(reference_data, current_data, feature_type, threshold, n_bins=30):
    reference_percents, current_percents = get_binned_data(
        reference_data, current_data, feature_type, n_bins
    )
    psi_values = (reference_percents - current_percents) * np.log(
        reference_percents / current_percents
    )
    psi_value = np.sum(psi_values)
    return psi_value, psi_value >= threshold


def _kl_div(reference_data, current_data, feature_type, threshold, n_bins=30):
    reference_percents, current_percents = get_binned_data(
        reference_data, current_data, feature_type, n_bins
    )
    kl_div_value = stats.entropy(reference_percents, current_percents)
    return kl_div_value, kl_div_value >= threshold


def _ks_stat_test(reference_data, current_data, feature_type, threshold):
    p_value = stats.ks_2samp(reference_data, current_data)[1]
    return p_value, p_value <= threshold


def _wasserstein_distance_norm(reference_data, current_data, feature_type, threshold):
    norm = max(float(np.std(reference_data)), 0.001)
    wd_norm_value = stats.wasserstein_distance(reference_data, current_data) / norm
    return wd_norm_value, wd_norm_value >= threshold


def _get_default_stattest(reference_data, current_data, feature_type):
    # registry.py::_get_default_stattest, returning the test's name
    n_values = pd.concat([reference_data, current_data]).nunique()
    if reference_data.shape[0] <= 1000:
        if feature_type == NUMERICAL:
            if n_values <= 5:
                return "chisquare" if n_values > 2 else "z"
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if feature_type == NUMERICAL:
        return "jensenshannon" if n_values <= 5 else "wasserstein"
    return "jensenshannon"


# Evidently 0.7.23 legacy/calculations/regression_performance.py
def _calculate_quality_metrics(
    dataset,
    prediction_column,
    target_column,
    conf_interval_n_sigmas=1,
    mape_zero_handling="none",
    mape_replace_value=1.0,
    mape_epsilon=None,
):
    me = np.mean(dataset[prediction_column] - dataset[target_column])
    sde = np.std(dataset[prediction_column] - dataset[target_column], ddof=1)

    abs_err = np.abs(dataset[prediction_column] - dataset[target_column])
    abs_error_max = abs_err.max()
    mae = np.mean(abs_err)
    sdae = np.std(abs_err, ddof=1)

    data = dataset[[prediction_column, target_column]]

    if mape_epsilon is None:
        epsilon = np.finfo(np.float64).eps
    else:
        epsilon = mape_epsilon

    epsilon_values = data[~(abs(data[target_column]) > epsilon)]
    if mape_zero_handling == "drop":
        data.drop(epsilon_values.index, inplace=True)

    abs_perc_err = np.abs(data[prediction_column] - data[target_column]) / np.maximum(
        data[target_column], epsilon
    )
    if mape_zero_handling == "replace" and epsilon_values.size > 0:
        abs_perc_err[epsilon_values.index] = mape_replace_value
    mape = 100.0 * np.mean(abs_perc_err)
    sdape = np.std(abs_perc_err, ddof=1)

    return {
        "mean_error": float(me),
        "mean_abs_error": float(mae),
        "mean_abs_perc_error": float(mape),
        "abs_error_max": abs_error_max,
        "error_std": conf_interval_n_sigmas * float(sde),
        "abs_error_std": conf_interval_n_sigmas * float(sdae),
        "abs_perc_error_std": conf_interval_n_sigmas * float(sdape),
        "near_zero_values": epsilon_values.size,
    }


def _prepare_dataset(dataset, target_column, prediction_column):
    dataset.replace([np.inf, -np.inf], np.nan, inplace=True)
    dataset.dropna(axis=0, how="any", inplace=True, subset=[target_column, prediction_column])


# ---------------------------------------------------------------------
# C output
# ---------------------------------------------------------------------


def cdbl(x):
    x = float(x)
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return x.hex()


def cint(x):
    return "INT64_C(%d)" % int(x)


def carray(ctype, name, values, fmt, per_line=4):
    body = []
    values = list(values)
    for i in range(0, len(values), per_line):
        body.append("\t" + ", ".join(fmt(v) for v in values[i : i + per_line]) + ",")
    if not values:
        body.append("\t0")
    return "static const %s %s[] = {\n%s\n};\n" % (ctype, name, "\n".join(body))


def cstr(s):
    return "NULL" if s is None else '"%s"' % s


# ---------------------------------------------------------------------
# Column cases
# ---------------------------------------------------------------------


def spec(kind, a, b, n, seed):
    return (kind, float(a), float(b), int(n), int(seed))


NOSPEC = (0, 0.0, 0.0, 0, 0)


def column_from_specs(name, numerical, integer_dtype, ref_spec, cur_spec):
    ref = gen_sample(ref_spec)
    cur = gen_sample(cur_spec)
    return dict(
        name=name,
        numerical=numerical,
        integer_dtype=integer_dtype,
        ref_spec=ref_spec,
        cur_spec=cur_spec,
        vm=None,
        ref=ref,
        cur=cur,
    )


def column_from_map(name, numerical, integer_dtype, values, ref_counts, cur_counts):
    values = np.asarray(values, dtype=np.float64)
    ref = np.repeat(values, ref_counts)
    cur = np.repeat(values, cur_counts)
    return dict(
        name=name,
        numerical=numerical,
        integer_dtype=integer_dtype,
        ref_spec=NOSPEC,
        cur_spec=NOSPEC,
        vm=(list(values), list(ref_counts), list(cur_counts)),
        ref=ref,
        cur=cur,
    )


def evaluate_column(case):
    dtype = np.int64 if case["integer_dtype"] else np.float64
    ref = pd.Series(case["ref"].astype(dtype))
    cur = pd.Series(case["cur"].astype(dtype))
    ftype = NUMERICAL if case["numerical"] else CATEGORICAL
    out = dict(
        n_ref=len(ref),
        n_cur=len(cur),
        n_unique=int(pd.concat([ref, cur]).nunique()),
        auto_test=_get_default_stattest(ref, cur, ftype),
    )
    nan = float("nan")
    if case["numerical"]:
        res = stats.ks_2samp(ref, cur)
        out["ks_d"] = float(res.statistic)
        out["ks_p"] = float(_ks_stat_test(ref, cur, ftype, 0.05)[0])
        out["w1"] = float(stats.wasserstein_distance(ref, cur))
        out["ref_std"] = float(np.std(ref))
        out["wasserstein"] = float(_wasserstein_distance_norm(ref, cur, ftype, 0.1)[0])
        combined = np.asarray(pd.concat([ref, cur], axis=0).values)
        edges = np.histogram_bin_edges(combined, bins="sturges")
        out["sturges_edges"] = [float(e) for e in edges]
        out["sturges_ref"] = [int(c) for c in np.histogram(ref, edges)[0]]
        out["sturges_cur"] = [int(c) for c in np.histogram(cur, edges)[0]]
    else:
        out.update(
            ks_d=nan,
            ks_p=nan,
            w1=nan,
            ref_std=nan,
            wasserstein=nan,
            sturges_edges=[],
            sturges_ref=[],
            sturges_cur=[],
        )
    out["binned_sturges"] = int(case["numerical"] and ref.nunique() > 20)
    out["chi2_p"] = float(_chi_stat_test(ref, cur, ftype, 0.05)[0])
    out["z_p"] = float(_z_stat_test(ref, cur, ftype, 0.05)[0])
    out["js"] = float(_jensenshannon(ref, cur, ftype, 0.1)[0])
    out["psi"] = float(_psi(ref, cur, ftype, 0.1)[0])
    out["kl"] = float(_kl_div(ref, cur, ftype, 0.1)[0])
    return out


def find_pow2_bump_seed():
    """A seed whose 32 + 32 uniform values get log2(64) + 2 = 8 Sturges bins."""
    for seed in range(1, 5000):
        ref = gen_sample(spec(KIND_UNIFORM, 0, 1, 32, seed))
        cur = gen_sample(spec(KIND_UNIFORM, 0, 1, 32, seed + 100000))
        if len(np.histogram_bin_edges(np.concatenate([ref, cur]), "sturges")) - 1 == 8:
            return seed
    raise RuntimeError("no power-of-two Sturges case found")


def column_cases():
    # One-letter aliases of the KIND_* constants keep the case table readable.
    U, N, I, S, IN, C = (  # noqa: E741
        KIND_UNIFORM,
        KIND_NORMAL,
        KIND_INT,
        KIND_SKEW_INT,
        KIND_INT_NORMAL,
        KIND_CONST,
    )
    cases = [
        column_from_specs(
            "normal_200_150", True, False, spec(N, 0, 1, 200, 11), spec(N, 0.3, 1, 150, 12)
        ),
        column_from_specs(
            "uniform_equal_n", True, False, spec(U, 0, 1, 500, 21), spec(U, 0.05, 1, 500, 22)
        ),
        column_from_specs(
            "ints_ties", True, True, spec(I, 0, 30, 800, 31), spec(S, 0, 30, 600, 32)
        ),
        column_from_specs(
            "int_normal_ties", True, True, spec(IN, 100, 12, 1000, 41), spec(IN, 101, 12, 1000, 42)
        ),
        column_from_specs(
            "cur_over_10000", True, False, spec(N, 10, 2, 1000, 51), spec(N, 10.1, 2, 12000, 52)
        ),
        column_from_specs(
            "both_large", True, False, spec(N, -5, 3, 20000, 61), spec(N, -5, 3.2, 15000, 62)
        ),
        column_from_specs("tiny", True, False, spec(U, 0, 1, 5, 71), spec(U, 0.2, 1, 7, 72)),
        column_from_specs("identical", True, False, spec(N, 1, 1, 300, 81), spec(N, 1, 1, 300, 81)),
        column_from_specs(
            "disjoint_exact", True, False, spec(U, 0, 1, 40, 91), spec(U, 2, 1, 60, 92)
        ),
        column_from_specs(
            "disjoint_asymptotic", True, False, spec(U, 0, 1, 2000, 93), spec(U, 2, 1, 11000, 94)
        ),
        column_from_specs("equal_n_h1", True, False, spec(U, 0, 1, 5, 95), spec(U, 0, 1, 5, 96)),
        column_from_specs("cat3", False, False, spec(S, 0, 3, 700, 101), spec(I, 0, 3, 500, 102)),
        column_from_specs("cat2", False, False, spec(I, 1, 2, 900, 111), spec(S, 1, 2, 400, 112)),
        column_from_specs(
            "cat12_large", False, False, spec(S, 0, 12, 5000, 121), spec(I, 0, 12, 3000, 122)
        ),
        column_from_specs(
            "cat_new_key", False, False, spec(I, 0, 4, 300, 131), spec(I, 1, 4, 200, 132)
        ),
        column_from_specs(
            "num_few_large", True, True, spec(I, 0, 4, 2000, 141), spec(S, 0, 4, 1500, 142)
        ),
        column_from_specs(
            "num_const_ref", True, False, spec(C, 3.5, 0, 400, 151), spec(N, 3.5, 0.01, 300, 152)
        ),
        column_from_specs(
            "shifted_bins", True, False, spec(U, 0, 1, 3000, 161), spec(U, 0.5, 1, 2000, 162)
        ),
        column_from_specs(
            "num_25_unique", True, True, spec(I, 0, 25, 1200, 171), spec(I, 3, 25, 900, 172)
        ),
        column_from_specs(
            "z_single_same", False, False, spec(C, 7, 0, 50, 181), spec(C, 7, 0, 60, 182)
        ),
        column_from_specs(
            "z_single_diff", False, False, spec(C, 7, 0, 50, 183), spec(C, 8, 0, 60, 184)
        ),
    ]
    seed = find_pow2_bump_seed()
    cases.append(
        column_from_specs(
            "sturges_pow2_bump",
            True,
            False,
            spec(U, 0, 1, 32, seed),
            spec(U, 0, 1, 32, seed + 100000),
        )
    )
    # Evidently's chi-square golden (tests/stattests/test_stattests.py)
    cases.append(
        column_from_map(
            "chi2_golden",
            False,
            False,
            [1, 2, 3, 4, 5, 6],
            [16, 18, 16, 14, 12, 12],
            [16, 16, 16, 16, 16, 8],
        )
    )
    cases.append(
        column_from_map(
            "chi2_golden_doubled",
            False,
            False,
            [1, 2, 3, 4, 5, 6],
            [32, 36, 32, 28, 24, 24],
            [16, 16, 16, 16, 16, 8],
        )
    )
    # numpy >= 2.1 clamps the Sturges width of integer data at 1: 21 bins, not 22
    vals = list(range(22))
    refc = [50000 + 37 * i for i in vals]
    curc = [20000 + 11 * i for i in vals]
    cases.append(column_from_map("sturges_int_clamp", True, True, vals, refc, curc))
    cases.append(column_from_map("sturges_float_noclamp", True, False, vals, refc, curc))
    # a reference share <= 1e-4: zeros become min_share / 1e6
    vals = [float(i) * 0.25 for i in range(40)]
    refc = [0 if i in (5, 17) else (1 if i == 30 else 1000 + i) for i in range(40)]
    curc = [0 if i in (3, 30, 31) else 500 + 2 * i for i in range(40)]
    cases.append(column_from_map("tiny_share_fill", True, False, vals, refc, curc))
    return cases


# ---------------------------------------------------------------------
# Function grids
# ---------------------------------------------------------------------


def ks_pvalue_reference(d, n1, n2):
    """ks_2samp's p-value path after D (two-sided, method='auto')."""
    g = math.gcd(n1, n2)
    mode = "exact" if max(n1, n2) <= 10000 else "asymp"
    prob = None
    if mode == "exact":
        success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        if not success:
            mode = "asymp"
    if mode == "asymp":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        prob = distributions.kstwo.sf(d, np.round(en))
    return float(np.clip(prob, 0, 1)), mode


def ks_grid():
    rng = np.random.default_rng(20261201)
    pairs = [
        (1, 1),
        (1, 2),
        (2, 3),
        (3, 7),
        (5, 5),
        (7, 7),
        (10, 10),
        (13, 13),
        (50, 60),
        (100, 100),
        (150, 149),
        (1000, 1000),
        (1000, 999),
        (500, 2000),
        (1000, 10000),
        (1000, 10001),
        (10000, 10000),
        (20000, 15000),
        (7, 10000),
        (3000, 4000),
        (1, 20000),
        (999, 12000),
        (300, 100000),
    ]
    rows = []
    for n1, n2 in pairs:
        scale = 3 * math.sqrt((n1 + n2) / (n1 * n2))
        # the exact method costs O(n1 n2 D): large D only for small samples
        costly = max(n1, n2) <= 10000 and n1 != n2 and n1 * n2 > 2000000
        ds = list(rng.uniform(0, min(scale, 1.0), 8)) + [0.0, 1.0 / max(n1, n2)]
        if not costly:
            ds += list(rng.uniform(0, 1, 4)) + [1.0, 0.5]
        for d in ds:
            p, mode = ks_pvalue_reference(float(d), n1, n2)
            rows.append((float(d), n1, n2, p, mode))
    # n1 = n2 with D = 1/n: the exact sum exceeds 1 and scipy goes asymptotic
    for n in (5, 7, 13, 30):
        p, mode = ks_pvalue_reference(1.0 / n, n, n)
        assert mode == "asymp", (n, mode)
        rows.append((1.0 / n, n, n, p, mode))
    return rows


def kstwo_grid():
    rng = np.random.default_rng(7)
    rows = []
    for n in [
        1,
        2,
        3,
        5,
        10,
        30,
        100,
        139,
        140,
        141,
        200,
        500,
        1000,
        3000,
        10000,
        50000,
        100000,
        100001,
        300000,
    ]:
        xs = [
            0.5 / n,
            0.75 / n,
            1.0 / n,
            1 - 1.0 / n,
            0.5,
            0.4999,
            1.0,
            0.0,
            (1.4 / n) ** (2 / 3) * 0.99,
            (1.4 / n) ** (2 / 3) * 1.01,
        ]
        if n <= 10000:
            xs += list(rng.uniform(0, 1, 6)) + list(
                rng.uniform(0.5 / n, min(1.0, 4 / math.sqrt(n)), 14)
            )
            # the branch boundaries of _kolmogn
            for target in (0.754693, 4.0, 2.2, 18.0, 370.0):
                xs += [math.sqrt(target / n) * 0.999, math.sqrt(target / n) * 1.001]
        else:
            # smirnov(n, x) sums O(n) terms: one such point, and none above 10^5
            xs += list(rng.uniform(0.5 / n, math.sqrt(2.2 / n), 5))
            xs += [
                math.sqrt(0.754693 / n) * 0.999,
                math.sqrt(0.754693 / n) * 1.001,
                math.sqrt(2.2 / n) * 0.999,
                math.sqrt(370.0 / n) * 1.001,
            ]
            if n <= 100001:
                xs.append(math.sqrt(2.2 / n) * 1.001)
        for x in xs:
            x = float(x)
            rows.append((x, float(n), float(stats.kstwo.sf(x, n))))
    return rows


def smirnov_grid():
    rng = np.random.default_rng(8)
    rows = []
    for n in [
        1,
        2,
        3,
        5,
        7,
        10,
        11,
        20,
        50,
        100,
        140,
        141,
        500,
        1000,
        5000,
        10000,
        100000,
        1000000,
        2000000,
    ]:
        xs = [1.0 / n, 0.5, 1 - 1.0 / n, 0.999999, 1e-9, 0.0, 1.0]
        if n <= 10000:
            xs += [0.05]
            xs += list(rng.uniform(0, 1, 8)) + list(rng.uniform(0, min(1.0, 3 / math.sqrt(n)), 8))
            xs += [2.0 / n]
        elif n <= 100000:
            xs += [3 / math.sqrt(n)]  # one O(n) sum (upper and lower tails above)
        elif n > 1000000:
            xs += list(rng.uniform(0, 3 / math.sqrt(n), 4))  # the asymptotic formula
        for x in xs:
            x = float(x)
            rows.append((n, x, float(sc.smirnov(n, x))))
    return rows


def igamc_grid():
    rng = np.random.default_rng(9)
    rows = []
    for a in [
        0.01,
        0.3,
        0.5,
        1,
        1.5,
        2,
        3,
        5,
        10,
        15,
        20.5,
        25,
        50,
        100,
        150,
        199.5,
        200.5,
        250,
        500,
        1000,
        5000,
        50000,
    ]:
        xs = list(rng.uniform(0, 3 * a + 5, 8)) + [
            a,
            a * 0.9,
            a * 1.1,
            a * 0.75,
            a * 1.3,
            0.3,
            0.5,
            0.7,
            1.0,
            1.1,
            1.2,
            1e-5,
        ]
        for x in xs:
            x = float(x)
            rows.append((float(a), x, float(sc.gammaincc(a, x))))
    for a, x in [(0.0, 1.0), (0.0, 0.0), (1.0, 0.0), (1.0, float("inf")), (2.0, float("nan"))]:
        rows.append((a, x, float(sc.gammaincc(a, x))))
    return rows


def chdtrc_grid():
    rows = []
    for df in [1, 2, 3, 4, 5, 9, 30, 41, 42, 60, 100, 399, 401, 1000, 3000]:
        for f in [0.01, 0.5, 0.9, 1.0, 1.1, 1.5, 3.0, 10.0]:
            x = float(df * f)
            rows.append((x, float(df), float(sc.chdtrc(df, x))))
    for df, x in [(0, 0.0), (0, 1e-30), (5, float("inf")), (3, 0.0)]:
        rows.append((float(x), float(df), float(sc.chdtrc(df, x))))
    return rows


def ndtr_grid():
    xs = [
        -40,
        -10,
        -8.3,
        -5,
        -1.5,
        -1.414,
        -1.4143,
        -1,
        -0.5,
        -1e-8,
        0,
        1e-8,
        0.5,
        1,
        1.4142,
        1.4143,
        2,
        3.5,
        5,
        8.3,
        10,
        40,
    ]
    rng = np.random.default_rng(10)
    xs += list(rng.normal(0, 3, 30))
    return [(float(x), float(sc.ndtr(x)), float(stats.norm.sf(x))) for x in xs]


# ---------------------------------------------------------------------
# Regression cases
# ---------------------------------------------------------------------

ZERO_HANDLINGS = ("replace", "drop", "none")  # TD_ZERO_REPLACE, DROP, NONE


def gen_regression(case):
    rng = SplitMix64(case["seed"])
    ts, ps = [], []
    for i in range(case["n"]):
        t = gen_value(rng, KIND_NORMAL, case["ta"], case["tb"])
        p = t + gen_value(rng, KIND_NORMAL, case["pbias"], case["pb"])
        if case["const_target"]:
            t = case["ta"]
            p = case["ta"] if case["pb"] == 0 else p
        if case["zero_mod"] and i % case["zero_mod"] == 0:
            t = 0.0
        if case["tiny_mod"] and i % case["tiny_mod"] == 1:
            t = 1e-17
        if case["neg_mod"] and i % case["neg_mod"] == 2:
            t = -t
        if case["nan_mod"] and i % case["nan_mod"] == 3:
            p = float("nan")
        if case["inf_mod"] and i % case["inf_mod"] == 4:
            t = float("inf")
        ts.append(t)
        ps.append(p)
    return np.array(ts), np.array(ps)


def regression_cases():
    base = dict(
        ta=20.0,
        tb=8.0,
        pb=3.0,
        pbias=0.5,
        zero_mod=0,
        tiny_mod=0,
        neg_mod=0,
        nan_mod=0,
        inf_mod=0,
        const_target=0,
    )
    defs = [
        dict(name="plain_1000", n=1000, seed=1001),
        dict(
            name="zeros_nan_inf",
            n=3000,
            seed=1002,
            zero_mod=37,
            tiny_mod=53,
            nan_mod=41,
            inf_mod=97,
        ),
        dict(name="negative_targets", n=800, seed=1003, ta=2.0, tb=5.0, neg_mod=7, zero_mod=101),
        dict(name="large_offset", n=20000, seed=1004, ta=1e6, tb=3.0, pb=0.7, pbias=0.0),
        dict(name="const_target_perfect", n=50, seed=1005, ta=5.0, pb=0.0, const_target=1),
        dict(name="const_target_noisy", n=50, seed=1006, ta=5.0, const_target=1),
        dict(name="two_rows", n=2, seed=1007),
        dict(name="one_row", n=1, seed=1008),
    ]
    out = []
    for d in defs:
        case = dict(base)
        case.update(d)
        t, p = gen_regression(case)
        case["expected"] = []
        for zh in ZERO_HANDLINGS:
            df = pd.DataFrame({"target": t, "prediction": p})
            _prepare_dataset(df, "target", "prediction")
            n = len(df)
            if n >= 1:
                m = _calculate_quality_metrics(
                    df.copy(), "prediction", "target", mape_zero_handling=zh, mape_replace_value=1.0
                )
                rmse = float(root_mean_squared_error(df["target"], df["prediction"]))
                r2 = float(r2_score(df["target"], df["prediction"])) if n >= 2 else float("nan")
            else:
                m = {
                    k: float("nan")
                    for k in (
                        "mean_error",
                        "mean_abs_error",
                        "mean_abs_perc_error",
                        "abs_error_max",
                        "error_std",
                        "abs_error_std",
                        "abs_perc_error_std",
                    )
                }
                rmse = r2 = float("nan")
            case["expected"].append(
                dict(
                    n=n,
                    mean_error=m["mean_error"],
                    error_std=m["error_std"],
                    mae=m["mean_abs_error"],
                    abs_error_std=m["abs_error_std"],
                    abs_error_max=float(m["abs_error_max"]),
                    mape=m["mean_abs_perc_error"],
                    abs_perc_error_std=m["abs_perc_error_std"],
                    rmse=rmse,
                    r2=r2,
                )
            )
        out.append(case)
    return out


# ---------------------------------------------------------------------
# Writing the header
# ---------------------------------------------------------------------


def write_columns(f, cases):
    for i, case in enumerate(cases):
        ev = case["eval"]
        f.write(carray("double", "col%d_edges" % i, ev["sturges_edges"], cdbl))
        f.write(carray("int64_t", "col%d_sref" % i, ev["sturges_ref"], cint))
        f.write(carray("int64_t", "col%d_scur" % i, ev["sturges_cur"], cint))
        if case["vm"] is not None:
            vals, refc, curc = case["vm"]
            f.write(carray("double", "col%d_vm_values" % i, vals, cdbl))
            f.write(carray("int64_t", "col%d_vm_ref" % i, refc, cint))
            f.write(carray("int64_t", "col%d_vm_cur" % i, curc, cint))
    f.write("\nstatic const golden_column golden_columns[] = {\n")
    for i, case in enumerate(cases):
        ev = case["eval"]
        rs, cs = case["ref_spec"], case["cur_spec"]
        vm = case["vm"]
        f.write(
            '\t{"%s", %d, %d,\n'
            % (case["name"], int(case["numerical"]), int(case["integer_dtype"]))
        )
        f.write(
            "\t\t{%d, %s, %s, %d, UINT64_C(%d)}, {%d, %s, %s, %d, UINT64_C(%d)},\n"
            % (
                rs[0],
                cdbl(rs[1]),
                cdbl(rs[2]),
                rs[3],
                rs[4],
                cs[0],
                cdbl(cs[1]),
                cdbl(cs[2]),
                cs[3],
                cs[4],
            )
        )
        if vm is None:
            f.write("\t\t0, NULL, NULL, NULL,\n")
        else:
            f.write(
                "\t\t%d, col%d_vm_values, col%d_vm_ref, col%d_vm_cur,\n" % (len(vm[0]), i, i, i)
            )
        f.write(
            '\t\t%s, %s, %s, "%s",\n'
            % (cint(ev["n_ref"]), cint(ev["n_cur"]), cint(ev["n_unique"]), ev["auto_test"])
        )
        f.write(
            "\t\t%s, %s, %s, %s, %s,\n"
            % tuple(cdbl(ev[k]) for k in ("ks_d", "ks_p", "w1", "ref_std", "wasserstein"))
        )
        f.write(
            "\t\t%s, %s, %s, %s, %s,\n"
            % tuple(cdbl(ev[k]) for k in ("chi2_p", "z_p", "js", "psi", "kl"))
        )
        f.write(
            "\t\t%d, %d, col%d_edges, col%d_sref, col%d_scur},\n"
            % (ev["binned_sturges"], max(len(ev["sturges_edges"]) - 1, 0), i, i, i)
        )
    f.write("};\n\n")


def write_grid(f, ctype, name, rows, fmt):
    f.write("static const %s %s[] = {\n" % (ctype, name))
    for r in rows:
        f.write("\t{%s},\n" % fmt(r))
    f.write("};\n\n")


def write_regression(f, cases):
    f.write("static const golden_regression golden_regressions[] = {\n")
    for c in cases:
        f.write(
            '\t{"%s", %d, UINT64_C(%d), %s, %s, %s, %s, %d, %d, %d, %d, %d, %d,\n\t\t{\n'
            % (
                c["name"],
                c["n"],
                c["seed"],
                cdbl(c["ta"]),
                cdbl(c["tb"]),
                cdbl(c["pb"]),
                cdbl(c["pbias"]),
                c["zero_mod"],
                c["tiny_mod"],
                c["neg_mod"],
                c["nan_mod"],
                c["inf_mod"],
                c["const_target"],
            )
        )
        for e in c["expected"]:
            f.write(
                "\t\t\t{%d, %s},\n"
                % (
                    e["n"],
                    ", ".join(
                        cdbl(e[k])
                        for k in (
                            "mean_error",
                            "error_std",
                            "mae",
                            "abs_error_std",
                            "abs_error_max",
                            "mape",
                            "abs_perc_error_std",
                            "rmse",
                            "r2",
                        )
                    ),
                )
            )
        f.write("\t\t}},\n")
    f.write("};\n\n")


def main():
    cases = column_cases()
    for case in cases:
        case["eval"] = evaluate_column(case)
    with open(OUT, "w") as f:
        f.write(
            "/*\n * drift_goldens.h — generated by lib/stats/test/gen_drift_goldens.py; do not edit.\n"
            " * scipy %s, numpy %s, pandas %s, Python %s.\n"
            " * Included by test_drift.c after its golden_* struct definitions.\n */\n\n"
            % (scipy.__version__, np.__version__, pd.__version__, sys.version.split()[0])
        )
        write_columns(f, cases)
        write_grid(
            f,
            "golden_ks",
            "golden_ks_pvalues",
            ks_grid(),
            lambda r: (
                "%s, %d, %d, %s, %d" % (cdbl(r[0]), r[1], r[2], cdbl(r[3]), int(r[4] == "exact"))
            ),
        )
        write_grid(
            f,
            "golden_f2",
            "golden_kstwo",
            kstwo_grid(),
            lambda r: "%s, %s, %s" % (cdbl(r[0]), cdbl(r[1]), cdbl(r[2])),
        )
        write_grid(
            f,
            "golden_f2",
            "golden_smirnov",
            smirnov_grid(),
            lambda r: "%s, %s, %s" % (cdbl(r[0]), cdbl(r[1]), cdbl(r[2])),
        )
        write_grid(
            f,
            "golden_f2",
            "golden_igamc",
            igamc_grid(),
            lambda r: "%s, %s, %s" % (cdbl(r[0]), cdbl(r[1]), cdbl(r[2])),
        )
        write_grid(
            f,
            "golden_f2",
            "golden_chdtrc",
            chdtrc_grid(),
            lambda r: "%s, %s, %s" % (cdbl(r[0]), cdbl(r[1]), cdbl(r[2])),
        )
        write_grid(
            f,
            "golden_f2",
            "golden_ndtr",
            ndtr_grid(),
            lambda r: "%s, %s, %s" % (cdbl(r[0]), cdbl(r[1]), cdbl(r[2])),
        )
        write_regression(f, regression_cases())
    print("wrote", os.path.relpath(OUT), "(%d columns)" % len(cases))


if __name__ == "__main__":
    main()
