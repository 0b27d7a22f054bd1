"""Load an exported Evidently workspace with Evidently 0.7.23 itself and say what it sees.

    /opt/td-evidently-venv/bin/python tests/monitoring/evidently_snapshot_check.py WORKSPACE HTML_DIR

Runs in Evidently's own virtualenv (test_evidently_snapshot.py calls it). For every project the
local ``Workspace`` API lists (``evidently.ui.workspace.Workspace``): its snapshots through
``Workspace.list_runs``/``get_run`` (``SnapshotModel``, parsed by pydantic), then each snapshot
file through ``Snapshot.load`` (the public loader), ``Snapshot.dict()`` (the metric values and
test results as Evidently reports them) and ``Snapshot.get_html_str(as_iframe=False)`` (Evidently's
HTML page, written to HTML_DIR/<snapshot id>.html). Also loads the workspace the way ``evidently ui``
does (the service's ``LocalState`` with ``skip_errors=False``: a malformed snapshot raises).

Prints one JSON document: {"evidently": version, "projects": [{"id", "name", "description",
"snapshots": [{"id", "name", "timestamp", "metadata", "tags", "metrics", "tests", "html",
"widget_types"}]}]}. Exit status 1 if anything raises.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path


def main(workspace: str, html_dir: str) -> dict:
    warnings.filterwarnings("ignore")
    import evidently
    from evidently.core.report import Snapshot
    from evidently.ui.service.storage.local.base import LocalState
    from evidently.ui.workspace import Workspace

    # as `evidently ui` loads it: every project and snapshot, errors raised
    state = LocalState.load(workspace, None)
    service_view = {str(p): sorted(str(s) for s in snaps) for p, snaps in state.snapshots.items()}

    ws = Workspace(workspace)
    out = {"evidently": evidently.__version__, "projects": []}
    for project in sorted(ws.list_projects(), key=lambda p: p.name):
        pid = str(project.id)
        snaps = []
        for sid in sorted(ws.list_runs(pid), key=str):
            model = ws.get_run(pid, sid)  # SnapshotModel
            path = Path(workspace) / pid / "snapshots" / f"{sid}.json"
            snap = Snapshot.load(str(path))
            d = snap.dict()
            html = Path(html_dir) / f"{sid}.html"
            html.write_text(snap.get_html_str(as_iframe=False), encoding="utf-8")
            metrics = []
            for m in d["metrics"]:
                metrics.append(
                    {
                        "id": m["id"],
                        "type": m["config"]["type"].rsplit(":", 1)[-1],
                        "config": m["config"],
                        "value": m["value"],
                    }
                )
            snaps.append(
                {
                    "id": str(sid),
                    "name": model.name,
                    "timestamp": model.timestamp.isoformat(),
                    "metadata": model.metadata,
                    "tags": model.tags,
                    "metrics": metrics,
                    "tests": [
                        {
                            "name": t["name"],
                            "status": str(getattr(t["status"], "value", t["status"])),
                            "metric": t["metric_config"]["params"]["type"].rsplit(":", 1)[-1],
                            "column": t["metric_config"]["params"].get("column"),
                        }
                        for t in d["tests"]
                    ],
                    "widget_types": [w.type for w in model.widgets + model.tests_widgets],
                    "html": str(html),
                    "html_bytes": html.stat().st_size,
                }
            )
        out["projects"].append(
            {
                "id": pid,
                "name": project.name,
                "description": project.description,
                "snapshots": snaps,
                "service_snapshots": service_view.get(pid, []),
            }
        )
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(json.dumps(main(sys.argv[1], sys.argv[2]), default=str))
