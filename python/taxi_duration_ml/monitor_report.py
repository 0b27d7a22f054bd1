"""The HTML page of a drift monitor: its stored reports and alerts, as one self-contained file.

    taxi-duration report --dsn DSN --monitor NAME --out report.html [--window-start TS]

:func:`fetch` reads a monitor, its reports (``taxi_duration.monitor_reports``) and its alerts
(``taxi_duration.monitor_alerts``); :func:`render_html` turns them into the page. The page holds:

* a header: the monitor, its reference and current sets, the range of windows shown;
* the status of the chosen window (the latest by default): dataset drift, drifted columns, RMSE;
* a summary table of that window, one row per column: type, test, score, threshold, verdict;
* the reference and current distributions of each column in that window (when the monitor stores
  histograms: ``options`` ``{"histograms": true}``);
* per column, the drift score of every window with the threshold; the share of drifted columns;
  the RMSE with the reference RMSE and the alert threshold; the rows per window;
* the alerts.

The charts are inline SVG written here; the page has no script, loads nothing (a
Content-Security-Policy forbids it) and weighs tens of kilobytes. Hovering a bar or a point shows
its values (SVG ``<title>``). Every string that comes from the database — column names, set
names, categories, messages — is HTML-escaped.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from html import escape

SCHEMA = "taxi_duration"

# Evidently's decision rule of each test is the extension's (lib/stats/tds_stattests.c): every
# column of a report carries it ("drift_rule", "score_is_p_value"); it is only shown here.
RULE_SYMBOLS = {"<=": "≤", ">=": "≥"}


def _rule(c: dict) -> str:
    rule = c.get("drift_rule") or ""
    for ascii_op, symbol in RULE_SYMBOLS.items():
        rule = rule.replace(ascii_op, symbol)
    return rule


REGRESSION_METRICS = [
    ("rmse", "RMSE"),
    ("mae", "MAE"),
    ("mean_error", "mean error"),
    ("error_std", "error std"),
    ("abs_error_std", "abs. error std"),
    ("abs_error_max", "max abs. error"),
    ("mape", "MAPE"),
    ("abs_perc_error_std", "abs. % error std"),
    ("r2", "R²"),
    ("rows", "rows"),
]


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def fetch(conn, monitor_name: str, since=None, until=None) -> dict:
    """The monitor row, its reports and its alerts, as ``{"monitor", "reports", "alerts"}`` (the
    keyword arguments of :func:`render_html`). ``since``/``until`` (timestamptz, as text or
    datetime) keep the windows that overlap ``[since, until)``, and the alerts of those windows.
    Raises LookupError when the monitor does not exist."""
    from psycopg.rows import dict_row

    window = {"m": monitor_name, "since": since, "until": until}
    in_range = (
        "(%(since)s::timestamptz IS NULL OR {end} > %(since)s::timestamptz) AND "
        "(%(until)s::timestamptz IS NULL OR {start} < %(until)s::timestamptz)"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT * FROM {SCHEMA}.monitors WHERE name = %s", (monitor_name,))
        monitor = cur.fetchone()
        if monitor is None:
            raise LookupError(f'monitor "{monitor_name}" does not exist')
        cur.execute(
            "SELECT id, monitor, window_start, window_end, computed_at, current_rows, dataset_drift,"
            " share_of_drifted_columns, number_of_drifted_columns, rmse, reference_rmse, report"
            f" FROM {SCHEMA}.monitor_reports WHERE monitor = %(m)s AND "
            + in_range.format(start="window_start", end="window_end")
            + " ORDER BY window_start",
            window,
        )
        reports = cur.fetchall()
        cur.execute(
            "SELECT a.id, a.report_id, a.monitor, a.window_start, r.window_end, a.raised_at, a.kind,"
            " a.message, a.details"
            f" FROM {SCHEMA}.monitor_alerts a LEFT JOIN {SCHEMA}.monitor_reports r ON r.id = a.report_id"
            " WHERE a.monitor = %(m)s AND "
            + in_range.format(start="a.window_start", end="coalesce(r.window_end, a.window_start)")
            + " ORDER BY a.raised_at, a.id",
            window,
        )
        alerts = cur.fetchall()
    return {"monitor": monitor, "reports": reports, "alerts": alerts}


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _e(s) -> str:
    """HTML-escape anything (quotes included: safe in text and in attribute values)."""
    return escape("" if s is None else str(s), quote=True)


def _num(v) -> float | None:
    """A finite float, or None (None, NaN, ±Infinity, non-numbers)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(v, digits: int = 4) -> str:
    f = _num(v)
    if f is None:
        return "—"
    if f == 0:
        return "0"
    if abs(f) < 1e-3 or abs(f) >= 1e7:
        return f"{f:.{max(digits - 2, 1)}e}"
    return f"{f:.{digits}g}"


def _fmt_int(v) -> str:
    f = _num(v)
    return "—" if f is None else f"{int(f):,}"


def _fmt_pct(v) -> str:
    f = _num(v)
    return "—" if f is None else f"{100 * f:.1f}%"


def _ts(v) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    s = str(v).strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s and " " in s else s)


def _fmt_ts(v) -> str:
    t = _ts(v)
    if t is None:
        return "—"
    timespec = "minutes" if t.second == 0 and t.microsecond == 0 else "seconds"
    return t.isoformat(sep=" ", timespec=timespec)


def _epoch(t: datetime) -> float:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _same_instant(a: datetime, b: datetime) -> bool:
    if (a.tzinfo is None) != (b.tzinfo is None):  # a naive time is read in the other's zone
        if a.tzinfo is None:
            a = a.replace(tzinfo=b.tzinfo)
        else:
            b = b.replace(tzinfo=a.tzinfo)
    return a == b


def _fmt_interval(v) -> str:
    if v is None:
        return "—"
    if not isinstance(v, timedelta):
        return str(v)
    secs = int(v.total_seconds())
    parts = []
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if secs >= n:
            q, secs = divmod(secs, n)
            parts.append(f"{q} {unit}{'s' if q != 1 else ''}")
    return " ".join(parts) or "0"


def _json(v) -> dict:
    if isinstance(v, (str, bytes)):
        try:
            v = json.loads(v)
        except ValueError:
            return {}
    return v if isinstance(v, dict) else {}


def _rows(r: dict) -> int:
    n = _num(r.get("current_rows"))
    if n is None:
        n = _num(r["report"].get("current_rows"))
    return int(n or 0)


def _normalise(reports, alerts, monitor) -> tuple[list[dict], list[dict], dict]:
    monitor = dict(monitor or {})
    monitor["options"] = _json(monitor.get("options"))
    rs = []
    for r in reports or []:
        r = dict(r)
        r["report"] = _json(r.get("report"))
        r["window_start"] = _ts(r.get("window_start"))
        r["window_end"] = _ts(r.get("window_end"))
        if r["window_start"] is None:
            continue
        rep = r["report"]
        cols = rep.get("columns")
        if cols is not None:
            rep["columns"] = (
                {str(k): v for k, v in cols.items() if isinstance(v, dict)}
                if isinstance(cols, dict)
                else {}
            )
        # the table's columns are copies of the report's; fill whichever is missing
        for k in ("dataset_drift", "share_of_drifted_columns", "number_of_drifted_columns"):
            if r.get(k) is None:
                r[k] = rep.get(k)
        reg = rep.get("regression") or {}
        if r.get("rmse") is None:
            r["rmse"] = (reg.get("current") or {}).get("rmse")
        if r.get("reference_rmse") is None:
            r["reference_rmse"] = (reg.get("reference") or {}).get("rmse")
        rs.append(r)
    rs.sort(key=lambda r: _epoch(r["window_start"]))
    al = []
    for a in alerts or []:
        a = dict(a)
        a["details"] = (
            _json(a.get("details")) if not isinstance(a.get("details"), list) else a["details"]
        )
        a["window_start"] = _ts(a.get("window_start"))
        a["raised_at"] = _ts(a.get("raised_at"))
        al.append(a)
    al.sort(
        key=lambda a: (_epoch(a["raised_at"]) if a["raised_at"] else 0, a.get("id") or 0),
        reverse=True,
    )
    return rs, al, monitor


def _column_names(reports: list[dict], monitor: dict) -> list[str]:
    """Every column seen in a report, in the monitor's order first, then by name."""
    seen = set()
    for r in reports:
        seen.update((r["report"].get("columns") or {}).keys())
    order = [c for c in (monitor.get("columns") or []) if c in seen]
    for extra in (monitor.get("prediction"), monitor.get("target")):
        if extra in seen and extra not in order:
            order.append(extra)
    return order + sorted(seen - set(order))


# --------------------------------------------------------------------------------------------
# SVG charts
# --------------------------------------------------------------------------------------------


def _nice_ticks(lo: float, hi: float, n: int = 5) -> tuple[float, float, list[float]]:
    if not hi > lo:
        hi = lo + (abs(lo) if lo else 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag * (1 + 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    ticks = [round(start + i * step, 12) for i in range(int(round((end - start) / step)) + 1)]
    return start, end, ticks


class _Plot:
    """Axes of one SVG chart: scales, grid, tick labels."""

    def __init__(self, width, height, x_domain, y_domain, *, left=58, right=14, top=12, bottom=42):
        self.w, self.h = width, height
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.x0, self.x1 = x_domain
        self.y0, self.y1 = y_domain
        if self.x1 <= self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x0 + 1
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1

    def x(self, v: float) -> float:
        return self.left + (v - self.x0) / (self.x1 - self.x0) * (self.w - self.left - self.right)

    def y(self, v: float) -> float:
        v = min(max(v, self.y0), self.y1)
        return (
            self.h
            - self.bottom
            - (v - self.y0) / (self.y1 - self.y0) * (self.h - self.top - self.bottom)
        )

    def frame(self, x_ticks, y_ticks, y_fmt, *, rotate_x=False) -> list[str]:
        out = ['<g class="axes">']
        bx, by = self.left, self.h - self.bottom
        for v in y_ticks:
            y = self.y(v)
            out.append(
                f'<line class="grid" x1="{bx}" x2="{self.w - self.right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            )
            out.append(
                f'<text class="tick" x="{bx - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(y_fmt(v))}</text>'
            )
        for v, label in x_ticks:
            x = self.x(v)
            out.append(
                f'<line class="tickmark" x1="{x:.1f}" x2="{x:.1f}" y1="{by}" y2="{by + 4}"/>'
            )
            if rotate_x:
                out.append(
                    f'<text class="tick" x="{x:.1f}" y="{by + 12}" text-anchor="end" '
                    f'transform="rotate(-35 {x:.1f} {by + 12})">{_e(label)}</text>'
                )
            else:
                out.append(
                    f'<text class="tick" x="{x:.1f}" y="{by + 16}" text-anchor="middle">{_e(label)}</text>'
                )
        out.append(f'<line class="axis" x1="{bx}" x2="{self.w - self.right}" y1="{by}" y2="{by}"/>')
        out.append(f'<line class="axis" x1="{bx}" x2="{bx}" y1="{self.top}" y2="{by}"/>')
        out.append("</g>")
        return out

    def svg(self, body: list[str], label: str) -> str:
        return (
            f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
            f'viewBox="0 0 {self.w} {self.h}" role="img" aria-label="{_e(label)}">'
            + "".join(body)
            + "</svg>"
        )


def _legend(items: list[tuple[str, str]]) -> str:
    """items: (css class of the swatch, label)."""
    return (
        '<div class="legend">'
        + "".join(
            f'<span class="key"><i class="sw {cls}"></i>{_e(label)}</span>' for cls, label in items
        )
        + "</div>"
    )


def _figure(kind: str, title: str, body: str, *, column: str | None = None, note: str = "") -> str:
    col = f' data-column="{_e(column)}"' if column is not None else ""
    note = f'<p class="note">{note}</p>' if note else ""
    return (
        f'<figure class="chart" data-chart="{kind}"{col}><figcaption>{_e(title)}</figcaption>'
        f"{body}{note}</figure>"
    )


class _Time:
    """The shared time axis of the over-time charts: window starts."""

    def __init__(self, reports: list[dict]):
        self.starts = [r["window_start"] for r in reports]
        self.empty = [_rows(r) == 0 for r in reports]
        self.xs = [_epoch(t) for t in self.starts]
        if self.xs:
            span = self.xs[-1] - self.xs[0]
            ends = [
                _epoch(r["window_end"]) - _epoch(r["window_start"])
                for r in reports
                if r.get("window_end")
            ]
            step = min(ends) if ends else (span / max(len(self.xs) - 1, 1) or 3600.0)
            pad = max(step, 1.0) / 2
            self.domain = (self.xs[0] - pad, self.xs[-1] + pad)
            self.step = step
        else:
            self.domain, self.step = (0.0, 1.0), 1.0
        midnight = all(t.hour == 0 and t.minute == 0 and t.second == 0 for t in self.starts)
        same_year = len({t.year for t in self.starts}) <= 1
        fmt = (
            ("%Y-%m-%d" if not same_year else "%b %d")
            if midnight
            else ("%m-%d %H:%M" if same_year else "%Y-%m-%d %H:%M")
        )
        n = len(self.xs)
        if n <= 8:
            idx = list(range(n))
        else:
            k = 6
            idx = sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
        self.ticks = [(self.xs[i], self.starts[i].strftime(fmt)) for i in idx]


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path through the points; None breaks the line (an empty window)."""
    d, pen = [], False
    for p in points:
        if p is None:
            pen = False
            continue
        d.append(f"{'L' if pen else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen = True
    return " ".join(d)


def _time_chart(
    time: _Time,
    series: list[dict],
    *,
    hlines=(),
    y_domain=None,
    y_fmt=_fmt,
    label: str,
    zero: bool = True,
    width=600,
    height=230,
) -> str:
    """Lines over windows. series: {name, cls, ys, flags (bool per point: drawn red), tips,
    markers (default True)}; hlines: {y, cls, tip} full-width lines (thresholds)."""
    vals = [v for s in series for v in s["ys"] if v is not None] + [h["y"] for h in hlines]
    if y_domain is None:
        lo = (
            min([0.0] + vals)
            if zero or not vals
            else min(vals) - 0.15 * ((max(vals) - min(vals)) or abs(min(vals)))
        )
        hi = max(vals) + 0.08 * ((max(vals) - lo) or 1.0) if vals and max(vals) > 0 else 1.0
        y0, y1, yt = _nice_ticks(lo, hi)
    else:
        y0, y1, yt = _nice_ticks(*y_domain)
    p = _Plot(width, height, time.domain, (y0, y1), right=30)
    body = _gaps(p, time) + p.frame(time.ticks, yt, y_fmt)
    dense = len(time.xs) > 60
    for h in hlines:
        y = p.y(h["y"])
        body.append(
            f'<line class="hline {h["cls"]}" x1="{p.left}" x2="{p.w - p.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}"><title>{_e(h["tip"])}</title></line>'
        )
    for s in series:
        pts = [
            None if v is None else (p.x(x), p.y(v)) for x, v in zip(time.xs, s["ys"], strict=False)
        ]
        d = _path(pts)
        if d:
            body.append(f'<path class="line {s["cls"]}" d="{d}"/>')
        if s.get("markers", True):
            flags = s.get("flags") or [False] * len(pts)
            tips = s.get("tips") or [""] * len(pts)
            for pt, bad, tip in zip(pts, flags, tips, strict=False):
                if pt is not None:
                    r = (3 if bad else 1.8) if dense else (4.5 if bad else 3.2)
                    body.append(
                        f'<circle class="pt {s["cls"]}{" bad" if bad else ""}" cx="{pt[0]:.1f}" '
                        f'cy="{pt[1]:.1f}" r="{r}"><title>{_e(tip)}</title></circle>'
                    )
    return p.svg(body, label)


def _gaps(p: _Plot, time: _Time) -> list[str]:
    """A grey band over each window without rows."""
    half = max(time.step, 1.0) / 2
    out = []
    for x, t, empty in zip(time.xs, time.starts, time.empty, strict=True):
        if empty:
            x0, x1 = p.x(x - half), p.x(x + half)
            out.append(
                f'<rect class="gap" x="{x0:.1f}" y="{p.top}" width="{x1 - x0:.1f}" '
                f'height="{p.h - p.top - p.bottom}"><title>{_e(_fmt_ts(t))}: no rows</title></rect>'
            )
    return out


def _bars_chart(
    time: _Time,
    ys: list[float | None],
    tips: list[str],
    *,
    label: str,
    cls: str,
    width=600,
    height=200,
) -> str:
    vals = [v for v in ys if v is not None]
    y0, y1, yt = _nice_ticks(0.0, max(vals) if vals and max(vals) > 0 else 1.0, 4)
    p = _Plot(width, height, time.domain, (y0, y1), left=64, right=30)
    body = _gaps(p, time) + p.frame(
        time.ticks, yt, lambda v: _fmt_int(v) if v == int(v) else _fmt(v, 3)
    )
    bw = max(2.0, min(40.0, 0.7 * (p.x(time.domain[0] + time.step) - p.x(time.domain[0]))))
    for x, v, tip in zip(time.xs, ys, tips, strict=False):
        h = 0.0 if v is None else p.y(0) - p.y(v)
        empty = " empty" if not v else ""
        body.append(
            f'<rect class="bar {cls}{empty}" x="{p.x(x) - bw / 2:.1f}" y="{p.y(0) - max(h, 1.5):.1f}" '
            f'width="{bw:.1f}" height="{max(h, 1.5):.1f}"><title>{_e(tip)}</title></rect>'
        )
    return p.svg(body, label)


def _histogram_chart(column: str, hist: dict) -> str | None:
    ref = [_num(v) or 0.0 for v in hist.get("reference") or []]
    cur = [_num(v) or 0.0 for v in hist.get("current") or []]
    k = min(len(ref), len(cur))
    if k == 0:
        return None
    ref, cur = ref[:k], cur[:k]
    nref, ncur = sum(ref) or 1.0, sum(cur) or 1.0
    pr = [v / nref for v in ref]
    pc = [v / ncur for v in cur]
    if hist.get("kind") == "bins":
        edges = [_num(v) for v in hist.get("edges") or []]
        if len(edges) != k + 1 or any(v is None for v in edges):
            return None
        names = [
            f"[{_fmt(edges[i])}, {_fmt(edges[i + 1])}{']' if i == k - 1 else ')'}" for i in range(k)
        ]
        step = max(1, math.ceil((k + 1) / 6))
        idx = sorted(set(range(0, k + 1, step)) | {k})
        x_ticks = [(float(i), _fmt(edges[i], 3)) for i in idx]
        rotate = False
    else:
        values = list(hist.get("values") or [])
        names = [v if isinstance(v, str) else _fmt(v, 6) for v in values][:k]
        if hist.get("other") and len(names) < k:
            names.append("other")
        names += [""] * (k - len(names))
        x_ticks = [(i + 0.5, (n if len(n) <= 14 else n[:13] + "…")) for i, n in enumerate(names)]
        if k > 24:  # only some labels fit
            step = math.ceil(k / 24)
            x_ticks = x_ticks[::step]
        rotate = k > 6 or any(len(n) > 6 for n in names)
    width = max(600, min(1200, 58 + 14 + k * 22))
    y0, y1, yt = _nice_ticks(0.0, min(max(pr + pc) * 1.05, 1.0) or 1.0, 4)
    p = _Plot(width, 250 if rotate else 220, (0.0, float(k)), (y0, y1), bottom=78 if rotate else 42)
    body = p.frame(
        x_ticks,
        yt,
        lambda v: f"{100 * v:.0f}%" if y1 >= 0.05 else f"{100 * v:.1f}%",
        rotate_x=rotate,
    )
    slot = p.x(1.0) - p.x(0.0)
    bw = slot * 0.4
    for i in range(k):
        x = p.x(float(i)) + slot * 0.1
        for j, (cls, share, count, who) in enumerate(
            (("ref", pr[i], ref[i], "reference"), ("cur", pc[i], cur[i], "current"))
        ):
            h = p.y(0) - p.y(share)
            tip = f"{column} {names[i]}: {who} {100 * share:.2f}% ({_fmt_int(count)} rows)"
            body.append(
                f'<rect class="bar {cls}" x="{x + j * bw:.1f}" y="{p.y(0) - h:.1f}" width="{bw:.1f}" '
                f'height="{h:.1f}"><title>{_e(tip)}</title></rect>'
            )
    return p.svg(body, f"distribution of {column}")


# --------------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1d2733;
 background:#f4f6f9;margin:0}
main{max-width:1360px;margin:0 auto;padding:20px 24px 48px}
header.page{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:16px 20px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
dl.meta dt{color:#5b6776}
dl.meta dd{margin:0;overflow-wrap:anywhere}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 16px;min-width:200px}
.card .k{color:#5b6776;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:20px;font-weight:600}
.card.bad{border-color:#e3a3a3;background:#fff5f5}.card.bad .v{color:#b42318}
.card.ok .v{color:#1a7f37}
table{border-collapse:collapse;background:#fff;border:1px solid #dde3ea;width:100%}
table.regression{width:auto;min-width:520px}
th,td{padding:6px 10px;border-bottom:1px solid #e8ecf1;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600;font-size:13px}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.col{font-weight:600;overflow-wrap:anywhere;max-width:320px}
tr.drifted td{background:#fff7f7}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.drift{background:#fde2e1;color:#b42318}.badge.ok{background:#dcf5e3;color:#1a7f37}
.badge.err{background:#fff1c2;color:#7a5a00}.badge.rmse{background:#e8e3fc;color:#4b32a8}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:14px}
figure.chart{background:#fff;border:1px solid #dde3ea;border-radius:8px;margin:0;padding:10px 12px;overflow-x:auto}
figcaption{font-weight:600;margin-bottom:4px;overflow-wrap:anywhere}
.note{color:#5b6776;font-size:12.5px;margin:4px 0 0}
p.empty{color:#5b6776;background:#fff;border:1px dashed #c9d1db;border-radius:8px;padding:12px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:#3d4a59;margin:2px 0 4px}
.legend .sw{display:inline-block;width:18px;height:10px;margin-right:6px;vertical-align:middle;border-radius:2px}
.sw.ref{background:#a3afbd}.sw.cur{background:#2f6fb5}.sw.score{background:#2f6fb5}
.sw.thr{background:repeating-linear-gradient(90deg,#d9480f 0 5px,transparent 5px 8px);height:3px}
.sw.refline{background:repeating-linear-gradient(90deg,#7d8896 0 6px,transparent 6px 9px);height:3px}
.sw.bad{background:#d62728;border-radius:50%;width:10px}
svg.plot{display:block;max-width:100%;height:auto}
svg.plot text{font:11px system-ui,"DejaVu Sans",Arial,sans-serif;fill:#4a5666}
svg.plot .grid{stroke:#e9edf2}svg.plot .axis{stroke:#8a96a3}svg.plot .tickmark{stroke:#8a96a3}
svg.plot .bar.ref{fill:#a3afbd}svg.plot .bar.cur{fill:#2f6fb5}svg.plot .bar.rows{fill:#7aa6d6}
svg.plot .bar.empty{fill:#d7dde4}svg.plot .gap{fill:#eef1f5}
svg.plot .line{fill:none;stroke-width:2}
svg.plot .line.score,svg.plot .line.rmse,svg.plot .line.share{stroke:#2f6fb5}
svg.plot .line.refrmse{stroke:#7d8896;stroke-dasharray:6 3}
svg.plot .line.thr{stroke:#d9480f;stroke-dasharray:5 3;stroke-width:1.5}
svg.plot .hline{stroke-width:1.5;stroke-dasharray:5 3}
svg.plot .hline.thr{stroke:#d9480f}svg.plot .hline.refrmse{stroke:#7d8896;stroke-dasharray:6 3}
svg.plot .pt{fill:#2f6fb5;stroke:#fff;stroke-width:1}
svg.plot .pt.refrmse{fill:#7d8896}
svg.plot .pt.bad{fill:#d62728}
details{margin-top:10px}summary{cursor:pointer;color:#2f5f95}
.kind{white-space:nowrap}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 16px;margin:10px 0 0;font-size:13px}
nav.toc a{color:#2f5f95;text-decoration:none}nav.toc a:hover{text-decoration:underline}
"""


def _badge(c: dict) -> str:
    if c.get("error") or _num(c.get("score")) is None:
        return '<span class="badge err">no score</span>'
    if c.get("drifted"):
        return '<span class="badge drift">Drift detected</span>'
    return '<span class="badge ok">No drift</span>'


def _nav(chosen: dict | None, n_alerts: int) -> str:
    links = []
    if chosen is not None:
        if _rows(chosen):
            links += [("drift-summary", "Column drift"), ("distributions", "Distributions")]
            if chosen["report"].get("regression") or {}:
                links.append(("regression-quality", "Regression quality"))
        links += [("over-time", "Over time"), ("scores", "Drift scores")]
    links.append(("alerts-title", f"Alerts ({n_alerts})"))
    return '<nav class="toc">' + "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in links) + "</nav>"


def _header(
    monitor: dict, reports: list[dict], chosen: dict | None, generated_at, nav: str = ""
) -> str:
    name = (
        monitor.get("name")
        or (reports[0].get("monitor") if reports else None)
        or "(unnamed monitor)"
    )
    rows = [
        (
            "Reference",
            f"<code>{_e(monitor.get('reference'))}</code>" if monitor.get("reference") else "—",
        ),
        (
            "Current",
            f"<code>{_e(monitor.get('current'))}</code>" if monitor.get("current") else "—",
        ),
    ]
    if monitor.get("time_column"):
        rows.append(
            (
                "Time column",
                f"<code>{_e(monitor['time_column'])}</code>, windows of "
                f"{_e(_fmt_interval(monitor.get('window_size')))}",
            )
        )
    if reports:
        rows.append(
            (
                "Windows shown",
                f"{_e(_fmt_ts(reports[0]['window_start']))} → "
                f"{_e(_fmt_ts(reports[-1].get('window_end') or reports[-1]['window_start']))} "
                f"({len(reports)} window{'s' if len(reports) != 1 else ''})",
            )
        )
    if chosen is not None:
        rows.append(
            (
                "Window in detail",
                f"{_e(_fmt_ts(chosen['window_start']))} → "
                f"{_e(_fmt_ts(chosen.get('window_end')))}"
                + (
                    f" (computed {_e(_fmt_ts(chosen.get('computed_at')))})"
                    if chosen.get("computed_at")
                    else ""
                ),
            )
        )
    if monitor.get("prediction") or monitor.get("target"):
        rows.append(
            (
                "Prediction / target",
                f"<code>{_e(monitor.get('prediction') or '—')}</code> / "
                f"<code>{_e(monitor.get('target') or '—')}</code>",
            )
        )
    deg = _num(monitor.get("rmse_degradation"))
    if "rmse_degradation" in monitor:
        rows.append(
            (
                "RMSE alert",
                "off" if deg is None else f"RMSE more than {_fmt_pct(deg)} above the reference's",
            )
        )
    if monitor.get("options"):
        rows.append(
            ("Options", f"<code>{_e(json.dumps(monitor['options'], sort_keys=True))}</code>")
        )
    if monitor.get("enabled") is False:
        rows.append(("Enabled", "no"))
    if generated_at is not None:
        rows.append(("Page generated", _e(_fmt_ts(generated_at))))
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<header class="page"><h1>Drift monitor <span class="name">{_e(name)}</span></h1>'
        f'<dl class="meta">{meta}</dl>{nav}</header>'
    )


def _cards(chosen: dict, alerts: list[dict], monitor: dict) -> str:
    rep = chosen["report"]
    out = []
    if _rows(chosen) == 0:
        out.append('<div class="card"><div class="k">Window</div><div class="v">empty</div></div>')
    else:
        dd = bool(chosen.get("dataset_drift"))
        out.append(
            f'<div class="card {"bad" if dd else "ok"}" data-card="dataset-drift"><div class="k">Dataset drift</div>'
            f'<div class="v">{"DETECTED" if dd else "not detected"}</div></div>'
        )
        ncols = rep.get("number_of_columns")
        out.append(
            f'<div class="card{" bad" if dd else ""}"><div class="k">Drifted columns</div><div class="v">'
            f"{_fmt_int(chosen.get('number_of_drifted_columns'))} of {_fmt_int(ncols)}</div>"
            f'<div class="note">share {_fmt(chosen.get("share_of_drifted_columns"), 3)}, dataset drift at '
            f"≥ {_fmt(rep.get('drift_share'), 3)}</div></div>"
        )
        out.append(
            f'<div class="card"><div class="k">Rows</div><div class="v">{_fmt_int(_rows(chosen))}</div>'
            f'<div class="note">reference {_fmt_int(rep.get("reference_rows"))}</div></div>'
        )
        rmse, ref = _num(chosen.get("rmse")), _num(chosen.get("reference_rmse"))
        if rmse is not None:
            deg = _num(monitor.get("rmse_degradation"))
            bad = ref is not None and deg is not None and rmse > ref * (1 + deg)
            rel = f" ({100 * (rmse / ref - 1):+.1f}%)" if ref else ""
            out.append(
                f'<div class="card{" bad" if bad else ""}" data-card="rmse"><div class="k">RMSE</div>'
                f'<div class="v">{_fmt(rmse)}</div><div class="note">reference {_fmt(ref)}{rel}</div></div>'
            )
    n_alerts = sum(
        1
        for a in alerts
        if a["window_start"] and _same_instant(a["window_start"], chosen["window_start"])
    )
    out.append(
        f'<div class="card{" bad" if n_alerts else ""}"><div class="k">Alerts in this window</div>'
        f'<div class="v">{n_alerts}</div></div>'
    )
    return '<section class="cards" id="status">' + "".join(out) + "</section>"


def _summary_table(chosen: dict, names: list[str]) -> str:
    cols = chosen["report"].get("columns") or {}
    present = [n for n in names if n in cols]
    present.sort(key=lambda n: (not cols[n].get("drifted"), names.index(n)))
    rows = []
    for n in present:
        c = cols[n] if isinstance(cols[n], dict) else {}
        test = c.get("stattest") or ""
        tname = c.get("stattest_name") or test
        err = f'<div class="note">{_e(c["error"])}</div>' if c.get("error") else ""
        ctype = {"num": "numerical", "cat": "categorical"}.get(
            c.get("column_type"), c.get("column_type") or "—"
        )
        rows.append(
            f'<tr class="colrow{" drifted" if c.get("drifted") else ""}" data-column="{_e(n)}">'
            f'<td class="col">{_e(n)}</td><td>{_e(ctype)}</td>'
            f"<td>{_e(tname)}{f' <code>{_e(test)}</code>' if test and test != tname else ''}</td>"
            f'<td class="n">{_e(_fmt(c.get("score")))}</td><td class="n">{_e(_fmt(c.get("threshold")))}</td>'
            f"<td>{_e(_rule(c))}</td><td>{_badge(c)}{err}</td>"
            f'<td class="n">{_fmt_int(c.get("reference_rows"))} / {_fmt_int(c.get("current_rows"))}</td>'
            f'<td class="n">{_fmt_int(c.get("reference_missing"))} / {_fmt_int(c.get("current_missing"))}</td>'
            f'<td class="n">{_fmt_int(c.get("unique_values"))}</td></tr>'
        )
    head = (
        "<tr><th>Column</th><th>Type</th><th>Test</th><th>Score</th><th>Threshold</th><th>Drift when</th>"
        "<th>Verdict</th><th>Rows ref / cur</th><th>Missing ref / cur</th><th>Unique</th></tr>"
    )
    return f'<table class="summary" id="summary"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _regression_table(chosen: dict) -> str:
    reg = chosen["report"].get("regression") or {}
    cur, ref = reg.get("current") or {}, reg.get("reference") or {}
    if not cur and not ref:
        return ""
    rows = "".join(
        f'<tr><td>{label}</td><td class="n">{_fmt_int(cur.get(k)) if k == "rows" else _fmt(cur.get(k))}</td>'
        f'<td class="n">{_fmt_int(ref.get(k)) if k == "rows" else _fmt(ref.get(k))}</td></tr>'
        for k, label in REGRESSION_METRICS
        if k in cur or k in ref
    )
    pred, tgt = chosen["report"].get("prediction"), chosen["report"].get("target")
    what = f" of <code>{_e(pred)}</code> against <code>{_e(tgt)}</code>" if pred and tgt else ""
    return (
        f'<h2 id="regression-quality">Regression quality{what}</h2><table class="regression">'
        f"<thead><tr><th>Metric</th><th>Current window</th><th>Reference</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _histograms(chosen: dict, names: list[str]) -> str:
    cols = chosen["report"].get("columns") or {}
    figs, missing = [], []
    for n in names:
        c = cols.get(n)
        if not isinstance(c, dict):
            continue
        hist = c.get("histogram")
        svg = _histogram_chart(n, hist) if isinstance(hist, dict) else None
        if svg is None:
            missing.append(n)
            continue
        note = ""
        if hist.get("kind") == "categories" and hist.get("other"):
            note = "The least frequent categories are pooled into “other”."
        title = (
            f"{n} — {c.get('stattest_name') or c.get('stattest') or 'test'} {_fmt(c.get('score'))}"
            + (" (drift)" if c.get("drifted") else "")
        )
        figs.append(
            _figure(
                "histogram",
                title,
                _legend([("ref", "reference"), ("cur", "current window")]) + svg,
                column=n,
                note=note,
            )
        )
    out = ""
    if figs:
        out += '<div class="charts">' + "".join(figs) + "</div>"
    if missing:
        out += (
            '<p class="empty">No distribution stored for '
            + ", ".join(f"<code>{_e(n)}</code>" for n in missing)
            + ". Create the monitor with <code>options =&gt; '{\"histograms\": true}'</code> to store them.</p>"
        )
    return out


def _score_charts(time: _Time, reports: list[dict], names: list[str]) -> str:
    figs = []
    for n in names:
        cs = [(r["report"].get("columns") or {}).get(n) for r in reports]
        cs = [c if isinstance(c, dict) else None for c in cs]
        ys = [None if c is None else _num(c.get("score")) for c in cs]
        thr = [None if c is None else _num(c.get("threshold")) for c in cs]
        tests = {c.get("stattest") for c in cs if c is not None and c.get("stattest")}
        if all(v is None for v in ys):
            figs.append(
                _figure(
                    "drift-score",
                    f"{n}: drift score",
                    '<p class="empty">No score in any window.</p>',
                    column=n,
                )
            )
            continue
        tips = [
            f"{_fmt_ts(r['window_start'])}: {c.get('stattest_name') or c.get('stattest')} {_fmt(c.get('score'))}"
            f" (threshold {_fmt(c.get('threshold'))}){' — drift' if c.get('drifted') else ''}"
            if c is not None and _num(c.get("score")) is not None
            else ""
            for r, c in zip(reports, cs, strict=True)
        ]
        flags = [bool(c and c.get("drifted")) for c in cs]
        known = [t for t in thr if t is not None]
        series = [{"name": "score", "cls": "score", "ys": ys, "flags": flags, "tips": tips}]
        hlines = []
        if known and max(known) == min(known):
            hlines.append({"y": known[0], "cls": "thr", "tip": f"threshold {_fmt(known[0])}"})
        elif known:
            series.append({"name": "threshold", "cls": "thr", "ys": thr, "markers": False})
        kinds = {c.get("score_is_p_value") for c in cs if c is not None and c.get("stattest")}
        pvalue = kinds == {True}
        label = ", ".join(sorted(tests))
        rule = (
            "drift when the p-value falls below the threshold"
            if pvalue
            else (
                "drift when the score reaches the threshold"
                if kinds == {False}
                else "the test changed between windows"
            )
        )
        svg = _time_chart(
            time,
            series,
            hlines=hlines,
            y_domain=(0.0, 1.0) if pvalue else None,
            label=f"drift score of {n} over time",
        )
        figs.append(
            _figure(
                "drift-score",
                f"{n}: drift score ({label})",
                _legend([("score", "score"), ("thr", "threshold"), ("bad", "drift")]) + svg,
                column=n,
                note=_e(rule[0].upper() + rule[1:] + "."),
            )
        )
    return '<div class="charts">' + "".join(figs) + "</div>"


def _dataset_charts(time: _Time, reports: list[dict], monitor: dict) -> str:
    figs = []
    share = [None if _rows(r) == 0 else _num(r.get("share_of_drifted_columns")) for r in reports]
    drift_shares = [_num(r["report"].get("drift_share")) for r in reports if _rows(r)]
    ds = (
        drift_shares[-1]
        if drift_shares
        else _num((monitor.get("options") or {}).get("drift_share"))
    )
    ds = 0.5 if ds is None else ds
    tips = [
        f"{_fmt_ts(r['window_start'])}: {_fmt_int(r.get('number_of_drifted_columns'))} of "
        f"{_fmt_int(r['report'].get('number_of_columns'))} columns drifted (share {_fmt(s, 3)})"
        f"{' — dataset drift' if r.get('dataset_drift') else ''}"
        for r, s in zip(reports, share, strict=True)
    ]
    svg = _time_chart(
        time,
        [
            {
                "name": "share",
                "cls": "share",
                "ys": share,
                "flags": [bool(r.get("dataset_drift")) for r in reports],
                "tips": tips,
            }
        ],
        hlines=[{"y": ds, "cls": "thr", "tip": f"dataset drift at share ≥ {_fmt(ds, 3)}"}],
        y_domain=(0.0, 1.0),
        y_fmt=lambda v: f"{100 * v:.0f}%",
        label="share of drifted columns",
    )
    figs.append(
        _figure(
            "drift-share",
            "Share of drifted columns",
            _legend(
                [
                    ("score", "share of drifted columns"),
                    ("thr", "dataset drift threshold"),
                    ("bad", "dataset drift"),
                ]
            )
            + svg,
        )
    )

    rmse = [_num(r.get("rmse")) for r in reports]
    if any(v is not None for v in rmse):
        ref = [_num(r.get("reference_rmse")) for r in reports]
        deg = _num(monitor.get("rmse_degradation"))
        limit = [None if (v is None or deg is None) else v * (1 + deg) for v in ref]
        flags = [
            a is not None and b is not None and a > b for a, b in zip(rmse, limit, strict=True)
        ]
        tips = [
            f"{_fmt_ts(r['window_start'])}: RMSE {_fmt(a)}, reference {_fmt(b)}"
            + (f", alert above {_fmt(c)}" if c is not None else "")
            for r, a, b, c in zip(reports, rmse, ref, limit, strict=True)
        ]
        series = [{"name": "rmse", "cls": "rmse", "ys": rmse, "flags": flags, "tips": tips}]
        hlines = []
        known_ref = [v for v in ref if v is not None]
        const = known_ref and max(known_ref) == min(known_ref)
        if const:
            hlines.append(
                {"y": known_ref[0], "cls": "refrmse", "tip": f"reference RMSE {_fmt(known_ref[0])}"}
            )
            if deg is not None:
                hlines.append(
                    {
                        "y": known_ref[0] * (1 + deg),
                        "cls": "thr",
                        "tip": f"alert above {_fmt(known_ref[0] * (1 + deg))} "
                        f"(reference + {_fmt_pct(deg)})",
                    }
                )
        elif known_ref:
            series.append({"name": "reference", "cls": "refrmse", "ys": ref, "markers": False})
            if deg is not None:
                series.append({"name": "threshold", "cls": "thr", "ys": limit, "markers": False})
        keys = [("score", "RMSE of the window"), ("refline", "reference RMSE")]
        if deg is not None:
            keys.append(("thr", f"alert threshold (+{_fmt_pct(deg)})"))
        keys.append(("bad", "RMSE alert"))
        svg = _time_chart(time, series, hlines=hlines, label="RMSE over time", zero=False)
        figs.append(_figure("rmse", "RMSE over time", _legend(keys) + svg))
    else:
        figs.append(
            _figure(
                "rmse",
                "RMSE over time",
                '<p class="empty">No RMSE: the monitor has no prediction and target columns.</p>',
            )
        )

    counts = [_rows(r) for r in reports]
    tips = [
        f"{_fmt_ts(r['window_start'])}: {_fmt_int(n)} rows"
        for r, n in zip(reports, counts, strict=True)
    ]
    figs.append(
        _figure(
            "rows",
            "Rows per window",
            _bars_chart(
                time, [float(n) for n in counts], tips, label="rows per window", cls="rows"
            ),
        )
    )
    return '<div class="charts">' + "".join(figs) + "</div>"


def _alerts_table(alerts: list[dict], chosen: dict | None) -> str:
    if not alerts:
        return '<p class="empty" id="alerts">No alert in the windows shown.</p>'
    rows = []
    for a in alerts:
        kind = a.get("kind") or ""
        cls = {"dataset_drift": "drift", "rmse": "rmse"}.get(kind, "err")
        mine = (
            chosen is not None
            and a["window_start"]
            and _same_instant(a["window_start"], chosen["window_start"])
        )
        details = a.get("details")
        details = json.dumps(details, sort_keys=True, default=str) if details else ""
        rows.append(
            f'<tr class="alert{" current" if mine else ""}"><td class="n">{_e(_fmt_ts(a.get("raised_at")))}</td>'
            f'<td class="n">{_e(_fmt_ts(a.get("window_start")))}</td>'
            f'<td class="kind"><span class="badge {cls}">{_e(kind)}</span></td>'
            f'<td class="msg">{_e(a.get("message"))}</td><td><code>{_e(details)}</code></td></tr>'
        )
    return (
        '<table class="alerts" id="alerts"><thead><tr><th>Raised</th><th>Window</th><th>Kind</th>'
        f"<th>Message</th><th>Details</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _windows_table(reports: list[dict]) -> str:
    rows = []
    for r in reversed(reports):
        n = _rows(r)
        drift = (
            "—"
            if n == 0
            else ('<span class="badge drift">yes</span>' if r.get("dataset_drift") else "no")
        )
        rows.append(
            f'<tr><td class="n">{_e(_fmt_ts(r["window_start"]))}</td>'
            f'<td class="n">{_e(_fmt_ts(r.get("window_end")))}</td><td class="n">{_fmt_int(n)}</td><td>{drift}</td>'
            f'<td class="n">{_fmt_int(r.get("number_of_drifted_columns")) if n else "—"}</td>'
            f'<td class="n">{_fmt(r.get("share_of_drifted_columns"), 3) if n else "—"}</td>'
            f'<td class="n">{_fmt(r.get("rmse"))}</td><td class="n">{_fmt(r.get("reference_rmse"))}</td></tr>'
        )
    return (
        '<details><summary>Every window (newest first)</summary><table class="windows"><thead><tr>'
        "<th>Start</th><th>End</th><th>Rows</th><th>Dataset drift</th><th>Drifted columns</th><th>Share</th>"
        f"<th>RMSE</th><th>Reference RMSE</th></tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def _choose(reports: list[dict], window_start) -> tuple[dict | None, str]:
    if not reports:
        return None, ""
    if window_start is not None:
        want = _ts(window_start)
        for r in reports:
            if _same_instant(r["window_start"], want):
                return r, ""
        raise ValueError(
            f"no report for the window starting at {_fmt_ts(want)} (windows shown: "
            f"{_fmt_ts(reports[0]['window_start'])} to {_fmt_ts(reports[-1]['window_start'])})"
        )
    latest = reports[-1]
    if _rows(latest):
        return latest, ""
    for r in reversed(reports):
        if _rows(r):
            return r, (
                f"The latest window ({_e(_fmt_ts(latest['window_start']))}) is empty: "
                f"details below are those of the latest window with rows."
            )
    return latest, ""


def render_html(
    reports: list[dict], alerts: list[dict], monitor: dict, *, window_start=None, generated_at=None
) -> str:
    """The page of one monitor, as a self-contained HTML string (pure: same input, same page).

    ``reports``: rows of monitor_reports (dicts; ``report`` as a dict or JSON text; timestamps as
    datetimes or ISO strings); ``alerts``: rows of monitor_alerts; ``monitor``: the monitors row
    (only ``name`` is needed). ``window_start`` picks the window shown in detail (default: the
    latest window with rows); ValueError when no report has it. ``generated_at`` is printed in the
    header when given."""
    reports, alerts, monitor = _normalise(reports, alerts, monitor)
    chosen, fallback_note = _choose(reports, window_start)
    name = monitor.get("name") or (reports[0].get("monitor") if reports else "") or ""
    parts = [_header(monitor, reports, chosen, generated_at, _nav(chosen, len(alerts)))]
    if chosen is None:
        parts.append(
            '<p class="empty" id="no-reports">No report stored for this monitor yet: run it with '
            "<code>taxi-duration monitor</code> or <code>taxi_duration.run_monitors()</code>.</p>"
        )
    else:
        names = _column_names(reports, monitor)
        when = f"{_e(_fmt_ts(chosen['window_start']))} → {_e(_fmt_ts(chosen.get('window_end')))}"
        parts.append(f'<h2 id="window">Window {when}</h2>')
        if fallback_note:
            parts.append(f'<p class="note" id="fallback">{fallback_note}</p>')
        parts.append(_cards(chosen, alerts, monitor))
        if _rows(chosen) == 0:
            parts.append('<p class="empty">This window has no row: nothing was compared.</p>')
        else:
            parts.append(f'<h2 id="drift-summary">Column drift</h2>{_summary_table(chosen, names)}')
            parts.append(
                f'<h2 id="distributions">Reference and current distributions</h2>{_histograms(chosen, names)}'
            )
            parts.append(_regression_table(chosen))
        time = _Time(reports)
        parts.append(
            f'<h2 id="over-time">Dataset drift and model quality over time</h2>'
            f"{_dataset_charts(time, reports, monitor)}"
        )
        parts.append(
            f'<h2 id="scores">Drift score per column over time</h2>{_score_charts(time, reports, names)}'
        )
        parts.append(_windows_table(reports))
    parts.append(
        f'<h2 id="alerts-title">Alerts ({len(alerts)})</h2>{_alerts_table(alerts, chosen)}'
    )
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Drift monitor {_e(name)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>\n"
    )


def write_html(path, html: str) -> str:
    from pathlib import Path

    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html, encoding="utf-8")
    return str(p)
