"""The synthesized deploy workflow on the local AWS: first deploy, guarded updates, rollbacks, clear failures."""

from __future__ import annotations

import json

import pytest
from monitoring_kit import alerts, messages

from benchmarks.local_serving import RECORDS, Serving
from mlops_demo.cli import main
from mlops_demo.endpoint_traffic import EndpointTraffic


def _first_deploy(serving: Serving) -> tuple[str, str]:
    arn, url = serving.register("champion-job")
    (execution,) = serving.deploys()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    return arn, url


@pytest.mark.slow
def test_an_approved_package_is_deployed_and_serves_with_the_real_inference_code(serving: Serving) -> None:
    inbox = alerts(serving)
    arn, _ = _first_deploy(serving)
    assert serving.package(arn)["CustomerMetadataProperties"]["deployment_status"] == "deployed"
    assert serving.live_config().startswith("mlops-demo-sandbox-")
    out = serving.predict(5)
    assert out["model_version"] == "champion-job" and len(out["predictions"]) == 5
    assert any(m.startswith("mlops-demo: model deployed") and arn in m for m in messages(serving, inbox))
    assert serving.aws.hosting.endpoints[serving.endpoint].capture is not None, "data capture is configured"


@pytest.mark.slow
def test_a_bad_candidate_is_rolled_back_by_the_guardrails_and_reported_as_a_failed_deployment(
        serving: Serving) -> None:
    _first_deploy(serving)
    champion_config = serving.live_config()
    traffic = EndpointTraffic(serving.aws, serving.endpoint, RECORDS, per_second=2)
    traffic.start()
    bad, bad_url = serving.register("candidate-job", status="PendingManualApproval")
    serving.aws.hosting.inject_fault(bad_url, error_share=1.0)
    serving.aws.client("sagemaker").update_model_package(ModelPackageArn=bad, ModelApprovalStatus="Approved")
    latest = serving.deploys()[0]
    traffic.stop()

    assert latest["status"] == "FAILED" and latest["error"] == "DeploymentRolledBack", latest
    assert "endpoint-5xx-rate" in latest["cause"] and champion_config in latest["cause"]
    assert serving.live_config() == champion_config, "the old config is live again"
    package = serving.package(bad)
    meta = package["CustomerMetadataProperties"]
    assert meta["deployment_status"] == "rolled_back" and "endpoint-5xx-rate" in meta["rollback_reason"]
    assert "latency" not in meta["rollback_reason"], "only the alarms in ALARM are named"
    assert package["ModelApprovalStatus"] == "Rejected", "a rolled-back model never becomes the champion"
    assert serving.predict()["model_version"] == "champion-job"
    seen = traffic.window(0)
    assert seen.answered["champion-job"] > 0 and "candidate-job" not in seen.answered


@pytest.mark.slow
def test_a_candidate_that_regresses_after_its_deployment_is_rolled_back_during_the_incident(serving: Serving) -> None:
    champion, _ = _first_deploy(serving)
    candidate, candidate_url = serving.register("candidate-job")
    assert serving.deploys()[0]["status"] == "SUCCEEDED"
    assert serving.predict()["model_version"] == "candidate-job"
    # It goes bad once live: the 5xx alarm fires. The rollback must not be stopped by the same alarm.
    serving.aws.hosting.inject_fault(candidate_url, error_share=0.5)
    traffic = EndpointTraffic(serving.aws, serving.endpoint, RECORDS, per_second=2)
    traffic.start()
    serving.aws.clock.advance(300)
    alarms = serving.aws.client("cloudwatch").describe_alarms(StateValue="ALARM")["MetricAlarms"]
    assert "mlops-demo-sandbox-endpoint-5xx-rate" in [a["AlarmName"] for a in alarms]

    assert main(["rollback", "--profile", "sandbox", "--reason", "precision fell after the deployment"]) == 0
    traffic.stop()
    latest = serving.deploys()[0]
    assert latest["status"] == "SUCCEEDED", latest.get("cause")
    assert serving.predict()["model_version"] == "champion-job"
    withdrawn = serving.package(candidate)
    assert withdrawn["ModelApprovalStatus"] == "Rejected"
    assert withdrawn["CustomerMetadataProperties"]["deployment_status"] == "withdrawn"
    assert "precision fell" in withdrawn["CustomerMetadataProperties"]["withdrawn_reason"]
    assert serving.package(champion)["ModelApprovalStatus"] == "Approved"


@pytest.mark.slow
def test_a_rollback_that_does_not_take_fails_and_rejects_neither_package(serving: Serving) -> None:
    champion, champion_url = _first_deploy(serving)
    candidate, _ = serving.register("candidate-job")
    assert serving.deploys()[0]["status"] == "SUCCEEDED"
    candidate_config = serving.live_config()
    bucket, key = champion_url.removeprefix("s3://").split("/", 1)
    serving.aws.client("s3").put_object(Bucket=bucket, Key=key, Body=b"not a model")  # its container cannot start

    assert main(["rollback", "--profile", "sandbox", "--reason", "precision fell"]) != 0
    latest = serving.deploys()[0]
    assert latest["status"] == "FAILED" and latest["cause"].startswith("RollbackFailed: "), latest
    assert f"still serves config {candidate_config}" in latest["cause"], "the failure names the config still live"
    assert serving.live_config() == candidate_config
    assert serving.package(champion)["ModelApprovalStatus"] == "Approved", "the known-good model stays known-good"
    assert serving.package(candidate)["CustomerMetadataProperties"]["deployment_status"] == "deployed"


@pytest.mark.slow
def test_a_package_that_is_not_approved_is_refused_with_the_reason(serving: Serving) -> None:
    pending, _ = serving.register("pending-job", status="PendingManualApproval")
    serving.aws.client("stepfunctions").start_execution(stateMachineArn=serving.deploy_arn, input=json.dumps(
        {"model_package_arn": pending}))
    (execution,) = serving.deploys()
    assert execution["status"] == "FAILED" and execution["error"] == "DeploymentFailed"
    assert "PackageNotApproved" in execution["cause"] and "PendingManualApproval" in execution["cause"]
    assert serving.aws.hosting.endpoints == {}, "nothing was deployed"


@pytest.mark.slow
def test_throttled_sagemaker_calls_are_retried_and_a_repeated_event_changes_nothing(serving: Serving) -> None:
    serving.aws.faults.inject("CreateEndpoint", "ThrottlingException", times=1)
    arn, _ = _first_deploy(serving)
    history = serving.aws.client("stepfunctions").get_execution_history(
        executionArn=serving.executions()[0]["executionArn"], maxResults=1000)["events"]
    assert any("ThrottlingException" in json.dumps(e, default=str) for e in history if e["type"] == "TaskFailed")
    serving.aws.client("sagemaker").update_model_package(ModelPackageArn=arn, ApprovalDescription="looked at it")
    latest = serving.settle()[0]
    assert latest["status"] == "SUCCEEDED"
    assert "AlreadyHandled" in json.dumps(default=str, obj=serving.aws.client("stepfunctions").get_execution_history(
        executionArn=latest["executionArn"], maxResults=1000)["events"])


@pytest.mark.slow
def test_teardown_deletes_what_the_workflow_created_and_leaves_other_profiles_alone(serving: Serving) -> None:
    _first_deploy(serving)
    sm = serving.aws.client("sagemaker")
    prod = "mlops-demo-prod-" + "0" * 32  # the prod profile's deployment in the same account
    sm.create_model(ModelName=prod, ExecutionRoleArn="arn:aws:iam::123456789012:role/prod-serving",
                    PrimaryContainer={"Image": "sklearn:latest"})
    sm.create_endpoint_config(EndpointConfigName=prod, ProductionVariants=[{
        "VariantName": "primary", "ModelName": prod, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    assert main(["teardown", "--profile", "sandbox"]) == 0
    assert sm.list_endpoints()["Endpoints"] == []
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [prod]
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == [prod]
