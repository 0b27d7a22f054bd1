"""Compare our SQL monitoring report with Evidently's (both in the same JSON shape).

    python3 tests/monitoring/compare.py OURS.json EVIDENTLY.json [--quiet]

Exit status 0 when they agree, 1 on any mismatch (2 on bad input).  From Python:

    from compare import compare, format_table
    problems = compare(ours, evidently)        # [] when they agree

Rules (Evidently's JSON comes from evidently_report.py):
  * the same set of drift columns; per column the same column_type, the same stattest,
    |score_ours - score_evidently| <= 1e-6 (absolute; NaN == NaN; +-inf must match exactly),
    except the text content drift tests (a ROC AUC: a ratio of counts of the same ranking),
    whose score must be the same double,
    the same threshold (1e-12) and the same drifted flag;
  * number_of_columns, number_of_drifted_columns, dataset_drift equal; share within 1e-12.
    Where Evidently disagrees with itself (its DriftedColumnsCount counts differently from its
    own per-column results; see EVIDENTLY_NOTES.md, "+-inf without NaN"), matching the
    per-column-derived numbers ("evidently.from_value_drift") is accepted and reported as a note;
  * regression: every key Evidently gives, per window, within 1e-9 relative
    (absolute 1e-9 when |evidently value| < 1); keys we give that Evidently lacks are notes;
  * if Evidently raised ("error"), ours must carry an "error" too.
Keys that are not part of the report (seconds, peak_rss_mb, evidently, ...) are ignored.
Numbers may also be given as the strings "NaN", "Infinity", "-Infinity" (as jsonb cannot hold
them as numbers).
"""

from __future__ import annotations

import json
import math
import sys

SCORE_ABS_TOL = 1e-6
EXACT_SCORE_TESTS = ("abs_text_content_drift", "perc_text_content_drift")
THRESHOLD_TOL = 1e-12
SHARE_TOL = 1e-12
REG_REL_TOL = 1e-9
REG_ABS_TOL = 1e-9
REGRESSION_KEYS = (
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


def _f(x):
    """A float from a JSON value (numbers, or the strings NaN/Infinity/-Infinity); None stays."""
    if x is None:
        return None
    if isinstance(x, str):
        s = x.strip().lower()
        if s in ("nan",):
            return math.nan
        if s in ("infinity", "inf", "+infinity", "+inf"):
            return math.inf
        if s in ("-infinity", "-inf"):
            return -math.inf
        return float(x)
    return float(x)


def score_diff(a, b) -> tuple[bool, float]:
    """(equal within SCORE_ABS_TOL, |a-b|) with NaN == NaN and exact matching of infinities."""
    a, b = _f(a), _f(b)
    if a is None or b is None:
        return (a is None and b is None), math.nan
    if math.isnan(a) or math.isnan(b):
        return (math.isnan(a) and math.isnan(b)), (
            0.0 if math.isnan(a) and math.isnan(b) else math.nan
        )
    if math.isinf(a) or math.isinf(b):
        return a == b, (0.0 if a == b else math.inf)
    d = abs(a - b)
    return d <= SCORE_ABS_TOL, d


def reg_close(a, b) -> tuple[bool, float]:
    """(equal within 1e-9 relative, or 1e-9 absolute when |b| < 1, rel/abs error)."""
    a, b = _f(a), _f(b)
    if a is None or b is None:
        return (a is None and b is None), math.nan
    if math.isnan(a) or math.isnan(b):
        return (math.isnan(a) and math.isnan(b)), math.nan
    if math.isinf(a) or math.isinf(b):
        return a == b, (0.0 if a == b else math.inf)
    if abs(b) < 1.0:
        d = abs(a - b)
        return d <= REG_ABS_TOL, d
    d = abs(a - b) / abs(b)
    return d <= REG_REL_TOL, d


def compare(ours: dict, evidently: dict, notes: list | None = None) -> list[str]:
    """Mismatches between our report and Evidently's; informational notes go to ``notes``."""
    notes = notes if notes is not None else []
    bad: list[str] = []
    if "error" in evidently:
        if "error" not in ours:
            bad.append(
                f"evidently raised {evidently['error'].get('type')}: "
                f"{evidently['error'].get('message')}; ours produced a report"
            )
        else:
            notes.append("both raised: evidently " + str(evidently["error"].get("message")))
        return bad
    if "error" in ours:
        bad.append(f"ours raised: {ours['error']}; evidently produced a report")
        return bad

    oc, ec = ours.get("columns", {}), evidently.get("columns", {})
    for name in sorted(set(ec) - set(oc)):
        bad.append(f"column {name}: missing in ours (evidently: {ec[name].get('stattest')})")
    for name in sorted(set(oc) - set(ec)):
        bad.append(
            f"column {name}: not a drift column in evidently (ours: {oc[name].get('stattest')})"
        )
    for name in sorted(set(oc) & set(ec)):
        o, e = oc[name], ec[name]
        if o.get("column_type") != e.get("column_type"):
            bad.append(
                f"column {name}: column_type {o.get('column_type')} != {e.get('column_type')}"
            )
        if o.get("stattest") != e.get("stattest"):
            bad.append(f"column {name}: stattest {o.get('stattest')} != {e.get('stattest')}")
        ok, d = score_diff(o.get("score"), e.get("score"))
        if (
            ok
            and e.get("stattest") in EXACT_SCORE_TESTS
            and _f(o.get("score")) != _f(e.get("score"))
        ):
            ok = False
        if not ok:
            bad.append(
                f"column {name}: score {o.get('score')!r} != {e.get('score')!r} (|diff| {d:.3g})"
            )
        ot, et = _f(o.get("threshold")), _f(e.get("threshold"))
        if ot is None or et is None or abs(ot - et) > THRESHOLD_TOL:
            bad.append(f"column {name}: threshold {o.get('threshold')} != {e.get('threshold')}")
        if bool(o.get("drifted")) != bool(e.get("drifted")):
            bad.append(f"column {name}: drifted {o.get('drifted')} != {e.get('drifted')}")

    def dataset_level(ref: dict) -> list[str]:
        out = []
        for k in ("number_of_columns", "number_of_drifted_columns"):
            if k in ref and ours.get(k) != ref.get(k):
                out.append(f"{k}: {ours.get(k)} != {ref.get(k)}")
        if bool(ours.get("dataset_drift")) != bool(ref.get("dataset_drift")):
            out.append(f"dataset_drift: {ours.get('dataset_drift')} != {ref.get('dataset_drift')}")
        os_, es = _f(ours.get("share_of_drifted_columns")), _f(ref.get("share_of_drifted_columns"))
        if (
            os_ is None
            or es is None
            or not (abs(os_ - es) <= SHARE_TOL or (math.isnan(os_) and math.isnan(es)))
        ):
            out.append(
                f"share_of_drifted_columns: {ours.get('share_of_drifted_columns')} != "
                f"{ref.get('share_of_drifted_columns')}"
            )
        return out

    primary = dataset_level(evidently)
    if primary:
        alt = (evidently.get("evidently") or {}).get("from_value_drift")
        consistent = (evidently.get("evidently") or {}).get("consistent", True)
        if alt is not None and not consistent:
            alt_ref = dict(alt, number_of_columns=evidently.get("number_of_columns"))
            if not dataset_level(alt_ref):
                notes.append(
                    "dataset-level numbers match Evidently's per-column ValueDrift results, "
                    "not its DriftedColumnsCount (Evidently is inconsistent here: "
                    + "; ".join(primary)
                    + ")"
                )
                primary = []
        bad.extend(primary)

    ereg = evidently.get("regression")
    oreg = ours.get("regression")
    if ereg:
        if not oreg:
            bad.append("regression: missing in ours")
        else:
            for window in ("current", "reference"):
                ew, ow = ereg.get(window) or {}, oreg.get(window) or {}
                for k in REGRESSION_KEYS:
                    if k not in ew:
                        if k in ow:
                            notes.append(f"regression.{window}.{k}: ours only ({ow[k]})")
                        continue
                    if k not in ow:
                        bad.append(f"regression.{window}.{k}: missing in ours")
                        continue
                    ok, d = reg_close(ow[k], ew[k])
                    if not ok:
                        bad.append(f"regression.{window}.{k}: {ow[k]!r} != {ew[k]!r} (err {d:.3g})")
    elif oreg:
        notes.append("regression: ours only (evidently had no prediction/target)")
    return bad


def _fmt(x) -> str:
    v = _f(x)
    if v is None:
        return "-"
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:.10g}"


def format_table(ours: dict, evidently: dict) -> str:
    """A side-by-side table of both reports."""
    lines = []
    if "error" in evidently or "error" in ours:
        lines.append(f"ours: {ours.get('error', 'report')}")
        lines.append(f"evidently: {evidently.get('error', 'report')}")
        return "\n".join(lines)
    oc, ec = ours.get("columns", {}), evidently.get("columns", {})
    hdr = (
        f"{'column':24} {'type':4} {'stattest':13} {'ours':>14} {'evidently':>14} "
        f"{'|diff|':>9} {'thr':>6} {'drift o/e':>9}"
    )
    lines += [hdr, "-" * len(hdr)]
    for name in sorted(set(oc) | set(ec)):
        o, e = oc.get(name, {}), ec.get(name, {})
        st = (
            e.get("stattest", "-")
            if o.get("stattest") in (None, e.get("stattest"))
            else f"{o.get('stattest')}/{e.get('stattest')}"
        )
        ok, d = score_diff(o.get("score"), e.get("score"))
        ty = e.get("column_type") or o.get("column_type") or "-"
        lines.append(
            f"{name[:24]:24} {ty:4} {str(st)[:13]:13} {_fmt(o.get('score')):>14} "
            f"{_fmt(e.get('score')):>14} {('' if ok else '!') + _fmt(d):>9} "
            f"{_fmt(e.get('threshold', o.get('threshold'))):>6} "
            f"{(str(o.get('drifted', '-'))[0] + '/' + str(e.get('drifted', '-'))[0]):>9}"
        )
    lines.append("")
    for k in (
        "number_of_columns",
        "number_of_drifted_columns",
        "share_of_drifted_columns",
        "dataset_drift",
    ):
        lines.append(f"{k:28} ours={ours.get(k)!s:8} evidently={evidently.get(k)!s}")
    ereg, oreg = evidently.get("regression") or {}, ours.get("regression") or {}
    if ereg or oreg:
        lines.append("")
        lines.append(f"{'regression':26} {'ours':>22} {'evidently':>22} {'err':>9}")
        for window in ("current", "reference"):
            for k in REGRESSION_KEYS:
                ov, ev = (oreg.get(window) or {}).get(k), (ereg.get(window) or {}).get(k)
                if ov is None and ev is None:
                    continue
                ok, d = reg_close(ov, ev)
                lines.append(
                    f"{window[:3] + '.' + k:26} {_fmt(ov):>22} {_fmt(ev):>22} "
                    f"{('' if ok else '!') + _fmt(d):>9}"
                )
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet = "--quiet" in argv
    argv = [a for a in argv if a != "--quiet"]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            ours = json.load(f)
        with open(argv[1], encoding="utf-8") as f:
            evidently = json.load(f)
    except (OSError, ValueError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    notes: list[str] = []
    problems = compare(ours, evidently, notes)
    if not quiet:
        print(format_table(ours, evidently))
        print()
    for n in notes:
        print(f"note: {n}")
    for p in problems:
        print(f"MISMATCH: {p}")
    print(f"{'OK' if not problems else 'FAIL'}: {len(problems)} mismatch(es)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
