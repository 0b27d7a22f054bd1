"""``export-evidently``: the stored drift reports as Evidently 0.7 snapshots in a local Workspace
(taxi_duration_ml.evidently_workspace), for ``evidently ui --workspace DIR``.
docs/monitoring.md, "Evidently's UI"."""

from __future__ import annotations

import json
import os
import sys

from . import argtypes as T
from .errors import CommandFailed, UsageError
from .parser import add_command, add_dsn


def add_commands(sub, common) -> None:
    ex = add_command(
        sub,
        "export-evidently",
        parents=common,
        help="write stored drift reports as Evidently snapshots (its Workspace and UI)",
        description="""\
Write each stored report of the drift monitors (taxi_duration.monitor_reports) as an Evidently
0.7 snapshot in a local Workspace directory: one project per monitor, one snapshot per window
(timestamp: the window start), and a dashboard of drift share, drift scores and RMSE over time.
Then `evidently ui --workspace DIR` shows them.  Exporting again rewrites the same files.
Windows without rows are skipped.  With --report-json, write one drift_report() result (a JSON
file, '-' for stdin) instead, without a database.  Exit status 1 when a monitor or report does
not exist.""",
    )
    add_dsn(ex)
    ex.add_argument(
        "--workspace",
        required=True,
        metavar="DIR",
        help="the Evidently workspace directory (created if missing)",
    )
    ex.add_argument(
        "--monitor",
        action="extend",
        nargs="+",
        default=None,
        metavar="NAME",
        help="export this monitor (repeatable; default: every monitor you can see)",
    )
    ex.add_argument(
        "--report-id",
        type=T.positive_int,
        action="extend",
        nargs="+",
        default=None,
        metavar="N",
        help="only these reports (monitor_reports.id, repeatable; default: all)",
    )
    ex.add_argument(
        "--report-json",
        default=None,
        metavar="FILE",
        help="export this drift_report() result instead ('-': stdin; default: none)",
    )
    ex.add_argument(
        "--project",
        default="drift_report",
        metavar="NAME",
        help="the project of a --report-json snapshot",
    )
    ex.set_defaults(func=cmd_export_evidently)


def cmd_export_evidently(a) -> int:
    from .. import evidently_workspace as E

    if os.path.exists(a.workspace) and not os.path.isdir(a.workspace):
        raise UsageError(f"{a.workspace}: not a directory")
    if a.report_json is not None:
        if a.monitor or a.report_id:
            raise UsageError("--report-json cannot be combined with --monitor or --report-id")
        try:
            if a.report_json == "-":
                report = json.load(sys.stdin)
            else:
                with open(a.report_json, encoding="utf-8") as f:
                    report = json.load(f)
        except ValueError as e:
            raise UsageError(f"{a.report_json}: not JSON: {e}") from e
        try:
            r = E.export_report(a.workspace, report, a.project)
        except E.ExportError as e:
            raise CommandFailed(str(e)) from e
        print(f"{a.project}: 1 snapshot -> {r['project']}/snapshots/{r['snapshot']}.json")
        return 0

    import psycopg

    with psycopg.connect(a.dsn, autocommit=True) as conn:
        try:
            results = E.export_monitors(conn, a.workspace, a.monitor, a.report_id)
        except LookupError as e:
            raise CommandFailed(str(e)) from e
    if not results:
        print("no monitor to export")
    for r in results:
        empty = f", {r['empty_windows']} empty windows skipped" if r["empty_windows"] else ""
        print(f"{r['monitor']}: {r['snapshots']} snapshots{empty} -> {r['project']}")
    return 0
