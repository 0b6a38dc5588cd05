"""The dashboard's panel specs: every panel plots something, drift covers every traffic feature, and every
resource named is the one the stacks create (fraud_core cannot import stacks.naming, so this checks it)."""

from __future__ import annotations

import pytest

from fraud_core.dashboard_spec import STATE_MACHINES, Panel, dashboard_name, dashboard_panels, drift_features
from fraud_core.drift_report import CALENDAR_FEATURES
from fraud_core.features import FEATURE_NAMES
from fraud_core.monitoring import DATA_QUALITY_METRIC, DRIFT_METRIC, NAMESPACE
from stacks.deploy_workflow import ServingNames
from stacks.naming import arn, resource_name

PROFILE, ACCOUNT, REGION, PARTITION = "sandbox", "123456789012", "eu-west-1", "aws"


@pytest.fixture
def panels() -> dict[str, Panel]:
    return {p.title: p for p in dashboard_panels(PROFILE, ACCOUNT, REGION, PARTITION)}


def dimension_values(panel: Panel, name: str) -> set[str]:
    return {m.dimensions[name] for m in panel.metrics if name in m.dimensions}


def test_every_panel_plots_metrics_with_a_label_and_a_whole_minute_period(panels: dict[str, Panel]) -> None:
    assert list(panels) == ["Ingest", "Scoring", "Endpoint", "Drift", "Model quality", "Pipeline runs"]
    for panel in panels.values():
        assert panel.metrics, panel.title
        assert panel.period % 60 == 0
        assert all(m.label and m.statistic and m.dimensions for m in panel.metrics), panel.title


def test_drift_plots_psi_of_every_traffic_feature_and_the_verdict(panels: dict[str, Panel]) -> None:
    drift = panels["Drift"]
    plotted = {m.dimensions["Feature"] for m in drift.metrics if m.name == "FeaturePSI"}
    assert plotted == set(FEATURE_NAMES) - set(CALENDAR_FEATURES) == set(drift_features())
    assert {m.name for m in drift.metrics} == {"FeaturePSI", DRIFT_METRIC, DATA_QUALITY_METRIC}
    assert {m.namespace for m in drift.metrics} == {NAMESPACE}
    assert {m.name for m in panels["Model quality"].metrics} == {"ModelRecall", "ModelPrecision", "ModelPRAUC"}


def test_names_are_those_of_the_stacks(panels: dict[str, Panel]) -> None:
    serving = ServingNames(PROFILE, model_package_group="unused")
    assert dashboard_name(PROFILE) == resource_name(PROFILE, "overview")
    assert dimension_values(panels["Ingest"], "StreamName") == {resource_name(PROFILE, "transactions")}
    assert dimension_values(panels["Scoring"], "FunctionName") == {resource_name(PROFILE, "scorer")}
    assert dimension_values(panels["Scoring"], "QueueName") == {resource_name(PROFILE, "scoring-invalid-records")}
    assert dimension_values(panels["Endpoint"], "VariantName") == {serving.variant}
    for title in ("Endpoint", "Drift", "Model quality"):
        assert dimension_values(panels[title], "EndpointName") == {serving.endpoint}, title
    # Which machines: tests/stacks/test_dashboard.py checks they are those the failed-run alarms watch.
    assert {"training", "deploy", "drift-monitor"} <= set(STATE_MACHINES)
    assert resource_name(PROFILE, "deploy") == serving.state_machine
    assert dimension_values(panels["Pipeline runs"], "StateMachineArn") == {
        arn("states", f"stateMachine:{resource_name(PROFILE, suffix)}", partition=PARTITION, region=REGION,
            account=ACCOUNT) for suffix in STATE_MACHINES}
