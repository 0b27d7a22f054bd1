"""One stored drift report as an Evidently 0.7 snapshot (``SnapshotModel``, as JSON-ready dict).

:func:`snapshot` turns one ``drift_report()`` result — a monitor's window or a plain report — into
what Evidently's ``DataDriftPreset`` + ``RegressionPreset`` with ``include_tests=True`` write
(learnt from Evidently 0.7.23's own output on real months; :mod:`.evidently_workspace` lays the
snapshots out as a Workspace its UI loads):

* ``metric_results``: ``DriftedColumnsCount`` (CountValue: count, share; test "Share of Drifted
  Columns: Less <drift_share>", FAIL ⇔ our dataset_drift), one ``ValueDrift`` per column
  (SingleValue: our score; method = our stattest display name; threshold; test FAIL ⇔ our
  drifted flag), and with prediction and target ``MeanError``/``MAE``/``MAPE`` (MeanStdValue:
  mean, std) and ``RMSE``/``R2Score``/``AbsMaxError`` (SingleValue), current window. Their tests
  are Evidently's defaults with a reference: equal to the reference value ± 10 %.
* ``widgets`` (what the UI and ``Snapshot.get_html_str()`` draw): the preset's dataset-drift
  counters, the "Data Drift Summary" table (per column: type, reference and current
  distributions, verdict, test, score rounded to 6 digits, sorted by score), and the regression
  counters of both windows; ``tests_widgets``: the test counts and the test list.

What Evidently draws and we do not store: the per-row plots (values against the row index,
predicted against actual, the error plots and error histograms) need the rows, so they are left
out. The distributions come from the report's ``histogram`` (option ``"histograms": true``):
Sturges bins over both windows (Evidently: 10 bins per window), at most 50 categories with the
rest pooled as "other"; without histograms the table has no distribution cells. Metric ids are
MD5s of the metric's params (Evidently's are MD5s of its own field fingerprint, so they differ).
The reference window's regression values are shown in the widgets and the tests, as Evidently
does; its metric results hold the current window only, as Evidently's do.

Strings inside widgets get an invisible word joiner after "<" in "</" and "<!--": Evidently
inlines the widgets unescaped in a ``<script>`` of its HTML page, where a column named
``</script>`` would end the script. The metric results keep every name exact.

Timestamps are written in UTC without a zone, as Evidently writes its own. Standard library only:
Evidently is not needed to write snapshots.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import UTC, datetime

NAMESPACE = uuid.UUID("6f1d3c52-9a4e-5b7f-8c21-0d4e5f6a7b8c")
METRIC = "evidently:metric_v2:"
RESULT = "evidently:metric_result_v2:"
RELATIVE = 0.1  # Evidently's default regression tests: equal to the reference ± 10 %
APPROX_ABSOLUTE = 1e-12  # ApproxValue.DEFAULT_ABSOLUTE

# our regression keys -> (Evidently metric, display name, short counter label)
MEAN_STD = [
    ("MeanError", "Mean Error", "mean_error", "error_std", "ME"),
    ("MAE", "Mean Absolute Error", "mae", "abs_error_std", "MAE"),
    ("MAPE", "Mean Absolute Percentage Error", "mape", "abs_perc_error_std", "MAPE"),
]
SINGLE = [
    ("RMSE", "RMSE", "rmse"),
    ("R2Score", "R2 Score", "r2"),
    ("AbsMaxError", "Absolute Max Error", "abs_error_max"),
]
# the params Evidently's RegressionPreset gives each metric (part of the metric's config)
REGRESSION_PARAMS = {
    "MeanError": {"error_plot": True, "error_distr": False, "error_normality": False},
    "MAE": {"error_plot": False, "error_distr": True, "error_normality": False},
    "MAPE": {"perc_error_plot": True, "error_distr": False},
    "RMSE": {"error_plot": False, "error_distr": True, "error_normality": False},
    "R2Score": {"error_distr": False, "error_normality": False},
    "AbsMaxError": {"error_distr": False, "error_normality": False},
}
CURRENT_COLOUR, REFERENCE_COLOUR = "#ed0400", "#4d4d4d"


class ExportError(ValueError):
    """A report that cannot be written as a snapshot (no columns: an empty window)."""


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _uuid(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _num(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _fmt(v, digits: int) -> str:
    f = _num(v)
    if f is None:
        return "—"
    return f"{round(f, digits)}" if math.isfinite(f) else str(f)


def _utc_naive(t) -> str:
    if isinstance(t, str):
        t = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t.isoformat()


class _Ids:
    """Deterministic widget ids inside one snapshot."""

    def __init__(self, snapshot_id: str):
        self.base, self.n = snapshot_id, 0

    def __call__(self) -> str:
        self.n += 1
        return _uuid(self.base, "widget", self.n)


def _widget(ids: _Ids, wtype: str, *, title="", size=2, params=None, linked=None, **extra) -> dict:
    w = {
        "type": wtype,
        "title": title,
        "size": size,
        "id": ids(),
        "details": "",
        "alertsPosition": None,
        "alertStats": None,
        "params": params,
        "insights": [],
        "additionalGraphs": [],
        "alerts": [],
        "tabs": [],
        "widgets": [],
        "pageSize": 5,
        "source_fingerprint": None,
        "linked_metrics": linked,
    }
    w.update(extra)
    return w


def _counter(ids: _Ids, counters: list[tuple[str, str]], *, title="", size=2, linked=None) -> dict:
    return _widget(
        ids,
        "counter",
        title=title,
        size=size,
        params={"counters": [{"value": v, "label": lbl} for v, lbl in counters]},
        linked=linked,
    )


def _metric_id(params: dict) -> str:
    """An id from the metric's params (Evidently: an MD5 fingerprint of the metric's fields)."""
    return hashlib.md5(
        ("taxi_duration." + json.dumps(params, sort_keys=True)).encode(), usedforsecurity=False
    ).hexdigest()


def _location(mid: str, params: dict, param: dict | None = None) -> dict:
    return {"metric": {"metric_id": mid, "params": params}, "param": param or {}}


def _single(display: str, mid: str, params: dict, value, param=None, widget=None, tests=None):
    return {
        "type": RESULT + "SingleValue",
        "display_name": display,
        "metric_value_location": _location(mid, params, param),
        "widget": widget,
        "tests": tests or [],
        "value": _num(value),
    }


def _test(tid, name, description, mid, params, status, test_config, bound) -> dict:
    return {
        "id": tid,
        "name": name,
        "description": description,
        "metric_config": {"metric_id": mid, "params": params},
        "test_config": test_config,
        "status": status,
        "bound_test": bound,
    }


def _reference_test(display, mid, params, current, reference, bound_type, **bound_extra):
    """Evidently's default regression test: current equal to the reference ± 10 %."""
    cur, ref = _num(current), _num(reference)
    if cur is None or ref is None:
        return None
    tol = max(abs(ref) * RELATIVE, APPROX_ABSOLUTE)
    ok = ref - tol <= cur <= ref + tol
    config = {
        "type": "evidently:test_v2:EqualMetricTest",
        "is_critical": True,
        "alias": None,
        "label_filters": None,
        "expected": {"relative": RELATIVE, "absolute": None},
    }
    expected = f"{ref:0.3f} ± {tol:0.3f}"
    tail = f", but expected {expected}" if not ok else f" expected {expected}"
    return _test(
        "eq",
        f"{display}: Equal {expected}",
        f"{display}: Actual value {cur:0.3f} {tail}",
        mid,
        params,
        "SUCCESS" if ok else "FAIL",
        config,
        {
            "type": f"evidently:bound_test:{bound_type}",
            "test": {k: v for k, v in config.items() if k != "expected"}
            | {"expected": dict(config["expected"])},
            "metric_fingerprint": mid,
            **bound_extra,
        },
    )


# --------------------------------------------------------------------------------------------
# distributions from the report's histograms
# --------------------------------------------------------------------------------------------


def _small_distribution(hist: dict, window: str) -> dict | None:
    """The table cell: numerical -> density over the bin edges (x: edges, y: one per bin);
    categorical -> counts per category sorted by their text (Evidently's small distributions)."""
    counts = hist.get(window) or []
    if hist.get("kind") == "bins":
        edges = hist.get("edges") or []
        total = sum(counts)
        if len(edges) != len(counts) + 1 or total <= 0:
            return None
        y = [
            c / (total * (b - a)) if b > a else 0.0
            for c, a, b in zip(counts, edges[:-1], edges[1:], strict=True)
        ]
        return {"x": list(edges), "y": y}
    labels = _category_labels(hist)
    if len(labels) != len(counts):
        return None
    pairs = sorted(zip(labels, counts, strict=True), key=lambda p: str(p[0]))
    return {"x": [p[0] for p in pairs], "y": [p[1] for p in pairs]}


def _category_labels(hist: dict) -> list[str]:
    labels = ["null" if v is None else str(v) for v in hist.get("values") or []]
    return labels + (["other"] if hist.get("other") else [])


def _distribution_graph(ids: _Ids, hist: dict) -> dict | None:
    """The "DATA DISTRIBUTION" plot: current and reference bars, counts or percent."""
    if hist.get("kind") == "bins":
        edges = hist.get("edges") or []
        x = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        xaxis = {"title": {"text": ""}}
    else:
        x = _category_labels(hist)
        xaxis = {"title": {"text": ""}, "type": "category"}
    data = []
    for window, name, colour in (
        ("current", "current", CURRENT_COLOUR),
        ("reference", "reference", REFERENCE_COLOUR),
    ):
        counts = hist.get(window) or []
        if len(counts) != len(x):
            return None
        total = sum(counts) or 1
        for visible, y in ((True, counts), (False, [100 * c / total for c in counts])):
            data.append(
                {
                    "marker": {"color": colour},
                    "name": name,
                    "visible": visible,
                    "x": x,
                    "y": list(y),
                    "type": "bar",
                }
            )
    buttons = [
        {
            "args": [{"visible": [True, False, True, False]}, {"yaxis": {"title": "Count"}}],
            "label": "abs",
            "method": "update",
        },
        {
            "args": [{"visible": [False, True, False, True]}, {"yaxis": {"title": "Percent"}}],
            "label": "perc",
            "method": "update",
        },
    ]
    layout = {
        "xaxis": xaxis,
        "yaxis": {"title": {"text": "Count"}},
        "barmode": "group",
        "updatemenus": [
            {
                "buttons": buttons,
                "direction": "right",
                "type": "buttons",
                "x": 1.05,
                "y": 1.2,
                "yanchor": "top",
            }
        ],
    }
    return _widget(ids, "big_graph", params={"data": data, "layout": layout})


# --------------------------------------------------------------------------------------------
# one report -> one snapshot
# --------------------------------------------------------------------------------------------


def _drift(ids: _Ids, report: dict, results: dict, tests: list) -> list[dict]:
    columns = {k: v for k, v in (report.get("columns") or {}).items() if isinstance(v, dict)}
    order = [c for c in report.get("column_order") or [] if c in columns]
    order += [c for c in columns if c not in order]
    n_cols = report.get("number_of_columns")
    n_drift = report.get("number_of_drifted_columns")
    share = report.get("share_of_drifted_columns")
    drift_share = _num(report.get("drift_share"))
    dataset_drift = report.get("dataset_drift")

    cparams = {"type": METRIC + "DriftedColumnsCount", "drift_share": drift_share}
    cid = _metric_id(cparams)
    results[cid] = {
        "type": RESULT + "CountValue",
        "display_name": "Count of Drifted Columns",
        "metric_value_location": _location(cid, cparams),
        "widget": [
            _counter(
                ids, [(_fmt(n_drift, 1), "")], title="Count of Drifted Columns: count", size=1
            ),
            _counter(ids, [(_fmt(share, 2), "")], title="Count of Drifted Columns: share", size=1),
        ],
        "tests": [
            _test(
                "lt",
                f"Share of Drifted Columns: Less {drift_share:.3f}",
                f"Share of Drifted Columns: Actual value {share:.3f} "
                f"{'<' if not dataset_drift else '>='} {drift_share:.3f}",
                cid,
                cparams,
                "FAIL" if dataset_drift else "SUCCESS",
                {
                    "type": "evidently:test_v2:LessThanMetricTest",
                    "is_critical": True,
                    "alias": None,
                    "label_filters": None,
                    "threshold": drift_share,
                },
                {
                    "type": "evidently:bound_test:CountBoundTest",
                    "test": {
                        "type": "evidently:test_v2:LessThanMetricTest",
                        "is_critical": True,
                        "alias": None,
                        "label_filters": None,
                        "threshold": drift_share,
                    },
                    "metric_fingerprint": cid,
                    "is_count": False,
                },
            )
        ],
        "count": _single(
            "Count of Drifted Columns", cid, cparams, n_drift, {"value_type": "count"}
        ),
        "share": _single("Share of Drifted Columns", cid, cparams, share, {"value_type": "share"}),
    }
    tests.extend(results[cid]["tests"])
    for w in results[cid]["widget"]:
        w["linked_metrics"] = [cid]

    rows, graphs = [], []
    for name in order:
        c = columns[name]
        method = c.get("stattest_name") or c.get("stattest") or "—"
        score, drifted = _num(c.get("score")), bool(c.get("drifted"))
        hist = c.get("histogram") if isinstance(c.get("histogram"), dict) else None
        verdict = "Detected" if drifted else "Not Detected"
        if c.get("error"):
            verdict = "Error"
        row = {
            "column_name": name,
            "column_type": c.get("column_type"),
            "stattest_name": method,
            "data_drift": verdict,
            "drift_score": round(score, 6) if score is not None else None,
        }
        details = []
        col_widgets = []
        if hist is not None:
            ref, cur = _small_distribution(hist, "reference"), _small_distribution(hist, "current")
            if ref is not None and cur is not None:
                row["reference_distribution"], row["current_distribution"] = ref, cur
            graph = _distribution_graph(ids, hist)
            if graph is not None:
                graphs.append(graph)
                details.append({"title": "DATA DISTRIBUTION", "id": graph["id"], "type": "widget"})
                col_widgets.append(graph)
        if details:
            row["details"] = {"parts": details}
        rows.append(row)
        if score is None:
            continue  # a column the report could not test (its "error" says why)
        vparams = {
            "type": METRIC + "ValueDrift",
            "column": name,
            "method": method,
            "threshold": _num(c.get("threshold")),
        }
        vid = _metric_id(vparams)
        threshold = _num(c.get("threshold"))
        test = _test(
            "drift",
            f"Value Drift for column {name}",
            f"Drift score is {score:.2f}. The drift detection method is {method}. "
            f"The drift threshold is {threshold:.2f}.",
            vid,
            vparams,
            "FAIL" if drifted else "SUCCESS",
            {},
            {
                "type": "evidently:bound_test:ValueDriftBoundTest",
                "test": {
                    "type": "evidently:test_v2:ValueDriftTest",
                    "is_critical": True,
                    "alias": None,
                    "label_filters": None,
                },
                "metric_fingerprint": vid,
            },
        )
        tests.append(test)
        headline = _counter(
            ids,
            [
                (
                    f"Drift in column '{name}'",
                    f"Data drift {'detected' if drifted else 'not detected'}. Drift detection "
                    f"method: {method}. Drift score: {score:.3f}",
                )
            ],
            linked=[vid],
        )
        results[vid] = _single(
            f"Value drift for {name}",
            vid,
            vparams,
            score,
            widget=[headline]
            + [
                _widget(
                    ids,
                    "tabs",
                    tabs=[{"id": ids(), "title": "DATA DISTRIBUTION", "widget": g}],
                    linked=[vid],
                )
                for g in col_widgets
            ],
            tests=[test],
        )

    rows.sort(key=lambda r: -(r["drift_score"] if r["drift_score"] is not None else -math.inf))
    columns_spec = [
        {"title": "Column", "field": "column_name"},
        {"title": "Type", "field": "column_type"},
    ]
    if any("reference_distribution" in r for r in rows):
        opts = {"xField": "x", "yField": "y", "color": CURRENT_COLOUR}
        columns_spec += [
            {
                "title": "Reference Distribution",
                "field": "reference_distribution",
                "type": "histogram",
                "options": opts,
            },
            {
                "title": "Current Distribution",
                "field": "current_distribution",
                "type": "histogram",
                "options": opts,
            },
        ]
    columns_spec += [
        {"title": "Data Drift", "field": "data_drift"},
        {"title": "Stat Test", "field": "stattest_name"},
        {"title": "Drift Score", "field": "drift_score"},
    ]
    pct = 100 * (_num(share) or 0.0)
    table = _widget(
        ids,
        "big_table",
        title=f"Drift is detected for {round(pct, 3)}% of columns ({n_drift} out of {n_cols}).",
        params={"rowsPerPage": min(max(len(rows), 1), 10), "columns": columns_spec, "data": rows},
        alertsPosition="row",
        additionalGraphs=graphs,
    )
    return [
        _counter(
            ids,
            [
                (
                    "Dataset Drift",
                    f"Dataset Drift is {'detected' if dataset_drift else 'NOT detected'}. "
                    f"Dataset drift detection threshold is {drift_share}",
                )
            ],
        ),
        _counter(
            ids,
            [
                (str(n_cols), "Columns"),
                (str(n_drift), "Drifted Columns"),
                (_fmt(share, 3), "Share of Drifted Columns"),
            ],
        ),
        _counter(ids, [("", "Data Drift Summary")]),
        table,
    ]


def _regression(ids: _Ids, report: dict, results: dict, tests: list) -> list[dict]:
    reg = report.get("regression") or {}
    cur, ref = reg.get("current") or {}, reg.get("reference") or {}
    if not cur:
        return []
    widgets: list[dict] = []
    mids = []
    for metric, display, mean_key, std_key, _short in MEAN_STD:
        params = {
            "type": METRIC + metric,
            "regression_name": "default",
            **REGRESSION_PARAMS[metric],
        }
        mid = _metric_id(params)
        mids.append(mid)
        own = [
            _counter(
                ids,
                [(_fmt(w.get(mean_key), 2), "Mean"), (_fmt(w.get(std_key), 2), "Std")],
                title=f"{display}: {label}",
                size=1,
                linked=[mid],
            )
            for w, label in ((cur, "Current"), (ref, "Reference"))
            if w
        ]
        test = _reference_test(
            display,
            mid,
            params,
            cur.get(mean_key),
            ref.get(mean_key),
            "MeanStdBoundTest",
            is_mean=True,
        )
        results[mid] = {
            "type": RESULT + "MeanStdValue",
            "display_name": display,
            "metric_value_location": _location(mid, params),
            "widget": own,
            "tests": [test] if test else [],
            "mean": _single(display, mid, params, cur.get(mean_key), {"value_type": "mean"}),
            "std": _single(
                "Std " + display.split(" ", 1)[1],
                mid,
                params,
                cur.get(std_key),
                {"value_type": "std"},
            ),
        }
        tests.extend(results[mid]["tests"])
    singles = []
    for metric, display, key in SINGLE:
        params = {
            "type": METRIC + metric,
            "regression_name": "default",
            **REGRESSION_PARAMS[metric],
        }
        mid = _metric_id(params)
        mids.append(mid)
        own = [
            _counter(
                ids,
                [(_fmt(w.get(key), 3), "")],
                title=f"{display} ({label})",
                size=1,
                linked=[mid],
            )
            for w, label in ((cur, "current"), (ref, "reference"))
            if w
        ]
        test = _reference_test(
            display, mid, params, cur.get(key), ref.get(key), "SingleValueBoundTest"
        )
        results[mid] = _single(
            display, mid, params, cur.get(key), widget=own, tests=[test] if test else []
        )
        tests.extend(results[mid]["tests"])
        singles.extend(own)
    target = report.get("target") or "target"
    widgets.append(
        _counter(ids, [("", f"Regression Model Performance. Target: '{target}'")], linked=mids)
    )
    for w, label in ((cur, "Current"), (ref, "Reference")):
        if not w:
            continue
        widgets.append(
            _counter(
                ids,
                [
                    (f"{_fmt(w.get(m), 2)} ({_fmt(w.get(s), 2)})", short)
                    for _metric, _display, m, s, short in MEAN_STD
                ],
                title=f"{label}: Model Quality (+/- std)",
                linked=mids,
            )
        )
    widgets.extend(singles)
    return widgets


def _tests_widgets(ids: _Ids, tests: list[dict]) -> list[dict]:
    if not tests:
        return []
    counts = {
        s: sum(t["status"] == s for t in tests) for s in ("SUCCESS", "WARNING", "FAIL", "ERROR")
    }
    stats = _counter(ids, [(str(n), s) for s, n in counts.items()])
    stats["params"]["v2_test"] = True
    suite = _widget(
        ids,
        "test_suite",
        params={
            "v2_test": True,
            "tests": [
                {
                    "title": t["name"],
                    "description": t["description"],
                    "state": t["status"].lower(),
                    "groups": [],
                }
                for t in tests
            ],
        },
    )
    return [stats, suite]


def _inert(obj):
    """Strings of widgets made safe for Evidently's HTML page, which inlines them in a <script>
    unescaped: a "</script>" or "<!--" in a column name would end or derail that script. A word
    joiner (U+2060, invisible) after "<" breaks both; metric results keep the names exact."""
    if isinstance(obj, str):
        return obj.replace("</", "<\u2060/").replace("<!--", "<\u2060!--")
    if isinstance(obj, list):
        return [_inert(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _inert(v) for k, v in obj.items()}
    return obj


def snapshot(
    report: dict,
    *,
    snapshot_id: str,
    timestamp,
    name: str | None = None,
    metadata: dict | None = None,
    tags: list[str] | None = None,
) -> dict:
    """One ``drift_report()`` result as Evidently 0.7's ``SnapshotModel`` (a dict for json).
    Raises ExportError for a report without columns (an empty window) or one that is not a
    ``drift_report()`` result."""
    if not isinstance(report, dict) or not report.get("columns"):
        raise ExportError("the report has no columns (an empty window): nothing to export")
    ids = _Ids(snapshot_id)
    results: dict = {}
    tests: list = []
    try:
        widgets = _drift(ids, report, results, tests)
        widgets += _regression(ids, report, results, tests)
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        raise ExportError(f"not a drift_report() result: {type(e).__name__}: {e}") from e
    return {
        "report": {"items": []},
        "name": name,
        "timestamp": _utc_naive(timestamp),
        "metadata": {str(k): str(v) for k, v in (metadata or {}).items() if v is not None},
        "tags": list(tags or []),
        "metric_results": results,
        "top_level_metrics": list(results),
        "widgets": _inert(widgets),
        "tests_widgets": _inert(_tests_widgets(ids, tests)),
    }
