"""The Evidently Workspace layout of our snapshots, and the export from the database.

    taxi-duration export-evidently --dsn DSN --workspace DIR [--monitor NAME] [--report-id N]
    evidently ui --workspace DIR

One project per monitor, one snapshot per stored window (:mod:`.evidently_snapshot` builds it),
as Evidently 0.7.23's local workspace keeps them (``evidently/ui/storage/local/base.py``)::

    DIR/<project uuid>/metadata.json                  ProjectModel: id, name, description, version "2"
    DIR/<project uuid>/dashboard.json                 DashboardModel: panels over time
    DIR/<project uuid>/snapshots/<snapshot uuid>.json SnapshotModel

The ids are UUIDv5 of the monitor name and the report id: exporting again rewrites the same
files, byte for byte; a plain ``drift_report()`` result goes into a project of its own, its
snapshot named by the report's SHA-256. Windows without rows are skipped (Evidently has nothing
to show for them). Standard library and psycopg only.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

from .evidently_snapshot import METRIC, ExportError, _uuid, snapshot

SCHEMA = "taxi_duration"


def _interval(v) -> str:
    """A window size as PostgreSQL writes it ("7 days", "1 day 06:00:00")."""
    if not hasattr(v, "total_seconds"):
        return str(v)
    days, secs = divmod(int(v.total_seconds()), 86400)
    clock = f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}" if secs else ""
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    return " ".join(parts + ([clock] if clock else [])) or "00:00:00"


# --------------------------------------------------------------------------------------------
# the Workspace layout
# --------------------------------------------------------------------------------------------


def project_id(name: str) -> str:
    return _uuid("project", name)


def snapshot_id(project: str, report_id) -> str:
    return _uuid("snapshot", project, report_id)


def dashboard(columns: list[str], with_regression: bool, project: str) -> dict:
    """Panels over time (one point per snapshot): drift share, drift score per column, RMSE."""

    def panel(title, values, plot="line", subtitle=None):
        return {
            "id": _uuid(project, "panel", title),
            "title": title,
            "subtitle": subtitle,
            "size": "full",
            "values": values,
            "plot_params": {"plot_type": plot},
        }

    def metric(name, legend, **labels):
        return {
            "legend": legend,
            "tags": [],
            "metadata": {},
            "metric": METRIC + name,
            "metric_labels": {k: str(v) for k, v in labels.items()},
            "view_params": {},
        }

    panels = [
        panel(
            "Share of drifted columns", [metric("DriftedColumnsCount", "share", value_type="share")]
        ),
        panel(
            "Drift score per column",
            [metric("ValueDrift", c, column=c) for c in columns],
            subtitle="the score of each column's test (p-values and distances mixed)",
        ),
    ]
    if with_regression:
        panels.append(panel("RMSE", [metric("RMSE", "RMSE")]))
        panels.append(panel("Mean absolute error", [metric("MAE", "MAE", value_type="mean")]))
    return {
        "tabs": [
            {
                "id": _uuid(project, "tab"),
                "title": "Monitoring",
                "panels": [p["id"] for p in panels],
            }
        ],
        "panels": panels,
    }


def _write(path: str, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def write_project(
    workspace: str, name: str, description: str, snapshots: list[tuple[str, dict]]
) -> str:
    """Write (or rewrite) one project with its snapshots; returns the project's directory."""
    pid = project_id(name)
    pdir = os.path.join(workspace, pid)
    os.makedirs(os.path.join(pdir, "snapshots"), exist_ok=True)
    _write(
        os.path.join(pdir, "metadata.json"),
        {"id": pid, "name": name, "description": description, "org_id": None, "version": "2"},
    )
    columns: list[str] = []
    regression = False
    for sid, snap in snapshots:
        _write(os.path.join(pdir, "snapshots", sid + ".json"), snap)
        for r in snap["metric_results"].values():
            params = r["metric_value_location"]["metric"]["params"]
            if params["type"] == METRIC + "ValueDrift" and params["column"] not in columns:
                columns.append(params["column"])
            regression |= params["type"] == METRIC + "RMSE"
    _write(os.path.join(pdir, "dashboard.json"), dashboard(columns, regression, pid))
    return pdir


# --------------------------------------------------------------------------------------------
# from the database
# --------------------------------------------------------------------------------------------


def fetch_reports(conn, monitors=None, report_ids=None) -> dict:
    """{monitor name: (monitor row, [report rows by window])} for the named monitors (default:
    every monitor the caller can see), optionally only the given report ids.
    Raises LookupError for a monitor or a report id that does not exist."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT * FROM {SCHEMA}.monitors ORDER BY name")
        all_monitors = {m["name"]: m for m in cur.fetchall()}
        names = list(monitors) if monitors else list(all_monitors)
        for n in names:
            if n not in all_monitors:
                raise LookupError(f'monitor "{n}" does not exist')
        cur.execute(
            "SELECT id, monitor, window_start, window_end, computed_at, current_rows, report"
            f" FROM {SCHEMA}.monitor_reports WHERE monitor = ANY(%s)"
            " AND (%s::bigint[] IS NULL OR id = ANY(%s::bigint[]))"
            " ORDER BY monitor, window_start, id",
            (names, report_ids, report_ids),
        )
        rows = cur.fetchall()
    if report_ids:
        missing = sorted(set(report_ids) - {r["id"] for r in rows})
        if missing:
            raise LookupError(
                f"no report with id {', '.join(map(str, missing))}"
                + (f" for monitor {', '.join(names)}" if monitors else "")
            )
    out = {n: (all_monitors[n], []) for n in names}
    for r in rows:
        out[r["monitor"]][1].append(r)
    return out


def monitor_snapshot(monitor: dict, row: dict) -> tuple[str, dict]:
    """(snapshot id, snapshot) of one stored window."""
    report = row["report"] if isinstance(row["report"], dict) else json.loads(row["report"])
    name = monitor["name"]
    sid = snapshot_id(project_id(name), row["id"])
    start, end = row["window_start"], row["window_end"]
    meta = {
        "source": "taxi_duration.monitor_reports",
        "monitor": name,
        "report_id": str(row["id"]),
        "window_start": start.isoformat() if hasattr(start, "isoformat") else start,
        "window_end": end.isoformat() if hasattr(end, "isoformat") else end,
        "computed_at": row["computed_at"].isoformat()
        if hasattr(row["computed_at"], "isoformat")
        else row["computed_at"],
        "reference": monitor.get("reference"),
        "current": monitor.get("current"),
        "reference_rows": report.get("reference_rows"),
        "current_rows": report.get("current_rows"),
    }
    label = start.isoformat(sep=" ", timespec="minutes") if hasattr(start, "isoformat") else start
    snap = snapshot(
        report,
        snapshot_id=sid,
        timestamp=start,
        name=f"{name} {label}",
        metadata=meta,
        tags=["taxi_duration", f"monitor:{name}"],
    )
    return sid, snap


def export_monitors(conn, workspace: str, monitors=None, report_ids=None) -> list[dict]:
    """Write every stored window of the monitors as snapshots; one summary dict per monitor."""
    out = []
    for name, (monitor, rows) in fetch_reports(conn, monitors, report_ids).items():
        snaps, empty = [], 0
        for row in rows:
            try:
                snaps.append(monitor_snapshot(monitor, row))
            except ExportError:
                empty += 1
        description = (
            f"taxi_duration monitor {name}: reference {monitor.get('reference')}, current "
            f"{monitor.get('current')}, windows of {_interval(monitor.get('window_size'))}"
        )
        pdir = write_project(workspace, name, description, snaps)
        out.append(
            {"monitor": name, "project": pdir, "snapshots": len(snaps), "empty_windows": empty}
        )
    return out


def export_report(workspace: str, report: dict, project: str, *, timestamp=None, name=None) -> dict:
    """One plain ``drift_report()`` result as a snapshot of project ``project``."""
    digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()
    pid = project_id(project)
    sid = snapshot_id(pid, "report:" + digest)
    ts = timestamp or datetime.now(UTC)
    snap = snapshot(
        report,
        snapshot_id=sid,
        timestamp=ts,
        name=name or f"drift_report {digest[:12]}",
        metadata={"source": "taxi_duration.drift_report()", "report_sha256": digest},
        tags=["taxi_duration", "drift_report"],
    )
    pdir = os.path.join(workspace, pid)
    existing = []
    if os.path.isdir(os.path.join(pdir, "snapshots")):
        for f in sorted(os.listdir(os.path.join(pdir, "snapshots"))):
            if f.endswith(".json") and f != sid + ".json":
                with open(os.path.join(pdir, "snapshots", f), encoding="utf-8") as fh:
                    existing.append((f[: -len(".json")], json.load(fh)))
    pdir = write_project(
        workspace, project, "taxi_duration drift_report() results", existing + [(sid, snap)]
    )
    return {"project": pdir, "snapshot": sid}
