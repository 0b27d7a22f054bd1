"""The monitor's HTML page (python/taxi_duration_ml/monitor_report.py): structure and escaping of render_html() on
synthetic reports shaped like taxi_duration.monitor_reports rows, then the page as headless
Chromium renders it (DOM after load, and a screenshot checked pixel by pixel).

    python3 -m pytest -q tests/monitoring

The screenshot is kept as tests/monitoring/artifacts/monitoring_report.png (or in
$TD_TEST_ARTIFACTS when set). The browser test is skipped, with the reason, only when no Chromium
is installed (Debian package ``chromium``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from taxi_duration_ml import monitor_report as MR

ARTIFACTS = Path(
    os.environ.get("TD_TEST_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts"
)
HOSTILE = "<script>alert(1)</script>"
HOSTILE_MSG = '<img src=x onerror="alert(2)"> & friends'
MONITOR_NAME = 'daily "green" <b>trips</b>'
T0 = datetime(2021, 2, 1, tzinfo=UTC)
N_WINDOWS = 8
EMPTY = 3  # window index without rows
DRIFTED = 4  # window index with dataset drift (3 of 5 columns)
RMSE_BAD = 6  # window index whose RMSE is past the alert threshold
COLUMNS = ["trip_distance", "payment_type", HOSTILE, "prediction", "duration"]


# --------------------------------------------------------------------------------------------
# synthetic reports, shaped like drift_report() output stored by run_monitor()
# --------------------------------------------------------------------------------------------


def _bins(ref: np.ndarray, cur: np.ndarray) -> dict:
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    return {
        "kind": "bins",
        "edges": [float(e) for e in edges],
        "reference": [int(v) for v in np.histogram(ref, edges)[0]],
        "current": [int(v) for v in np.histogram(cur, edges)[0]],
    }


# What the extension writes with each test (lib/stats/tds_stattests.c), as a report carries it.
REPORTED_RULE = {
    "ks": {"drift_rule": "score <= threshold", "score_is_p_value": True},
    "wasserstein": {"drift_rule": "score >= threshold", "score_is_p_value": False},
    "jensenshannon": {"drift_rule": "score >= threshold", "score_is_p_value": False},
}


def _column(kind, test, name, score, threshold, drifted, n_ref, n_cur, hist, unique) -> dict:
    return {
        "column_type": kind,
        "stattest": test,
        "stattest_name": name,
        **REPORTED_RULE[test],
        "score": score,
        "threshold": threshold,
        "drifted": drifted,
        "reference_rows": n_ref,
        "current_rows": n_cur,
        "reference_missing": 0,
        "current_missing": 3,
        "unique_values": unique,
        "histogram": hist,
    }


def synthetic(n_windows: int = N_WINDOWS, seed: int = 7) -> tuple[list[dict], list[dict], dict]:
    """(reports, alerts, monitor) as fetch() returns them (datetimes, dicts)."""
    rng = np.random.default_rng(seed)
    n_ref = 5000
    ref_dist = rng.gamma(2.0, 1.5, n_ref)
    ref_pay = rng.choice(["1", "2", "3", "4", "5"], size=n_ref, p=[0.55, 0.35, 0.05, 0.03, 0.02])
    ref_x = rng.normal(0, 1, n_ref)
    ref_pred = 8 + 3 * ref_dist + rng.normal(0, 1, n_ref)
    ref_y = ref_pred + rng.normal(0, 5.2, n_ref)
    monitor = {
        "name": MONITOR_NAME,
        "reference": "SELECT * FROM trips_2021_01 WHERE note <> '<i>'",
        "current": "public.green_trips",
        "time_column": "lpep_pickup_datetime",
        "window_size": timedelta(days=1),
        "columns": COLUMNS[:3],
        "prediction": "prediction",
        "target": "duration",
        "options": {"histograms": True, "drift_share": 0.5},
        "rmse_degradation": 0.1,
        "next_window_start": T0 + timedelta(days=n_windows),
        "enabled": True,
        "created_at": T0 - timedelta(days=1),
    }
    reports, alerts = [], []
    for w in range(n_windows):
        start = T0 + timedelta(days=w)
        base = {
            "id": w + 1,
            "monitor": MONITOR_NAME,
            "window_start": start,
            "window_end": start + timedelta(days=1),
            "computed_at": start + timedelta(days=1, minutes=5),
        }
        if w == EMPTY:
            reports.append(
                {
                    **base,
                    "current_rows": 0,
                    "dataset_drift": None,
                    "share_of_drifted_columns": None,
                    "number_of_drifted_columns": None,
                    "rmse": None,
                    "reference_rmse": None,
                    "report": {"current_rows": 0},
                }
            )
            continue
        n = int(rng.integers(900, 1400))
        shift = 1.4 if w == DRIFTED else 0.0
        dist = rng.gamma(2.0, 1.5 + shift, n)
        pay = rng.choice(
            ["1", "2", "3", "4", "5"],
            size=n,
            p=[0.3, 0.6, 0.05, 0.03, 0.02] if w == DRIFTED else [0.55, 0.35, 0.05, 0.03, 0.02],
        )
        x = rng.normal(0.8 if w in (DRIFTED, n_windows - 1) else 0.0, 1, n)
        pred = 8 + 3 * dist + rng.normal(0, 1, n)
        y = pred + rng.normal(0, 6.3 if w == RMSE_BAD else 5.2 + 0.05 * w, n)
        cats = ["1", "2", "3", "4", "5"]
        pay_hist = {
            "kind": "categories",
            "values": cats[:4],
            "other": True,
            "reference": [int((ref_pay == c).sum()) for c in cats[:4]]
            + [int((ref_pay == "5").sum())],
            "current": [int((pay == c).sum()) for c in cats[:4]] + [int((pay == "5").sum())],
        }
        d_dist = 0.03 + 0.01 * (w % 3) + (0.32 if w == DRIFTED else 0.0)
        d_pay = 0.02 + 0.01 * (w % 2) + (0.2 if w == DRIFTED else 0.0)
        p_x = 1e-9 if w in (DRIFTED, n_windows - 1) else 0.2 + 0.1 * (w % 4)
        cols = {
            "trip_distance": _column(
                "num",
                "wasserstein",
                "Wasserstein distance (normed)",
                d_dist,
                0.1,
                d_dist >= 0.1,
                n_ref,
                n,
                _bins(ref_dist, dist),
                900,
            ),
            "payment_type": _column(
                "cat",
                "jensenshannon",
                "Jensen-Shannon distance",
                d_pay,
                0.1,
                d_pay >= 0.1,
                n_ref,
                n,
                pay_hist,
                5,
            ),
            HOSTILE: _column(
                "num", "ks", "K-S p_value", p_x, 0.05, p_x <= 0.05, n_ref, n, _bins(ref_x, x), 4000
            ),
            "prediction": _column(
                "num",
                "wasserstein",
                "Wasserstein distance (normed)",
                0.04 + 0.005 * w,
                0.1,
                False,
                n_ref,
                n,
                _bins(ref_pred, pred),
                4000,
            ),
            "duration": _column(
                "num",
                "wasserstein",
                "Wasserstein distance (normed)",
                0.05 + 0.004 * w,
                0.1,
                False,
                n_ref,
                n,
                _bins(ref_y, y),
                59,
            ),
        }
        n_drift = sum(c["drifted"] for c in cols.values())
        rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
        ref_rmse = float(np.sqrt(np.mean((ref_pred - ref_y) ** 2)))
        regression = {
            k: {
                "rows": m,
                "mean_error": 0.1,
                "error_std": r,
                "mae": 0.8 * r,
                "abs_error_std": 0.6 * r,
                "abs_error_max": 4 * r,
                "mape": 31.5,
                "abs_perc_error_std": 20.1,
                "rmse": r,
                "r2": 0.61,
            }
            for k, m, r in (("current", n, rmse), ("reference", n_ref, ref_rmse))
        }
        report = {
            "columns": cols,
            "number_of_columns": len(cols),
            "number_of_drifted_columns": n_drift,
            "share_of_drifted_columns": n_drift / len(cols),
            "drift_share": 0.5,
            "dataset_drift": n_drift / len(cols) >= 0.5,
            "reference_rows": n_ref,
            "current_rows": n,
            "prediction": "prediction",
            "target": "duration",
            "regression": regression,
        }
        reports.append(
            {
                **base,
                "current_rows": n,
                "dataset_drift": report["dataset_drift"],
                "share_of_drifted_columns": report["share_of_drifted_columns"],
                "number_of_drifted_columns": n_drift,
                "rmse": rmse,
                "reference_rmse": ref_rmse,
                "report": report,
            }
        )
        raised = base["computed_at"] + timedelta(seconds=1)
        if report["dataset_drift"]:
            drifted = sorted(k for k, c in cols.items() if c["drifted"])
            alerts.append(
                {
                    "id": len(alerts) + 1,
                    "report_id": base["id"],
                    "monitor": MONITOR_NAME,
                    "window_start": start,
                    "raised_at": raised,
                    "kind": "dataset_drift",
                    "message": f"dataset drift: {n_drift} of {len(cols)} columns drifted "
                    f"(share {n_drift / len(cols):.3f} >= 0.5)",
                    "details": {"drifted_columns": drifted},
                }
            )
        if rmse > ref_rmse * 1.1:
            alerts.append(
                {
                    "id": len(alerts) + 1,
                    "report_id": base["id"],
                    "monitor": MONITOR_NAME,
                    "window_start": start,
                    "raised_at": raised,
                    "kind": "rmse",
                    "message": f"RMSE degraded: {rmse:.4f} against {ref_rmse:.4f} on the reference "
                    f"(more than 10.0% worse) {HOSTILE_MSG}",
                    "details": {"rmse": rmse, "reference_rmse": ref_rmse, "rmse_degradation": 0.1},
                }
            )
    return reports, alerts, monitor


# --------------------------------------------------------------------------------------------
# a strict parse of the page
# --------------------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "section",
    "h1",
    "h2",
    "dl",
    "dt",
    "dd",
    "div",
    "span",
    "i",
    "p",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "details",
    "summary",
    "nav",
    "a",
    "svg",
    "g",
    "line",
    "text",
    "path",
    "circle",
    "rect",
}
VOID = {"meta", "line", "path", "circle", "rect", "br", "img", "input", "link"}


class Page(HTMLParser):
    """Every element with its attributes and its text, checked for balance."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.stack: list[dict] = []
        self.errors: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[e['tag'] for e in self.stack]}")

    def handle_starttag(self, tag, attrs):
        el = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": "",
            "parents": [e["tag"] for e in self.stack],
            "classes": set((dict(attrs).get("class") or "").split()),
        }
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1]["tag"] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {[e['tag'] for e in self.stack][-3:]})")
            return
        self.stack.pop()

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, tag=None, cls=None, **attrs) -> list[dict]:
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag)
            and (cls is None or cls in e["classes"])
            and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def check_safe(page: Page):
    """No element outside the allowlist, no event handler, no script URL, no external reference."""
    for e in page.elements:
        assert e["tag"] in ALLOWED_TAGS, f"unexpected element <{e['tag']}>"
        for k, v in e["attrs"].items():
            assert not k.startswith("on"), f"event handler {k}={v!r} on <{e['tag']}>"
            assert k not in ("src", "xlink:href", "action", "srcdoc", "formaction"), (
                f"reference {k}={v!r}"
            )
            if k == "href":  # in-page links only
                assert re.fullmatch(r"#[a-z-]+", v or ""), f"link {v!r}"
            assert "javascript:" not in (v or "").lower()


def _charts(page: Page, kind: str) -> list[dict]:
    return page.find("figure", "chart", data_chart=kind)


# --------------------------------------------------------------------------------------------
# unit tests of render_html
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    return synthetic()


@pytest.fixture(scope="module")
def page_html(data):
    reports, alerts, monitor = data
    return MR.render_html(
        reports, alerts, monitor, generated_at=datetime(2021, 2, 9, 6, tzinfo=UTC)
    )


def test_structure(data, page_html):
    reports, alerts, monitor = data
    page = Page(page_html)
    assert page.errors == []
    assert page_html.startswith("<!DOCTYPE html>")
    # header: monitor, sets, range of windows
    h1 = page.find("h1")[0]["text"]
    assert MONITOR_NAME in h1
    header = page.find("header")[0]["text"]
    assert monitor["reference"] in header and monitor["current"] in header
    assert "2021-02-01 00:00+00:00 → 2021-02-09 00:00+00:00 (8 windows)" in header
    # the latest window is the one in detail
    assert (
        "Window 2021-02-08 00:00+00:00 → 2021-02-09 00:00+00:00"
        in page.find("h2", id="window")[0]["text"]
    )
    # summary table: one row per column; the latest window has exactly the hostile column drifted, listed first
    rows = page.find("tr", "colrow")
    assert [r["attrs"]["data-column"] for r in rows][0] == HOSTILE
    assert sorted(r["attrs"]["data-column"] for r in rows) == sorted(COLUMNS)
    drifted = [r for r in rows if "drifted" in r["classes"]]
    assert [r["attrs"]["data-column"] for r in drifted] == [HOSTILE]
    # each row shows the decision rule its report carries
    by_column = {r["attrs"]["data-column"]: r["text"] for r in rows}
    assert "score ≤ threshold" in by_column[HOSTILE]
    assert "score ≥ threshold" in by_column["trip_distance"]
    assert (
        len([e for e in page.find("span", "drift") if "summary" in _ancestors_classes(page, e)])
        == 1
    )
    first = rows[0]["text"]
    assert (
        "K-S p_value" in first
        and "1.00e-09" in first
        and "0.05" in first
        and "Drift detected" in first
    )
    wass = next(r for r in rows if r["attrs"]["data-column"] == "trip_distance")["text"]
    assert (
        "Wasserstein distance (normed)" in wass
        and "No drift" in wass
        and "score ≥ threshold" in wass
    )
    # charts: a histogram and a score chart per column; share, RMSE and rows once
    hists = _charts(page, "histogram")
    assert sorted(h["attrs"]["data-column"] for h in hists) == sorted(COLUMNS)
    assert sorted(s["attrs"]["data-column"] for s in _charts(page, "drift-score")) == sorted(
        COLUMNS
    )
    for kind in ("drift-share", "rmse", "rows"):
        assert len(_charts(page, kind)) == 1, kind
    assert len(page.find("svg", "plot")) == 2 * len(COLUMNS) + 3
    # histograms: two bars per bin / category (the payment type has 4 categories + other)
    bars = [e for e in page.elements if e["tag"] == "rect" and "bar" in e["classes"]]
    ref_bars = [b for b in bars if "ref" in b["classes"]]
    assert len(ref_bars) == len([b for b in bars if "cur" in b["classes"]])
    latest = reports[-1]["report"]["columns"]
    assert len(ref_bars) == sum(len(c["histogram"]["reference"]) for c in latest.values())
    pay = next(h for h in hists if h["attrs"]["data-column"] == "payment_type")["text"]
    assert "other" in pay and "pooled" in pay
    # rows per window: one bar per window, the empty one greyed
    row_bars = [b for b in bars if "rows" in b["classes"]]
    assert len(row_bars) == N_WINDOWS and sum("empty" in b["classes"] for b in row_bars) == 1
    # score over time: a point per non-empty window, red when drifted; the threshold line
    trip = next(
        s for s in _charts(page, "drift-score") if s["attrs"]["data-column"] == "trip_distance"
    )
    assert "threshold 0.1" in trip["text"]
    # thresholds drawn: one per score chart + share + RMSE reference and alert limit
    assert (
        len([e for e in page.elements if e["tag"] == "line" and "hline" in e["classes"]])
        == len(COLUMNS) + 3
    )
    points = [e for e in page.elements if e["tag"] == "circle"]
    assert len(points) == (N_WINDOWS - 1) * (len(COLUMNS) + 2)  # per column, share, RMSE
    bad = [p for p in points if "bad" in p["classes"]]
    n_drifted_points = sum(
        c["drifted"] for r in reports for c in (r["report"].get("columns") or {}).values()
    )
    assert len(bad) == n_drifted_points + 1 + 1  # column drifts, one dataset drift, one RMSE alert
    # the RMSE chart says where the alert starts
    rmse_fig = _charts(page, "rmse")[0]["text"]
    assert "reference RMSE" in rmse_fig and "alert threshold (+10.0%)" in rmse_fig
    # alerts: all of them, newest first
    arows = page.find("tr", "alert")
    assert len(arows) == len(alerts) == 2
    assert "rmse" in arows[0]["text"] and "dataset_drift" in arows[1]["text"]
    assert f"Alerts ({len(alerts)})" in page.find("h2", id="alerts-title")[0]["text"]
    # the regression table of the window
    reg = page.find("table", "regression")[0]["text"]
    assert "RMSE" in reg and "R²" in reg
    # every window in the collapsed table
    assert (
        len(
            [
                e
                for e in page.elements
                if e["tag"] == "tr" and "windows" in _ancestors_classes(page, e)
            ]
        )
        == N_WINDOWS + 1
    )


def _ancestors_classes(page: Page, el: dict) -> set:
    """Classes of the element's ancestors (re-walk: the parser keeps tag names only)."""
    idx = page.elements.index(el)
    depth = len(el["parents"])
    out = set()
    for e in reversed(page.elements[:idx]):
        if len(e["parents"]) < depth:
            out |= e["classes"]
            depth = len(e["parents"])
    return out


def test_escaping(data, page_html):
    reports, alerts, monitor = data
    page = Page(page_html)
    assert page.errors == []
    check_safe(page)
    low = page_html.lower()
    assert "<script" not in low and "<img" not in low and "<b>" not in low and "<i>" not in low
    assert html.escape(HOSTILE) in page_html  # shown, as text
    assert html.escape(HOSTILE_MSG) in page_html
    assert html.escape(MONITOR_NAME) in page_html
    # the texts read back intact
    assert any(e["text"] == HOSTILE for e in page.find("td", "col"))
    assert HOSTILE_MSG in page.find("tr", "alert")[0]["text"]
    assert page.find("title")[0]["text"] == f"Drift monitor {MONITOR_NAME}"
    # in attribute values too (data-column, aria-label)
    assert page.find("figure", data_column=HOSTILE)
    assert page.find("svg", aria_label=f"distribution of {HOSTILE}")
    # a hostile category, monitor option, stattest name and alert kind
    reports = json.loads(json.dumps(reports, default=str))
    cols = reports[-1]["report"]["columns"]
    cols["payment_type"]["histogram"]["values"][0] = '"><svg onload=alert(3)>'
    cols["trip_distance"]["stattest_name"] = "</td><script>x()</script>"
    cols["trip_distance"]["error"] = "<style>body{display:none}</style>"
    bad_alert = dict(alerts[0], kind="<u>x</u>", details={"k": "</code><script>y()</script>"})
    out = MR.render_html(reports, [bad_alert], {**monitor, "options": {"<x>": "'\"&"}})
    page = Page(out)
    assert page.errors == []
    check_safe(page)
    assert "<script" not in out.lower() and "<svg onload" not in out.lower() and "<u>" not in out
    assert out.lower().count("<style") == 1
    # no script and no external load, enforced by the page's own policy too
    csp = page.find("meta", http_equiv="Content-Security-Policy")[0]["attrs"]["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_chosen_window_and_fallbacks(data):
    reports, alerts, monitor = data
    drifted_start = reports[DRIFTED]["window_start"]
    # choose the drifted window, by datetime or by text (naive text read in the reports' zone)
    for ws in (drifted_start, "2021-02-05T00:00:00+00:00", "2021-02-05 00:00"):
        page = Page(MR.render_html(reports, alerts, monitor, window_start=ws))
        assert "Window 2021-02-05 00:00+00:00" in page.find("h2", id="window")[0]["text"]
        assert len([r for r in page.find("tr", "colrow") if "drifted" in r["classes"]]) == 3
        assert page.find("div", "bad", data_card="dataset-drift")
        assert len(page.find("tr", "current")) == 1  # its alert is highlighted
    with pytest.raises(ValueError, match="no report for the window starting at 2021-03-01"):
        MR.render_html(reports, alerts, monitor, window_start="2021-03-01T00:00:00+00:00")
    # the latest window empty: the latest window with rows is shown, and the page says so
    extra = dict(
        reports[EMPTY],
        id=99,
        window_start=T0 + timedelta(days=N_WINDOWS),
        window_end=T0 + timedelta(days=N_WINDOWS + 1),
    )
    page = Page(MR.render_html(reports + [extra], alerts, monitor))
    assert "is empty" in page.find("p", id="fallback")[0]["text"]
    assert "2021-02-08" in page.find("h2", id="window")[0]["text"]
    # choosing the empty window shows no table, but the charts over time are still there
    page = Page(
        MR.render_html(reports, alerts, monitor, window_start=reports[EMPTY]["window_start"])
    )
    assert page.find("tr", "colrow") == [] and len(_charts(page, "drift-share")) == 1
    # no reports at all
    page = Page(MR.render_html([], [], {"name": "m"}))
    assert page.errors == [] and page.find("p", id="no-reports") and not page.find("svg")
    # reports as JSON text and ISO strings (as from a JSON export), no histogram, no regression
    text_reports = []
    for r in reports:
        rep = {
            k: v for k, v in r["report"].items() if k not in ("regression", "prediction", "target")
        }
        rep["columns"] = {
            k: {kk: vv for kk, vv in c.items() if kk != "histogram"}
            for k, c in (rep.get("columns") or {}).items()
        }
        if "columns" not in r["report"]:
            rep = {"current_rows": 0}
        text_reports.append(
            {
                **r,
                "window_start": r["window_start"].isoformat(),
                "window_end": r["window_end"].isoformat(),
                "rmse": None,
                "reference_rmse": None,
                "report": json.dumps(rep),
            }
        )
    out = MR.render_html(text_reports, [], {"name": "m", "rmse_degradation": None})
    page = Page(out)
    assert page.errors == [] and not _charts(page, "histogram")
    assert "No distribution stored" in out and "No RMSE" in out and "No alert" in out
    assert len(_charts(page, "drift-score")) == len(COLUMNS)
    # pure: the same input gives the same page
    assert MR.render_html(reports, alerts, monitor) == MR.render_html(reports, alerts, monitor)


def test_scores_without_value_and_changing_test(data):
    reports, alerts, monitor = data
    reports = json.loads(json.dumps(reports, default=str))
    for r in reports:
        for c in (r["report"].get("columns") or {}).values():
            c.pop("histogram", None)
    # one window: a column without a score (an error), another whose test changed
    cols = reports[-1]["report"]["columns"]
    cols["trip_distance"].update(
        score=None, drifted=False, error="The current window has no value in this column."
    )
    reports[0]["report"]["columns"]["duration"].update(
        stattest="ks", stattest_name="K-S p_value", threshold=0.05, score=0.4, **REPORTED_RULE["ks"]
    )
    out = MR.render_html(reports, alerts, monitor)
    page = Page(out)
    assert page.errors == []
    row = next(
        r for r in page.find("tr", "colrow") if r["attrs"]["data-column"] == "trip_distance"
    )["text"]
    assert "no score" in row and "no value in this column" in row
    dur = next(s for s in _charts(page, "drift-score") if s["attrs"]["data-column"] == "duration")
    assert "ks, wasserstein" in dur["text"] and "test changed" in dur["text"]
    assert "nan" not in re.sub(r"<[^>]*>", " ", out).lower().split()


def test_flow_page_paths_and_dsn_masking():
    """Where the monitoring flow writes its pages, and what it logs of the DSN (no database)."""
    from taxi_duration_ml import monitor_flow as F

    assert F.html_paths("/x/r.html", ["only one"]) == {"only one": "/x/r.html"}
    assert F.html_paths("/x/r.html", ["a b", "../c"]) == {
        "a b": "/x/r.a_b.html",
        "../c": "/x/r.c.html",
    }
    assert F.html_paths("/x/{monitor}.html", [HOSTILE]) == {
        HOSTILE: "/x/script_alert_1_script.html"
    }
    for dsn in ("host=h password=s3cret dbname=d", "postgresql://u:s3cret@h:5432/d"):
        masked = F.safe_dsn(dsn)
        assert "s3cret" not in masked and "***" in masked and "host=h" in masked


# --------------------------------------------------------------------------------------------
# the page in a real browser
# --------------------------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _run_chromium(exe: str, args: list[str], profile: str) -> subprocess.CompletedProcess:
    cmd = [
        exe,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--mute-audio",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)


def _png_pixels(path: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, a sample of pixels): Pillow if installed, else a small PNG decoder
    (8-bit RGB/RGBA, non-interlaced: what Chromium writes)."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            raw = im.tobytes()
            return w, h, [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h, bpp = 8, b"", 0, 0, 3
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    pixels = []
    for y in range(h):
        f, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
    return w, h, pixels


def test_browser_render(data, page_html, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip(
            "no Chromium: install the Debian package `chromium` to render the page in a browser"
        )
    reports, alerts, monitor = data
    page_file = tmp_path / "monitoring_report.html"
    page_file.write_text(page_html, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "monitoring_report.png"
    shot.unlink(missing_ok=True)
    url = page_file.as_uri()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as p1, tempfile.TemporaryDirectory() as p2:
        # the DOM after load and the screenshot, in two browsers at once
        exe_args = [
            (["--virtual-time-budget=5000", "--dump-dom", url], p1),
            (
                [
                    f"--screenshot={shot}",
                    "--window-size=1400,3000",
                    "--virtual-time-budget=5000",
                    url,
                ],
                p2,
            ),
        ]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as ex:
            dom_run, shot_run = ex.map(lambda a: _run_chromium(exe, *a), exe_args)
    seconds = time.perf_counter() - t0
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    assert shot_run.returncode == 0, shot_run.stderr[-2000:]

    # the DOM as Chromium built it: same elements as written (nothing re-parented by the parser)
    dom = Page(dom_run.stdout)
    assert dom.errors == []
    check_safe(dom)
    assert len(dom.find("svg", "plot")) == 2 * len(COLUMNS) + 3
    assert len(_charts(dom, "histogram")) == len(COLUMNS)
    assert len(_charts(dom, "drift-score")) == len(COLUMNS)
    captions = [e["text"] for e in dom.find("figcaption")]
    for title in ("Share of drifted columns", "RMSE over time", "Rows per window"):
        assert title in captions
    assert any(c.startswith(f"{HOSTILE}: drift score") for c in captions)
    assert len(dom.find("tr", "colrow")) == len(COLUMNS)
    assert len(dom.find("tr", "alert")) == len(alerts)
    assert len([e for e in dom.elements if e["tag"] == "rect" and "bar" in e["classes"]]) > 50
    assert (
        len([e for e in dom.elements if e["tag"] == "path" and "line" in e["classes"]])
        >= len(COLUMNS) + 2
    )
    assert dom.find("title")[0]["text"] == f"Drift monitor {MONITOR_NAME}"
    body = dom.find("body")[0]["text"]
    for bad in ("Traceback", "undefined", "NaN", "[object", "Error:", "None"):
        assert bad not in body, bad
    # the hostile column name is text in the page, not an element
    assert HOSTILE in body and not dom.find("script")

    # the screenshot: the size asked for, many colours, the series' colours present
    assert shot.exists(), shot_run.stderr[-2000:]
    assert shot.stat().st_size > 50_000
    w, h, pixels = _png_pixels(shot)
    assert (w, h) == (1400, 3000)
    colours = {}
    for px in pixels[::7]:
        colours[px] = colours.get(px, 0) + 1
    assert len(colours) > 50, "the screenshot is (nearly) a single colour"
    top = max(colours.values()) / sum(colours.values())
    assert top < 0.95, f"one colour covers {top:.0%} of the screenshot"

    def near(rgb, tol=12):
        return sum(
            n
            for px, n in colours.items()
            if all(abs(a - b) <= tol for a, b in zip(px, rgb, strict=False))
        )

    assert near((0x2F, 0x6F, 0xB5)) > 100, "no current-window blue (bars, lines)"
    assert near((0xA3, 0xAF, 0xBD)) > 100, "no reference grey bars"
    assert near((0xD6, 0x27, 0x28)) + near((0xB4, 0x23, 0x18)) > 5, "no red drift marker or badge"
    print(
        f"\nchromium: {seconds:.1f} s; screenshot {shot} ({shot.stat().st_size} bytes, {len(colours)} colours)"
    )
