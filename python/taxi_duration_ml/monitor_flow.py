"""The monitoring flow (Prefect): run the drift monitors stored in the database, log what they
found, and optionally write each monitor's HTML page (:mod:`taxi_duration_ml.monitor_report`).

    taxi-duration monitor --dsn DSN [--monitor NAME ...] [--until TS] [--html OUT.html] [--json]

Steps (Prefect tasks, named as in the Prefect UI):

1. ``alert-watermark``: the highest alert id so far;
2. ``run-monitors``: ``taxi_duration.run_monitors(until)`` — every enabled monitor — or, with
   ``monitors``, ``taxi_duration.run_monitor(name, until)`` for each name given (one transaction
   each, so one failing monitor does not undo the others; its error is reported like
   run_monitors() does). Every complete window up to ``until`` (default: the server's now()) not
   computed yet gets its report; alerts are stored in ``taxi_duration.monitor_alerts`` (and
   NOTIFYed) by the SQL side;
3. ``new-alerts``: the alerts raised during this run (an id above the watermark; an alert that a
   concurrent run — pg_cron — raised meanwhile is listed too), each logged as a warning;
4. ``render-report``, with ``html_path``: each monitor's page (all its stored windows up to
   ``until``). One monitor: written to ``html_path``. Several: ``html_path`` may hold
   ``{monitor}``; otherwise the monitor's name is inserted before the suffix (``report.html`` →
   ``report.<name>.html``).

Each task opens its own connection and retries a lost or refused one with exponential backoff
(:mod:`taxi_duration_ml.retries`); an SQL error, a bad DSN option or a failed authentication fails
at once. Scheduled daily by ``taxi-duration serve`` (:mod:`taxi_duration_ml.deployments`).

Prefect runs as in :mod:`taxi_duration_ml.flow`: with ``PREFECT_API_URL`` set the flow reports to
that server; otherwise Prefect 3 starts a temporary local server (the command line asks for
``--local`` first). The DSN is a flow parameter, so a Prefect server records it: keep passwords
out of it (libpq reads PGPASSWORD and ~/.pgpass). Logged DSNs have their password masked.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from . import monitor_report as MR, retries as RT  # noqa: E402

SCHEMA = MR.SCHEMA


def safe_dsn(dsn: str) -> str:
    """The DSN with any password masked, for logs."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        d = conninfo_to_dict(dsn)
        if "password" in d:
            d["password"] = "***"
        return make_conninfo(**d)
    except Exception:  # noqa: BLE001 - unparsable: mask what looks like a password
        return re.sub(
            r"(password\s*=\s*)\S+|(://[^:/@]*:)[^@]*@",
            lambda m: (m.group(1) or m.group(2)) + "***" + ("" if m.group(1) else "@"),
            dsn,
        )


def _connect(dsn: str):
    import psycopg

    return psycopg.connect(dsn, autocommit=True, application_name="taxi_duration monitoring")


def html_paths(html_path: str, names: list[str]) -> dict[str, str]:
    """Where each monitor's page goes (see the module docstring)."""
    if "{monitor}" in html_path:
        return {n: html_path.replace("{monitor}", _file_part(n)) for n in names}
    if len(names) == 1:
        return {names[0]: html_path}
    p = Path(html_path)
    return {n: str(p.with_name(f"{p.stem}.{_file_part(n)}{p.suffix or '.html'}")) for n in names}


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "monitor"


# Every task connects afresh: one that lost its connection (server restarting, network) is
# retried (retries.py); SQL errors are not. run_monitor() computes a window once, so running the
# monitors again after a partial attempt only computes what is left.
NETWORK = RT.network_retries()


@task(name="alert-watermark", cache_policy=NO_CACHE, **NETWORK)
def alert_watermark(dsn: str) -> int:
    """The highest alert id before this run: the alerts above it are this run's."""
    with _connect(dsn) as conn:
        return int(
            conn.execute(f"SELECT coalesce(max(id), 0) FROM {SCHEMA}.monitor_alerts").fetchone()[0]
        )


@task(name="run-monitors", cache_policy=NO_CACHE, **NETWORK)
def run_monitors(dsn: str, monitors: list[str] | None, until: str | None) -> dict:
    """Run the monitors; {"results": [{monitor, windows, error}], "until": ts}."""
    import psycopg

    log = get_run_logger()
    notices: list[str] = []
    results = []
    with _connect(dsn) as conn:
        conn.add_notice_handler(lambda d: notices.append(f"{d.severity}: {d.message_primary}"))
        # NULL must never reach run_monitor(): its loop would not end. No until: the server's now().
        at = conn.execute("SELECT coalesce(%s::timestamptz, now())", (until,)).fetchone()[0]
        if monitors is None:
            rows = conn.execute(
                f"SELECT monitor, windows, error FROM {SCHEMA}.run_monitors(%s)", (at,)
            ).fetchall()
            results = [{"monitor": m, "windows": int(w or 0), "error": e} for m, w, e in rows]
        else:
            for name in monitors:
                try:
                    n = conn.execute(
                        f"SELECT count(*) FROM {SCHEMA}.run_monitor(%s, %s)", (name, at)
                    ).fetchone()[0]
                    results.append({"monitor": name, "windows": int(n), "error": None})
                except psycopg.Error as e:
                    if conn.broken:  # the connection, not the monitor: the task retries
                        raise
                    msg = (e.diag.message_primary or str(e)).strip()
                    results.append({"monitor": name, "windows": 0, "error": msg})
    for n in notices:  # alerts and failures are logged from the results, once
        if 'taxi_duration monitor "' not in n:
            log.info("server %s", n)
    for r in results:
        if r["error"]:
            log.error("monitor %s failed: %s", r["monitor"], r["error"])
        else:
            log.info(
                "monitor %s: %d new window%s",
                r["monitor"],
                r["windows"],
                "" if r["windows"] == 1 else "s",
            )
    return {"results": results, "until": at.isoformat()}


@task(name="new-alerts", cache_policy=NO_CACHE, **NETWORK)
def new_alerts(dsn: str, after_id: int, monitors: list[str] | None) -> list[dict]:
    """Alerts with an id above ``after_id`` (of ``monitors`` when given), oldest first."""
    from psycopg.rows import dict_row

    log = get_run_logger()
    with _connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT a.id, a.report_id, a.monitor, a.window_start, r.window_end, a.raised_at, a.kind, a.message,"
            f" a.details FROM {SCHEMA}.monitor_alerts a LEFT JOIN {SCHEMA}.monitor_reports r ON r.id = a.report_id"
            " WHERE a.id > %s AND (%s::text[] IS NULL OR a.monitor = ANY (%s::text[])) ORDER BY a.id",
            (after_id, monitors, monitors),
        )
        alerts = cur.fetchall()
    for a in alerts:
        log.warning(
            "ALERT %s [%s] window %s: %s",
            a["monitor"],
            a["kind"],
            a["window_start"].isoformat(),
            a["message"],
        )
    if not alerts:
        log.info("no alert raised")
    return alerts


@task(name="render-report", cache_policy=NO_CACHE, **NETWORK)
def render_report(dsn: str, monitor: str, path: str, until: str | None) -> str | None:
    with _connect(dsn) as conn:
        try:
            data = MR.fetch(conn, monitor, until=until)
        except LookupError as e:
            get_run_logger().warning("no page for %s: %s", monitor, e)
            return None
    html = MR.render_html(**data, generated_at=datetime.now(UTC))
    out = MR.write_html(path, html)
    get_run_logger().info(
        "monitor %s: %d windows, %d alerts -> %s (%d bytes)",
        monitor,
        len(data["reports"]),
        len(data["alerts"]),
        out,
        len(html.encode()),
    )
    return out


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, datetime):
        return v.isoformat()
    return v


@flow(name="taxi-duration-monitoring")
def monitoring_flow(
    dsn: str,
    monitors: list[str] | None = None,
    until: str | None = None,
    html_path: str | None = None,
) -> dict:
    """Run the monitors (all enabled ones, or ``monitors``) up to ``until`` (timestamptz text;
    default now); log the results and the alerts raised; write the pages when ``html_path``.
    Returns {"dsn", "until", "results", "alerts", "html", "failed"}: JSON-ready values."""
    log = get_run_logger()
    monitors = list(dict.fromkeys(monitors)) if monitors else None
    log.info(
        "running %s on %s up to %s",
        "every enabled monitor" if monitors is None else ", ".join(monitors),
        safe_dsn(dsn),
        until or "now",
    )
    watermark = alert_watermark(dsn)
    ran = run_monitors(dsn, monitors, until)
    alerts = new_alerts(dsn, watermark, monitors)
    pages = {}
    if html_path:
        names = [r["monitor"] for r in ran["results"]]
        for name, path in html_paths(html_path, names).items():
            out = render_report(dsn, name, path, ran["until"])
            if out is not None:
                pages[name] = out
    failed = [r["monitor"] for r in ran["results"] if r["error"]]
    log.info(
        "%d monitor%s run, %d failed, %d alert%s raised",
        len(ran["results"]),
        "" if len(ran["results"]) == 1 else "s",
        len(failed),
        len(alerts),
        "" if len(alerts) == 1 else "s",
    )
    return _jsonable(
        {
            "dsn": safe_dsn(dsn),
            "until": ran["until"],
            "results": ran["results"],
            "alerts": alerts,
            "html": pages,
            "failed": failed,
        }
    )
