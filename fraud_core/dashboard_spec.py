"""The overview dashboard as plain data: one spec drives the CloudWatch dashboard (stacks/constructs/dashboard.py)
and its local rendering (mlops_demo/dashboard.py), so the two show the same metrics by construction.

A panel is a title, a period and its metrics (namespace, name, dimensions, statistic, label, axis). Names
follow stacks/naming.py; fraud_core cannot import stacks (it is bundled into Lambdas and jobs without it), so
tests/core/test_dashboard_spec.py checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fraud_core.drift_report import CALENDAR_FEATURES
from fraud_core.features import FEATURE_NAMES
from fraud_core.monitoring import DATA_QUALITY_METRIC, DRIFT_METRIC, NAMESPACE, QUALITY_METRICS

PROJECT: Final = "mlops-demo"
VARIANT: Final = "primary"  # the endpoint's one production variant (stacks/deploy_workflow.py, ServingNames)
TRAFFIC_PERIOD: Final = 300  # seconds: streams, functions and the endpoint report continuously
VERDICT_PERIOD: Final = 3600  # the drift monitor publishes once an hour, the quality monitor once a day
QUALITY_LABELS: Final = {"recall": "recall", "precision": "precision", "pr_auc": "PR-AUC"}
# Name suffixes of the state machines whose runs are plotted (every one a failed-run alarm watches).
STATE_MACHINES: Final = ("training", "deploy", "drift-monitor", "quality-monitor")


@dataclass(frozen=True)
class PanelMetric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    statistic: str  # Sum, Average, Maximum, ... or a percentile such as p99
    label: str
    right_axis: bool = False  # another unit than the panel's other metrics (latency next to counts)


@dataclass(frozen=True)
class Panel:
    title: str
    metrics: tuple[PanelMetric, ...]
    period: int = TRAFFIC_PERIOD


def resource_name(profile: str, suffix: str) -> str:
    return f"{PROJECT}-{profile}-{suffix}"


def dashboard_name(profile: str) -> str:
    return resource_name(profile, "overview")


def drift_features() -> tuple[str, ...]:
    """The features the drift panel plots: calendar features follow the clock, not the traffic, so never drift."""
    return tuple(f for f in FEATURE_NAMES if f not in CALENDAR_FEATURES)


def dashboard_panels(profile: str, account: str, region: str, partition: str) -> list[Panel]:
    """The overview's panels, in reading order (account/region/partition may be CloudFormation tokens)."""
    endpoint = {"EndpointName": resource_name(profile, "fraud")}
    variant = {**endpoint, "VariantName": VARIANT}
    scorer = {"FunctionName": resource_name(profile, "scorer")}
    return [
        Panel("Ingest", (PanelMetric("AWS/Kinesis", "IncomingRecords",
                                     {"StreamName": resource_name(profile, "transactions")}, "Sum",
                                     "records put on the transactions stream"),)),
        Panel("Scoring", (
            PanelMetric("AWS/Lambda", "Invocations", scorer, "Sum", "scorer invocations"),
            PanelMetric("AWS/Lambda", "Errors", scorer, "Sum", "scorer errors"),
            PanelMetric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": resource_name(profile, "scoring-invalid-records")}, "Maximum",
                        "dead-lettered records waiting"))),
        Panel("Endpoint", (
            PanelMetric("AWS/SageMaker", "Invocations", variant, "Sum", "invocations"),
            PanelMetric("AWS/SageMaker", "Invocation5XXErrors", variant, "Sum", "5xx errors"),
            PanelMetric("AWS/SageMaker", "ModelLatency", variant, "p99", "p99 model latency (microseconds)",
                        right_axis=True))),
        Panel("Drift", (
            *(PanelMetric(NAMESPACE, "FeaturePSI", {**endpoint, "Feature": f}, "Maximum", f"PSI {f}")
              for f in drift_features()),
            PanelMetric(NAMESPACE, DRIFT_METRIC, endpoint, "Maximum", "drift detected (0/1)", right_axis=True),
            PanelMetric(NAMESPACE, DATA_QUALITY_METRIC, endpoint, "Maximum", "data-quality violations",
                        right_axis=True)),
              period=VERDICT_PERIOD),
        Panel("Model quality", tuple(PanelMetric(NAMESPACE, name, endpoint, "Average", QUALITY_LABELS[key])
                                     for name, key in QUALITY_METRICS),
              period=VERDICT_PERIOD),
        Panel("Pipeline runs", tuple(
            PanelMetric("AWS/States", metric, {"StateMachineArn": _state_machine_arn(
                resource_name(profile, machine), account, region, partition)}, "Sum", f"{machine} {outcome}")
            for machine in STATE_MACHINES
            for metric, outcome in (("ExecutionsSucceeded", "succeeded"), ("ExecutionsFailed", "failed")))),
    ]


def _state_machine_arn(name: str, account: str, region: str, partition: str) -> str:
    return f"arn:{partition}:states:{region}:{account}:stateMachine:{name}"
