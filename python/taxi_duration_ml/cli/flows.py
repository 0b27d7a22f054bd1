"""Where the Prefect flows of ``train`` and ``monitor`` run: the server named by
PREFECT_API_URL (environment or Prefect profile), or, only when asked with ``--local``, a
temporary local one started in-process; ``serve`` (the cron-scheduled deployments,
taxi_duration_ml.deployments) needs a server."""

from __future__ import annotations

import argparse

from .errors import UsageError
from .parser import add_command


def add_local(p) -> None:
    p.add_argument(
        "--local",
        action="store_true",
        help="without PREFECT_API_URL, run the flow with a temporary local Prefect server "
        "(default: refuse, so that runs are not silently lost with that server)",
    )


def require_flow_server(a: argparse.Namespace) -> None:
    """UsageError unless PREFECT_API_URL names a server or --local allows a temporary one."""
    if a.local:
        return
    from ..deployments import prefect_api_url

    if not prefect_api_url():
        raise UsageError(
            "no Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api) "
            "or pass --local to run with a temporary local one"
        )


def add_commands(sub, common) -> None:
    from .. import deployments

    sv = add_command(
        sub,
        "serve",
        parents=common,
        help="serve the training and monitoring deployments (cron schedules) on $PREFECT_API_URL",
        description="""\
Register two Prefect deployments on the server named by PREFECT_API_URL — training (monthly)
and monitoring (daily), cron schedules configurable — and run what their schedules create,
until interrupted (which pauses both schedules).  See docs/model-lifecycle.md.""",
    )
    deployments.add_arguments(sv)
    sv.set_defaults(func=deployments.cmd_serve)
