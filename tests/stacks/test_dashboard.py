"""The overview dashboard as CloudFormation will create it: one per profile, named for the profile, one graph
per panel spec with exactly the spec's metrics, and pipeline runs on the ARNs the failed-run alarms watch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fraud_core.dashboard_spec import dashboard_name, dashboard_panels

PROFILES = ("sandbox", "prod")
STACK = "Monitoring"
TOKENS = ("${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}")


def flatten(value: Any) -> str:
    """A string property with its pseudo-parameter references as ${Name} (Fn::Join and Ref only)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flatten(p) for p in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    raise AssertionError(f"unexpected intrinsic in a dashboard or alarm: {value}")


def state_machine_arn(template: dict, value: Any) -> str:
    """An alarm's StateMachineArn dimension as an ARN string (a Ref to a state machine of this stack is its ARN)."""
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in template["Resources"]:
        name = template["Resources"][value["Ref"]]["Properties"]["StateMachineName"]
        return "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + name
    return flatten(value)


def only_dashboard(template: dict) -> dict[str, Any]:
    found = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert len(found) == 1, found
    return found[0]["Properties"]


def widget_metrics(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str], str, str, bool]]:
    """(namespace, name, dimensions, stat, label, right axis) per line of a graph widget."""
    out = []
    for line in widget["properties"]["metrics"]:
        *identity, options = line
        namespace, name, *pairs = identity
        dims = dict(zip(pairs[::2], pairs[1::2], strict=True))
        stat = options.get("stat", "Average")  # CDK leaves out the dashboard's default statistic
        out.append((namespace, name, dims, stat, options["label"], options.get("yAxis") == "right"))
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_the_monitoring_stack_has_the_dashboard_of_the_panel_specs(templates: dict[str, dict[str, dict]],
                                                                    profile: str) -> None:
    template = templates[profile][STACK]
    props = only_dashboard(template)
    assert props["DashboardName"] == dashboard_name(profile)
    body = json.loads(flatten(props["DashboardBody"]))
    panels = dashboard_panels(profile, *TOKENS)
    assert [w["properties"]["title"] for w in body["widgets"]] == [p.title for p in panels]
    for widget, panel in zip(body["widgets"], panels, strict=True):
        expected = [(m.namespace, m.name, m.dimensions, m.statistic, m.label, m.right_axis) for m in panel.metrics]
        assert sorted(widget_metrics(widget), key=str) == sorted(expected, key=str), panel.title
        assert widget["width"] == 12 and widget["x"] in (0, 12)
    outputs = template["Outputs"]
    assert outputs["DashboardName"]["Value"]["Ref"] in template["Resources"]


@pytest.mark.parametrize("profile", PROFILES)
def test_pipeline_runs_are_plotted_for_the_state_machines_whose_failures_alarm(
        templates: dict[str, dict[str, dict]], profile: str) -> None:
    template = templates[profile][STACK]
    body = json.loads(flatten(only_dashboard(template)["DashboardBody"]))
    runs = next(w for w in body["widgets"] if w["properties"]["title"] == "Pipeline runs")
    plotted = {dims["StateMachineArn"] for _, _, dims, _, _, _ in widget_metrics(runs)}
    alarmed = {state_machine_arn(template, d["Value"]) for r in template["Resources"].values()
               if r["Type"] == "AWS::CloudWatch::Alarm"
               for d in r["Properties"].get("Dimensions", []) if d["Name"] == "StateMachineArn"}
    assert plotted == alarmed and len(plotted) == 4
