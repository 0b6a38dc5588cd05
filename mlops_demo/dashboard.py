"""The overview dashboard rendered locally: one self-contained HTML page of inline SVG charts, no JS, no network.

The panels are fraud_core.dashboard_spec's, the ones the CloudWatch dashboard is built from
(stacks/constructs/dashboard.py); the data is the local AWS's CloudWatch over [start, end) of the simulated
clock. Reading it:

- GetMetricData (boto3, as against AWS) for Sum, Average, Minimum, Maximum and SampleCount. moto 5.2.5
  ignores a query's namespace once it has dimensions; no metric stored locally shares its name and
  dimensions with one of another namespace (each service names its own dimensions), so the answers hold.
- Percentiles (the endpoint's p99 latency): moto 5.2.5's GetMetricData fails on them (TypeError) and
  GetMetricStatistics returns empty datapoints, so they are computed from the datapoints the local AWS
  stores, with the statistics its alarms use (local_aws.cloudwatch.evaluation: exact nearest rank, where
  CloudWatch approximates).
- What exists locally: AWS/Kinesis IncomingRecords (moto's Kinesis, per put), AWS/Lambda (the local event
  source mappings), AWS/SageMaker (the local endpoints) and the project's own, all on the simulated clock.
  Nothing publishes AWS/SQS or AWS/States metrics locally: a panel left empty says "no data in this window"
  and names the namespaces that hold nothing at all.

A window longer than MAX_POINTS periods is drawn with a coarser period (a multiple of the panel's).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from fraud_core.dashboard_spec import Panel, PanelMetric, dashboard_name, dashboard_panels
from local_aws.cloudwatch.alarms import to_datum
from local_aws.cloudwatch.evaluation import STATISTICS, Datum, MetricRef, aggregate

PARTITION = "aws"  # the local AWS's
MAX_POINTS = 120
MAX_DOTS = 30
TICK_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)  # seconds
EMPTY = "no data in this window"
PROVENANCE = "simulated-clock"
WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 10, 34  # plot margins, px
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a")

Point = tuple[datetime, float]


@dataclass
class Chart:
    panel: Panel
    period: int  # seconds per point as drawn
    first: datetime  # the first period's start (aligned to the period, at or before the window's start)
    series: list[list[Point]]  # per panel metric, oldest first


def render_dashboard(aws: Any, profile: str, path: Path, start: datetime, end: datetime) -> Path:
    """Write the overview of [start, end) (simulated clock, UTC) as one HTML file; its path."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    charts = [read_chart(aws, panel, start, end) for panel in dashboard_panels(profile, aws.account_id,
                                                                                aws.region, PARTITION)]
    silent = {m.namespace for c in charts for m in c.panel.metrics} - {md.namespace for md in _stored(aws)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(dashboard_name(profile), charts, start, end, silent), encoding="utf-8")
    return path


# --- reading ------------------------------------------------------------------------------------------------
def read_chart(aws: Any, panel: Panel, start: datetime, end: datetime) -> Chart:
    period = render_period(panel.period, start, end)
    first = datetime.fromtimestamp(start.timestamp() // period * period, UTC)
    by_api = {f"m{i}": m for i, m in enumerate(panel.metrics) if m.statistic in STATISTICS}
    got = get_metric_data(aws.client("cloudwatch"), by_api, first, end, period) if by_api else {}
    series = [got.get(f"m{i}", []) if m.statistic in STATISTICS else stored_series(aws, m, first, end, period)
              for i, m in enumerate(panel.metrics)]
    return Chart(panel, period, first, series)


def render_period(period: int, start: datetime, end: datetime) -> int:
    """The panel's period, or the smallest multiple of it that draws the window in at most MAX_POINTS points."""
    return max(1, math.ceil((end - start).total_seconds() / MAX_POINTS / period)) * period


def get_metric_data(cloudwatch: Any, metrics: dict[str, PanelMetric], first: datetime, end: datetime,
                    period: int) -> dict[str, list[Point]]:
    queries = [{"Id": qid, "Label": m.label, "MetricStat": {
        "Metric": {"Namespace": m.namespace, "MetricName": m.name,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions.items()]},
        "Period": period, "Stat": m.statistic}} for qid, m in metrics.items()]
    # At most MAX_POINTS points per query and a few queries per panel: one page, no NextToken.
    response = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=first, EndTime=end,
                                          ScanBy="TimestampAscending")
    return {r["Id"]: sorted(zip([t.astimezone(UTC) for t in r["Timestamps"]], r["Values"], strict=True))
            for r in response["MetricDataResults"]}


def stored_series(aws: Any, metric: PanelMetric, first: datetime, end: datetime, period: int) -> list[Point]:
    """One metric's points from the datapoints the local AWS stores (statistics moto cannot compute)."""
    ref = MetricRef("m", metric.namespace, metric.name, tuple(sorted(metric.dimensions.items())),
                    metric.statistic, period)
    slots: dict[int, list[Datum]] = {}
    for md in _stored(aws):
        if md.name == metric.name and md.namespace == metric.namespace:
            datum = to_datum(md)
            if ref.matches(datum) and first <= datum.timestamp < end:
                slots.setdefault(int((datum.timestamp - first).total_seconds()) // period, []).append(datum)
    points = [(first + timedelta(seconds=slot * period), aggregate(slots[slot], metric.statistic)[0])
              for slot in sorted(slots)]
    return [(t, v) for t, v in points if v is not None]


def _stored(aws: Any) -> list[Any]:
    return list(cloudwatch_backends[aws.account_id][aws.region].metric_data)


# --- drawing ------------------------------------------------------------------------------------------------
def page(title: str, charts: Sequence[Chart], start: datetime, end: datetime, silent: set[str]) -> str:
    window = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC [{PROVENANCE}]"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #222; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax({WIDTH}px, 1fr)); gap: 16px; }}
.panel {{ border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }}
h2 {{ font-size: 15px; margin: 4px 0; }} h2 small, .note {{ color: #777; font-weight: normal; }}
.empty {{ height: {HEIGHT - 40}px; display: flex; align-items: center; justify-content: center; color: #777; }}
.legend {{ list-style: none; padding: 0; margin: 4px 0; font-size: 12px; columns: 2; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
svg text {{ font-size: 11px; fill: #555; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>The CloudWatch dashboard's panels, drawn from the local AWS's metrics: {html.escape(window)}.</p>
<div class="grid">
{"".join(panel_html(c, end, silent) for c in charts)}</div>
</body></html>
"""


def panel_html(chart: Chart, end: datetime, silent: set[str]) -> str:
    panel = chart.panel
    head = f"<h2>{html.escape(panel.title)} <small>one point per {chart.period} s</small></h2>"
    if any(chart.series):
        body = svg(chart, end)
    else:
        absent = sorted({m.namespace for m in panel.metrics} & silent)
        why = f" (no {', '.join(absent)} metrics stored locally at all)" if absent else ""
        body = f'<p class="empty">{EMPTY}{html.escape(why)}</p>'
    return f'<section class="panel">{head}{body}{legend(chart)}</section>\n'


def legend(chart: Chart) -> str:
    items = []
    for i, (metric, points) in enumerate(zip(chart.panel.metrics, chart.series, strict=True)):
        latest = f"latest {_number(points[-1][1])}" if points else "no data"
        side = ", right axis" if metric.right_axis else ""
        items.append(f'<li><span class="swatch" style="background:{_color(i)}"></span>{html.escape(metric.label)} '
                     f'<span class="note">({metric.statistic}{side}; {latest})</span></li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def svg(chart: Chart, end: datetime) -> str:
    x0, span = chart.first, max((end - chart.first).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    metrics = chart.panel.metrics
    tops = {side: nice_ceiling(max((v for m, points in zip(metrics, chart.series, strict=True)
                                    if m.right_axis == side for _, v in points), default=0.0))
            for side in (False, True)}  # each axis scaled to its own metrics

    def x(t: datetime) -> float:
        return LEFT + plot_w * (t - x0).total_seconds() / span

    def y(v: float, right: bool) -> float:
        return TOP + plot_h * (1 - v / tops[right])

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%">']
    parts += _axes(tops, any(m.right_axis and s for m, s in zip(metrics, chart.series, strict=True)), x0, span)
    for i, (metric, points) in enumerate(zip(metrics, chart.series, strict=True)):
        coords = [(x(t), y(v, metric.right_axis)) for t, v in points]
        dash = ' stroke-dasharray="5 3"' if metric.right_axis else ""
        if len(coords) > 1:
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{_color(i)}" stroke-width="1.5"{dash}/>')
        if len(coords) <= MAX_DOTS:  # sparse series (one verdict an hour) need their points marked
            parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.2" fill="{_color(i)}"/>' for a, b in coords]
    parts.append("</svg>")
    return "".join(parts)


def _axes(tops: dict[bool, float], right: bool, x0: datetime, span: float) -> list[str]:
    """Grid lines with the left (and right) axis values, time ticks, and the time axis's caption."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = []
    for i in range(5):
        gy = TOP + plot_h * (1 - i / 4)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 4}" y="{gy + 4:.1f}" text-anchor="end">{_number(tops[False] * i / 4)}</text>')
        if right:
            out.append(f'<text x="{WIDTH - RIGHT + 4}" y="{gy + 4:.1f}">{_number(tops[True] * i / 4)}</text>')
    fmt = "%H:%M" if span <= 86400 else "%m-%d %H:%M"
    for offset in time_ticks(x0, span):
        tx, moment = LEFT + plot_w * offset / span, x0 + timedelta(seconds=offset)
        out.append(f'<text x="{tx:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{moment:{fmt}}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
               f"time, UTC [{PROVENANCE}]</text>")
    return out


def time_ticks(x0: datetime, span: float) -> list[float]:
    """Seconds after x0 of at most 6 ticks on round times (every 5 min, 15 min, 1 h, ... of UTC)."""
    step = next((s for s in TICK_STEPS if span / s <= 6), TICK_STEPS[-1] * math.ceil(span / TICK_STEPS[-1] / 6))
    first = math.ceil(x0.timestamp() / step) * step - x0.timestamp()
    return [first + i * step for i in range(int((span - first) // step) + 1)]


def nice_ceiling(value: float) -> float:
    """The axis top: the first of 1, 2, 2.5, 5, 10 x 10^k at or above the largest value (1 for none)."""
    if value <= 0:
        return 1.0
    unit = 10 ** math.floor(math.log10(value))
    return next(m * unit for m in (1, 2, 2.5, 5, 10) if m * unit >= value * (1 - 1e-12))


def _number(value: float) -> str:
    """Axis labels: 0.25, 15, 15k, 2.5M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]
