"""The dashboard drawn locally: one self-contained HTML page, a chart for each panel with data in the window and
"no data in this window" for the others, read from the local AWS's CloudWatch on the simulated clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fraud_core.dashboard_spec import dashboard_panels
from fraud_core.monitoring import DRIFT_METRIC, NAMESPACE
from local_aws.clock import SimulatedClock
from local_aws.runtime import local_aws
from mlops_demo.dashboard import EMPTY, read_chart, render_dashboard

START = datetime(2026, 3, 12, tzinfo=UTC)
ENDPOINT = [{"Name": "EndpointName", "Value": "mlops-demo-sandbox-fraud"}]
VARIANT = [*ENDPOINT, {"Name": "VariantName", "Value": "primary"}]


def test_panels_with_data_are_charts_and_the_others_say_so(tmp_path: Path) -> None:
    with local_aws(clock=SimulatedClock(start=START)) as aws:
        cloudwatch = aws.client("cloudwatch")
        at = START + timedelta(minutes=10)
        cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
            *({"MetricName": "ModelLatency", "Dimensions": VARIANT, "Value": float(v), "Timestamp": at}
              for v in range(1, 101)),
            {"MetricName": "Invocations", "Dimensions": VARIANT, "Value": 100.0, "Timestamp": at}])
        verdicts = [START + timedelta(hours=h) for h in (1, 2)]
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=[
            *({"MetricName": "FeaturePSI", "Dimensions": [*ENDPOINT, {"Name": "Feature", "Value": "amount"}],
               "Value": 0.31, "Timestamp": t} for t in verdicts),
            {"MetricName": DRIFT_METRIC, "Dimensions": ENDPOINT, "Value": 1.0, "Timestamp": verdicts[-1]}])
        page = render_dashboard(aws, "sandbox", tmp_path / "out" / "dashboard.html", START,
                                START + timedelta(hours=3))
        endpoint = read_chart(aws, dashboard_panels("sandbox", aws.account_id, aws.region, "aws")[2], START,
                              START + timedelta(hours=1))

    # Sum through GetMetricData, p99 from the stored datapoints: both in the period the data was put in (UTC).
    assert endpoint.series == [[(at, 100.0)], [], [(at, 99.0)]]

    text = page.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="panel"><h2>(.*?) <small>.*?</section>', text, re.S)
    assert sections == [p.title for p in dashboard_panels("sandbox", "1", "r", "aws")]
    charted = {title for title, body in re.findall(r'<section class="panel"><h2>(.*?) <small>(.*?)</section>',
                                                   text, re.S) if "<svg" in body}
    assert charted == {"Endpoint", "Drift"}
    assert text.count("<svg") == 2 and text.count(EMPTY) == 4
    assert "p99 model latency (microseconds) <span class=\"note\">(p99, right axis; latest 99)" in text
    assert "no AWS/Kinesis metrics stored locally at all" in text
    assert "simulated-clock" in text and "2026-03-12 00:00 to 2026-03-12 03:00 UTC" in text
    assert "<script" not in text and re.findall(r"https?://[^\"']+", text) == ["http://www.w3.org/2000/svg"] * 2
