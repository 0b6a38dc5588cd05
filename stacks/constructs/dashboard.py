"""The overview dashboard in CloudWatch, built from the panel specs of fraud_core.dashboard_spec.

One graph per panel, two panels to a row; metrics flagged
`right_axis` go on the right y axis, so a latency in microseconds does not flatten the counts beside it.
mlops_demo/dashboard.py renders the same specs locally.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from fraud_core.dashboard_spec import Panel, PanelMetric, dashboard_name

GRID_WIDTH = 24  # the console's dashboard grid
PANEL_WIDTH = 12
PANEL_HEIGHT = 6


class MonitoringDashboard(Construct):
    """`dashboard`: the CloudWatch dashboard `mlops-demo-<profile>-overview`, one graph per panel."""

    def __init__(self, scope: Construct, construct_id: str, *, profile: str, panels: Sequence[Panel]) -> None:
        super().__init__(scope, construct_id)
        graphs = [graph(p) for p in panels]
        per_row = GRID_WIDTH // PANEL_WIDTH
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name(profile),
                                      widgets=[graphs[i:i + per_row] for i in range(0, len(graphs), per_row)])

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard_name


def graph(panel: Panel) -> cw.GraphWidget:
    period = Duration.seconds(panel.period)
    return cw.GraphWidget(title=panel.title, width=PANEL_WIDTH, height=PANEL_HEIGHT,
                          left=[metric(m, period) for m in panel.metrics if not m.right_axis],
                          right=[metric(m, period) for m in panel.metrics if m.right_axis])


def metric(spec: PanelMetric, period: Duration) -> cw.Metric:
    return cw.Metric(namespace=spec.namespace, metric_name=spec.name, dimensions_map=spec.dimensions,
                     statistic=spec.statistic, label=spec.label, period=period)
