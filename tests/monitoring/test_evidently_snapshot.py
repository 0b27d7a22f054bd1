"""Stored drift reports as Evidently 0.7 snapshots (python/taxi_duration_ml/evidently_snapshot.py,
evidently_workspace.py),
checked by Evidently 0.7.23 itself and by a browser.

    python3 -m pytest -q tests/monitoring/test_evidently_snapshot.py          (synthetic reports)
    bash tests/monitoring/run.sh evidently                                    (+ a monitor on real trips)

1. Export: reports shaped like taxi_duration.monitor_reports rows (test_html_report.synthetic(),
   with an empty window) and, with TD_MONITORING_DSN (run.sh), a weekly monitor over the real
   2021-02 trips against 2021-01 exported by ``taxi-duration export-evidently``. Twice: the files
   are byte-identical.
2. Evidently's view: evidently_snapshot_check.py in Evidently's virtualenv loads the workspace
   (the UI service's loader, ``Workspace.list_projects/list_runs/get_run``, ``Snapshot.load``,
   ``Snapshot.dict()``) and renders ``get_html_str()``. Every number Evidently reports — the
   drifted-column count and share, each column's score, method and threshold, the regression
   metrics — must equal the stored report's, and every test status our verdicts.
3. Evidently's HTML in headless Chromium: no JavaScript error (a hook in the page records
   errors, rejections and console.error), and the values of the report appear in the DOM; a
   screenshot is kept as tests/monitoring/artifacts/evidently_snapshot.png.
4. With the real monitor: ``evidently ui --workspace`` serves the project, its snapshots, their
   widgets and the dashboard's time series (RMSE of each window); the dashboard is screenshot
   (artifacts/evidently_ui_dashboard.png).
Each check is shown to fail on a wrong value.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from test_html_report import _chromium, _png_pixels, _run_chromium, synthetic  # noqa: E402

from taxi_duration_ml import evidently_snapshot as ES, evidently_workspace as EW  # noqa: E402

EVIDENTLY_PY = os.environ.get("TD_EVIDENTLY_PYTHON", "/opt/td-evidently-venv/bin/python")
DSN = os.environ.get("TD_MONITORING_DSN")
ARTIFACTS = Path(os.environ.get("TD_TEST_ARTIFACTS") or HERE / "artifacts")
CHECK = HERE / "evidently_snapshot_check.py"

needs_evidently = pytest.mark.skipif(
    not os.path.exists(EVIDENTLY_PY),
    reason=f"no Evidently virtualenv at {EVIDENTLY_PY} (tests/requirements-evidently.txt)",
)

# a hook put first in Evidently's page: errors, unhandled rejections and console.error calls
# end up in an attribute of <html>, which --dump-dom shows
ERROR_HOOK = """<script>(function(){var E=[];function put(){
document.documentElement.setAttribute('data-td-errors',JSON.stringify(E));}
window.addEventListener('error',function(e){E.push('error: '+e.message);put();});
window.addEventListener('unhandledrejection',function(e){E.push('unhandled rejection: '+e.reason);put();});
var ce=console.error;console.error=function(){
E.push('console.error: '+Array.prototype.join.call(arguments,' '));put();return ce.apply(console,arguments);};
window.addEventListener('load',function(){document.documentElement.setAttribute('data-td-loaded','1');put();});
put();})();</script>"""


# --------------------------------------------------------------------------------------------
# what Evidently must show, derived from the stored report
# --------------------------------------------------------------------------------------------


def _close_enough(cur: float, ref: float) -> bool:
    """Evidently's default regression test: equal to the reference ± 10 % (ApproxValue)."""
    tol = max(abs(ref) * 0.1, 1e-12)
    return ref - tol <= cur <= ref + tol


def compare(report: dict, seen: dict) -> list[str]:
    """Problems between one stored report and what Evidently reports of its snapshot."""
    bad = []
    metrics = {}
    for m in seen["metrics"]:
        key = (m["type"], m["config"].get("column"))
        if key in metrics:
            bad.append(f"metric {key} twice")
        metrics[key] = m
    tests = {(t["metric"], t["column"]): t["status"] for t in seen["tests"]}

    def eq(what, got, want):
        if got != want:
            bad.append(f"{what}: Evidently has {got!r}, the report {want!r}")

    count = metrics.pop(("DriftedColumnsCount", None), None)
    if count is None:
        bad.append("no DriftedColumnsCount")
    else:
        eq("drifted columns", count["value"]["count"], report["number_of_drifted_columns"])
        eq("share of drifted columns", count["value"]["share"], report["share_of_drifted_columns"])
        eq("drift_share", count["config"]["drift_share"], report["drift_share"])
        eq(
            "dataset drift (test)",
            tests.get(("DriftedColumnsCount", None)),
            "FAIL" if report["dataset_drift"] else "SUCCESS",
        )
    for name, c in report["columns"].items():
        m = metrics.pop(("ValueDrift", name), None)
        if m is None:
            bad.append(f"no ValueDrift for {name}")
            continue
        eq(f"{name} score", m["value"], c["score"])
        eq(f"{name} method", m["config"]["method"], c["stattest_name"])
        eq(f"{name} threshold", m["config"]["threshold"], c["threshold"])
        eq(
            f"{name} drifted (test)",
            tests.get(("ValueDrift", name)),
            "FAIL" if c["drifted"] else "SUCCESS",
        )
    reg = report.get("regression") or {}
    cur, ref = reg.get("current") or {}, reg.get("reference") or {}
    for metric, value in (
        ("MeanError", {"mean": cur.get("mean_error"), "std": cur.get("error_std")}),
        ("MAE", {"mean": cur.get("mae"), "std": cur.get("abs_error_std")}),
        ("MAPE", {"mean": cur.get("mape"), "std": cur.get("abs_perc_error_std")}),
        ("RMSE", cur.get("rmse")),
        ("R2Score", cur.get("r2")),
        ("AbsMaxError", cur.get("abs_error_max")),
    ):
        if not cur:
            break
        m = metrics.pop((metric, None), None)
        if m is None:
            bad.append(f"no {metric}")
            continue
        eq(metric, m["value"], value)
        key = {
            "MeanError": "mean_error",
            "MAE": "mae",
            "MAPE": "mape",
            "RMSE": "rmse",
            "R2Score": "r2",
            "AbsMaxError": "abs_error_max",
        }[metric]
        want = "SUCCESS" if _close_enough(cur[key], ref[key]) else "FAIL"
        eq(f"{metric} (test against the reference)", tests.get((metric, None)), want)
    if metrics:
        bad.append(f"metrics the report does not have: {sorted(metrics)}")
    return bad


def js_number(x: float) -> str:
    """How the page's JavaScript writes round(x, 6) (Number.prototype.toString)."""
    x = round(x, 6)
    if x == int(x):
        return str(int(x))
    if abs(x) < 1e-6:
        mantissa, exp = repr(x).split("e")
        return f"{mantissa}e{int(exp)}"
    return format(Decimal(repr(x)), "f")


def expected_texts(report: dict) -> list[str]:
    """Strings that Evidently's page must show for this report."""
    out = [
        "Dataset Drift is detected."
        if report["dataset_drift"]
        else "Dataset Drift is NOT detected.",
        f"({report['number_of_drifted_columns']} out of {report['number_of_columns']})",
    ]
    for name, c in report["columns"].items():
        out += [name, js_number(c["score"]), c["stattest_name"]]
    reg = report.get("regression") or {}
    for w in (reg.get("current"), reg.get("reference")):
        if w:
            out += [f"{round(w[k], 3)}" for k in ("rmse", "r2", "abs_error_max")]
            out.append(f"{round(w['mean_error'], 2)} ({round(w['error_std'], 2)})")
            out.append(f"{round(w['mae'], 2)} ({round(w['abs_error_std'], 2)})")
    return out


def dom_problems(dom: str, report: dict) -> list[str]:
    bad = []
    if 'data-td-loaded="1"' not in dom:
        bad.append("the page did not finish loading")
    start = dom.find('data-td-errors="')
    errors = dom[start + 16 : dom.find('"', start + 16)] if start >= 0 else None
    if errors != "[]":
        bad.append(f"JavaScript errors: {errors}")
    if "<script>alert(1)</script>" in dom:  # an element, not text inside the data script
        bad.append("a column name became markup")
    # the exporter puts an invisible word joiner after "<" in "</" (Evidently inlines the
    # widgets in a <script> unescaped)
    text = html.unescape(dom).replace("\xa0", " ").replace("\u2060", "")
    for s in expected_texts(report):
        if s not in text:
            bad.append(f"not in the page: {s!r}")
    return bad


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def evidently_view(workspace: Path, html_dir: Path) -> dict:
    p = subprocess.run(
        [EVIDENTLY_PY, str(CHECK), str(workspace), str(html_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout)


def files(workspace: Path) -> dict[str, bytes]:
    return {
        str(f.relative_to(workspace)): f.read_bytes()
        for f in sorted(workspace.rglob("*"))
        if f.is_file()
    }


def hooked(html_file: str, out: Path) -> Path:
    page = Path(html_file).read_text(encoding="utf-8")
    i = page.index("<head>") + len("<head>")
    out.write_text(page[:i] + ERROR_HOOK + page[i:], encoding="utf-8")
    return out


def chromium_dom_and_shot(
    url: str, shot: Path | None, budget_ms: int = 10000, height: int = 2600, extra=()
):
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium: install the Debian package `chromium`")
    with tempfile.TemporaryDirectory() as p1, tempfile.TemporaryDirectory() as p2:
        dom = _run_chromium(exe, [f"--virtual-time-budget={budget_ms}", "--dump-dom", url], p1)
        assert dom.returncode == 0, dom.stderr[-2000:]
        if shot is not None:
            shot.unlink(missing_ok=True)
            s = _run_chromium(
                exe,
                [
                    f"--screenshot={shot}",
                    f"--window-size=1400,{height}",
                    f"--virtual-time-budget={budget_ms}",
                    *extra,
                    url,
                ],
                p2,
            )
            assert s.returncode == 0 and shot.exists(), s.stderr[-2000:]
    return dom.stdout


def check_screenshot(shot: Path, red_min: int = 200):
    w, h, pixels = _png_pixels(shot)
    colours: dict = {}
    for px in pixels[::5]:
        colours[px] = colours.get(px, 0) + 1
    top = max(colours.values()) / sum(colours.values())
    assert len(colours) > 30 and top < 0.97, f"{shot}: nearly one colour ({top:.0%})"
    red = sum(n for px, n in colours.items() if px[0] > 200 and px[1] < 60 and px[2] < 60)
    assert red >= red_min, f"{shot}: {red} sampled red pixels (Evidently's #ed0400 bars, logo)"


# --------------------------------------------------------------------------------------------
# synthetic reports: always
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_export(tmp_path_factory):
    reports, _alerts, monitor = synthetic()
    ws = tmp_path_factory.mktemp("ws")
    rows = []
    for r in reports:
        rows.append({**r, "report": r["report"]})
    snaps, empty = [], 0
    for row in rows:
        try:
            snaps.append(EW.monitor_snapshot(monitor, row))
        except ES.ExportError:
            empty += 1
    EW.write_project(str(ws), monitor["name"], "synthetic", snaps)
    first = files(ws)
    EW.write_project(
        str(ws),
        monitor["name"],
        "synthetic",
        [EW.monitor_snapshot(monitor, r) for r in rows if r["current_rows"]],
    )
    assert files(ws) == first, "a second export wrote different bytes"
    return ws, rows, monitor, empty


def test_export_layout(synthetic_export):
    ws, rows, monitor, empty = synthetic_export
    assert empty == 1  # the window without rows
    (project,) = [p for p in ws.iterdir() if p.is_dir()]
    meta = json.loads((project / "metadata.json").read_text())
    assert meta["name"] == monitor["name"] and meta["id"] == project.name
    snaps = sorted((project / "snapshots").glob("*.json"))
    assert len(snaps) == len(rows) - 1
    dash = json.loads((project / "dashboard.json").read_text())
    assert [p["title"] for p in dash["panels"]][:2] == [
        "Share of drifted columns",
        "Drift score per column",
    ]


def test_an_empty_report_is_refused():
    with pytest.raises(ES.ExportError):
        ES.snapshot({"current_rows": 0}, snapshot_id="x", timestamp=datetime.now(UTC))


@needs_evidently
def test_evidently_loads_and_renders(synthetic_export, tmp_path):
    ws, rows, monitor, _ = synthetic_export
    view = evidently_view(ws, tmp_path)
    assert view["evidently"] == "0.7.23"
    (project,) = view["projects"]
    assert project["name"] == monitor["name"]
    by_report = {int(s["metadata"]["report_id"]): s for s in project["snapshots"]}
    assert sorted(project["service_snapshots"]) == sorted(s["id"] for s in project["snapshots"])
    stored = {r["id"]: r for r in rows if r["current_rows"]}
    assert sorted(by_report) == sorted(stored)
    for rid, r in stored.items():
        s = by_report[rid]
        assert compare(r["report"], s) == [], rid
        assert s["timestamp"] == r["window_start"].astimezone(UTC).replace(tzinfo=None).isoformat()
        assert "big_table" in s["widget_types"] and "test_suite" in s["widget_types"]

    # a wrong value is caught: one score, one verdict, the RMSE
    r = stored[max(stored)]
    s = by_report[max(stored)]
    wrong = json.loads(json.dumps(r["report"]))
    first = next(iter(wrong["columns"]))
    wrong["columns"][first]["score"] += 1e-12
    wrong["dataset_drift"] = not wrong["dataset_drift"]
    wrong["regression"]["current"]["rmse"] *= 1.0000001
    problems = compare(wrong, s)
    assert len(problems) == 3, problems

    # Evidently's HTML of the latest window in Chromium
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = hooked(s["html"], tmp_path / "evidently_page.html")
    shot = ARTIFACTS / "evidently_snapshot.png"
    dom = chromium_dom_and_shot(page.as_uri(), shot)
    assert dom_problems(dom, r["report"]) == []
    check_screenshot(shot)
    # the DOM check fails on a value the page does not show, and on a JavaScript error
    wrong = json.loads(json.dumps(r["report"]))
    wrong["regression"]["current"]["rmse"] += 0.01
    assert len(dom_problems(dom, wrong)) == 1
    broken = tmp_path / "broken.html"
    broken.write_text(
        page.read_text(encoding="utf-8").replace("</body>", "<script>null.x</script></body>", 1),
        encoding="utf-8",
    )
    problems = dom_problems(chromium_dom_and_shot(broken.as_uri(), None), r["report"])
    assert any("JavaScript errors" in p for p in problems), problems


def test_plain_drift_report_json(tmp_path):
    """A drift_report() result (not from a monitor) through the CLI's --report-json."""
    reports, _, _ = synthetic()
    report = next(r["report"] for r in reports if r["current_rows"])
    src = tmp_path / "report.json"
    src.write_text(json.dumps(report))
    ws = tmp_path / "ws"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "taxi_duration_ml",
            "export-evidently",
            "--workspace",
            str(ws),
            "--report-json",
            str(src),
            "--project",
            "adhoc",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("adhoc: 1 snapshot -> ")
    (snap,) = ws.glob("*/snapshots/*.json")
    model = json.loads(snap.read_text())
    assert model["metadata"]["source"] == "taxi_duration.drift_report()"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "taxi_duration_ml",
            "export-evidently",
            "--workspace",
            str(ws),
            "--report-json",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, (
        p.stderr
    )


# --------------------------------------------------------------------------------------------
# a monitor on real trips, exported by the CLI, served by `evidently ui`
# --------------------------------------------------------------------------------------------

SETUP = """
DROP VIEW IF EXISTS evsnap_current;
DROP TABLE IF EXISTS evsnap_reference, evsnap_trips;
CREATE TABLE evsnap_trips AS
SELECT lpep_pickup_datetime AT TIME ZONE 'UTC' AS pickup, pulocationid, dolocationid, trip_distance,
       CASE WHEN trip_distance < 1 THEN 'short' WHEN trip_distance < 5 THEN 'medium' ELSE 'long' END
           AS distance_band,
       'zone ' || pulocationid || ' at ' || to_char(lpep_pickup_datetime, 'HH24:MI') || ', '
           || trip_distance || ' miles to zone ' || dolocationid AS note,
       duration,
       taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance, lpep_pickup_datetime)
           AS prediction
FROM trips_2021_02;
CREATE TABLE evsnap_reference AS
SELECT pulocationid, dolocationid, trip_distance,
       CASE WHEN trip_distance < 1 THEN 'short' WHEN trip_distance < 5 THEN 'medium' ELSE 'long' END
           AS distance_band,
       'zone ' || pulocationid || ' at ' || to_char(lpep_pickup_datetime, 'HH24:MI') || ', '
           || trip_distance || ' miles to zone ' || dolocationid AS note,
       duration,
       taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance, lpep_pickup_datetime)
           AS prediction
FROM trips_2021_01;
SELECT taxi_duration.drop_monitor(name) FROM taxi_duration.monitors WHERE name = 'evsnap_weekly';
SELECT name FROM taxi_duration.create_monitor(
    'evsnap_weekly', 'evsnap_reference', 'evsnap_trips', 'pickup', '7 days',
    columns => ARRAY['pulocationid', 'dolocationid', 'trip_distance', 'distance_band', 'note'],
    prediction => 'prediction', target => 'duration',
    options => '{"histograms": true}', start_at => '2021-02-01 00:00+00');
SELECT count(*) FROM taxi_duration.run_monitor('evsnap_weekly', '2021-03-01 00:00+00');
"""


def _cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taxi_duration_ml", *args],
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: dict | None = None):
    req = urllib.request.Request(
        url,
        data=None if data is None else json.dumps(data).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@needs_evidently
@pytest.mark.skipif(not DSN, reason="run by tests/monitoring/run.sh evidently (needs a cluster)")
def test_real_monitor_in_evidently_ui(tmp_path):
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(SETUP)
        reports = conn.execute(
            "SELECT id, window_start, report FROM taxi_duration.monitor_reports"
            " WHERE monitor = 'evsnap_weekly' AND current_rows > 0 ORDER BY window_start"
        ).fetchall()
    assert len(reports) == 4
    ws = tmp_path / "ws"
    p = _cli("export-evidently", "--dsn", DSN, "--workspace", str(ws), "--monitor", "evsnap_weekly")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("evsnap_weekly: 4 snapshots -> "), p.stdout
    first = files(ws)
    assert (
        _cli(
            "export-evidently", "--dsn", DSN, "--workspace", str(ws), "--monitor", "evsnap_weekly"
        ).returncode
        == 0
    )
    assert files(ws) == first, "a second export wrote different bytes"
    # errors: one line, status 1
    p = _cli(
        "export-evidently", "--dsn", DSN, "--workspace", str(ws), "--monitor", "no_such_monitor"
    )
    assert p.returncode == 1 and p.stderr == 'error: monitor "no_such_monitor" does not exist\n', (
        p.stderr
    )
    p = _cli("export-evidently", "--dsn", DSN, "--workspace", str(ws), "--report-id", "999999999")
    assert p.returncode == 1 and "999999999" in p.stderr, p.stderr
    # one report by id into another workspace
    one = tmp_path / "one"
    p = _cli(
        "export-evidently", "--dsn", DSN, "--workspace", str(one), "--report-id", str(reports[1][0])
    )
    assert p.returncode == 0 and len(list(one.glob("*/snapshots/*.json"))) == 1, p.stderr

    # a plain drift_report() result, through stdin
    with psycopg.connect(DSN, autocommit=True) as conn:
        adhoc = conn.execute(
            "SELECT taxi_duration.drift_report('evsnap_reference', %s, NULL, 'prediction',"
            " 'duration', %s)",
            (
                "SELECT * FROM evsnap_trips WHERE pickup >= '2021-02-10' AND pickup < '2021-02-11'",
                json.dumps({"histograms": True, "drift_share": 0.3}),
            ),
        ).fetchone()[0]
    p = _cli(
        "export-evidently",
        "--workspace",
        str(ws),
        "--report-json",
        "-",
        "--project",
        "adhoc",
        input=json.dumps(adhoc),
    )
    assert p.returncode == 0, p.stderr

    view = evidently_view(ws, tmp_path)
    (plain,) = [pr for pr in view["projects"] if pr["name"] == "adhoc"]
    (plain_snap,) = plain["snapshots"]
    assert compare(adhoc, plain_snap) == []
    assert plain_snap["metadata"]["source"] == "taxi_duration.drift_report()"
    (project,) = [pr for pr in view["projects"] if pr["name"] == "evsnap_weekly"]
    by_report = {int(s["metadata"]["report_id"]): s for s in project["snapshots"]}
    assert sorted(by_report) == sorted(r[0] for r in reports)
    for rid, _start, report in reports:
        assert compare(report, by_report[rid]) == [], rid
    types = {c["column_type"] for c in reports[0][2]["columns"].values()}
    assert types == {"num", "cat", "text"}, types
    note = reports[0][2]["columns"]["note"]
    assert note["stattest"] == "abs_text_content_drift" and note.get("error") is None, note

    # Evidently's HTML of the first window, in Chromium
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rid, _start, report = reports[0]
    page = hooked(by_report[rid]["html"], tmp_path / "real_page.html")
    shot = ARTIFACTS / "evidently_snapshot_real.png"
    dom = chromium_dom_and_shot(page.as_uri(), shot)
    assert dom_problems(dom, report) == []
    check_screenshot(shot)

    # `evidently ui` on the workspace: projects, snapshots, widgets, dashboard series
    port = _free_port()
    ui = subprocess.Popen(
        [
            str(Path(EVIDENTLY_PY).parent / "evidently"),
            "ui",
            "--workspace",
            str(ws),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "ui.log", "w"),
        env={**os.environ, "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                projects = _get(base + "/api/projects")
                break
            except OSError:
                assert ui.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "evidently ui did not answer in 90 s"
                time.sleep(0.5)
        (pr,) = [x for x in projects if x["name"] == "evsnap_weekly"]
        pid = pr["id"]
        listed = _get(f"{base}/api/projects/{pid}/snapshots")
        assert sorted(int(s["metadata"]["report_id"]) for s in listed) == sorted(
            r[0] for r in reports
        )
        sid = by_report[rid]["id"]
        data = _get(f"{base}/api/projects/{pid}/{sid}/data")
        data = json.loads(data) if isinstance(data, str) else data
        assert [w["type"] for w in data["widgets"]][:4] == [
            "counter",
            "counter",
            "counter",
            "big_table",
        ]
        series = _get(
            f"{base}/api/v2/snapshots/{pid}/data_series_batch",
            {
                "series_filter": [
                    {
                        "tags": [],
                        "metadata": {},
                        "metric": "evidently:metric_v2:RMSE",
                        "metric_labels": {},
                    }
                ]
            },
        )["series"]
        assert series[0]["values"] == [r[2]["regression"]["current"]["rmse"] for r in reports]
        dash = ARTIFACTS / "evidently_ui_dashboard.png"
        # the charts' lines animate: with reduced motion they are drawn at once
        dom = chromium_dom_and_shot(
            f"{base}/projects/{pid}", dash, 20000, 1800, ["--force-prefers-reduced-motion"]
        )
        for title in (
            "Share of drifted columns",
            "Drift score per column",
            "RMSE",
            "evsnap_weekly",
        ):
            assert title in dom, title
        check_screenshot(dash, red_min=5)
        _w, _h, pixels = _png_pixels(dash)
        teal = sum(
            1
            for p in pixels
            if abs(p[0] - 0x1F) < 40 and abs(p[1] - 0xB5) < 40 and abs(p[2] - 0xAC) < 40
        )
        assert teal > 1000, f"{dash}: {teal} pixels of the first series' colour: no line drawn"
    finally:
        ui.terminate()
        try:
            ui.wait(timeout=20)
        except subprocess.TimeoutExpired:
            ui.kill()
    shutil.rmtree(ws, ignore_errors=True)
