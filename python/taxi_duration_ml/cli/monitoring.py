"""Commands of the drift monitors stored in the database: ``monitor`` (run them through the
Prefect flow, taxi_duration_ml.monitor_flow) and ``report`` (one monitor's stored reports as one
HTML page, taxi_duration_ml.monitor_report).  docs/monitoring.md."""

from __future__ import annotations

import json

from .errors import CommandFailed
from .flows import add_local, require_flow_server
from .parser import add_command, add_dsn


def add_commands(sub, common) -> None:
    mo = add_command(
        sub,
        "monitor",
        parents=common,
        help="run the drift monitors stored in the database (Prefect flow), log alerts",
        description="""\
Run the drift monitors defined in the database (every enabled one, or those named) up to a
time, through the Prefect flow: compute their new windows, log the alerts raised and optionally
write each monitor's HTML page.  Exit status 1 when a monitor failed.""",
    )
    add_dsn(mo)
    mo.add_argument(
        "--monitor",
        action="extend",
        nargs="+",
        default=None,
        metavar="NAME",
        help="run this monitor (repeatable; default: every enabled monitor)",
    )
    mo.add_argument(
        "--until",
        default=None,
        metavar="TS",
        help="compute the windows that end by this timestamptz (default: now)",
    )
    mo.add_argument(
        "--html",
        default=None,
        metavar="OUT.html",
        help="write each monitor's page there (several monitors: OUT.<name>.html, or use "
        "{monitor}; default: no page)",
    )
    mo.add_argument("--json", action="store_true", help="print a JSON summary")
    add_local(mo)
    mo.set_defaults(func=cmd_monitor)

    rp = add_command(
        sub,
        "report",
        parents=common,
        help="write a monitor's stored reports as one HTML page",
        description="""\
Write one self-contained HTML page of a monitor's stored windows and alerts: charts over time,
the chosen window in detail.  Timestamps are read by the server, in its session time zone, as
the monitors' windows are.  Exit status 1 when the monitor does not exist.""",
    )
    add_dsn(rp)
    rp.add_argument("--monitor", required=True, metavar="NAME", help="the monitor")
    rp.add_argument("--out", required=True, metavar="OUT.html", help="the page to write")
    rp.add_argument(
        "--window-start",
        default=None,
        metavar="TS",
        help="the window shown in detail (default: the latest with rows)",
    )
    rp.add_argument(
        "--since",
        default=None,
        metavar="TS",
        help="only the windows ending after TS (default: all)",
    )
    rp.add_argument(
        "--until",
        default=None,
        metavar="TS",
        help="only the windows starting before TS (default: all)",
    )
    rp.set_defaults(func=cmd_report)


def cmd_monitor(a) -> int:
    import psycopg

    require_flow_server(a)
    # an unreachable database is one error line here, not a failed Prefect run with tracebacks
    psycopg.connect(a.dsn).close()
    from .. import monitor_flow

    r = monitor_flow.monitoring_flow(
        a.dsn, monitors=a.monitor or None, until=a.until, html_path=a.html
    )
    if a.json:
        print(json.dumps(r, default=str))
        return 1 if r["failed"] else 0
    print(f"until                   {r['until']}")
    if not r["results"]:
        print("no monitor to run (none enabled)")
    for m in r["results"]:
        state = (
            f"FAILED: {m['error']}"
            if m["error"]
            else f"{m['windows']} new window{'s' if m['windows'] != 1 else ''}"
        )
        print(f"monitor {m['monitor']:<16} {state}")
    for al in r["alerts"]:
        print(
            f"ALERT   {al['monitor']:<16} [{al['kind']}] window {al['window_start']}: {al['message']}"
        )
    if not r["alerts"]:
        print("no alert raised")
    for name, path in r["html"].items():
        print(f"page    {name:<16} {path}")
    return 1 if r["failed"] else 0


def cmd_report(a) -> int:
    import datetime as dt

    import psycopg

    from .. import monitor_report as MR

    with psycopg.connect(a.dsn, autocommit=True) as conn:
        # timestamps are read by the server, in its session time zone, as the monitors' windows are
        ws = None
        if a.window_start is not None:
            ws = conn.execute("SELECT %s::timestamptz", (a.window_start,)).fetchone()[0]
        try:
            data = MR.fetch(conn, a.monitor, since=a.since, until=a.until)
        except LookupError as e:
            raise CommandFailed(str(e)) from e
    try:
        html = MR.render_html(**data, window_start=ws, generated_at=dt.datetime.now(dt.UTC))
    except ValueError as e:
        raise CommandFailed(str(e)) from e
    out = MR.write_html(a.out, html)
    print(
        f"{a.monitor}: {len(data['reports'])} windows, {len(data['alerts'])} alerts -> {out} "
        f"({len(html.encode())} bytes)"
    )
    return 0
