"""Real-time endpoints on the local AWS: provisioning, the container contract, capture, metrics, guarded updates.

A tiny handler module stands in for a model here (the kernel is generic); tests/serving runs the project's
real inference code through the same endpoint.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.runtime import LocalAws, local_aws

ROLE = "arn:aws:iam::123456789012:role/serving"
HANDLER = '''
import json

def model_fn(model_dir):
    with open(model_dir + "/model.json") as f:
        return json.load(f)

def transform_fn(model, body, content_type, accept):
    from sagemaker_containers.beta.framework import worker
    def error(message, status):
        return worker.Response(response=json.dumps({"error": message}), status=status, mimetype="application/json")
    if content_type != "application/json":
        return error("content type", 415)
    request = json.loads(body)
    if "x" not in request:
        return error("x: is required", 400)
    if request["x"] == "crash":
        raise RuntimeError("the handler crashed")
    return json.dumps({"y": request["x"] * model["factor"], "model": model["name"]}), "application/json"
'''
ENV = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
       "PYTHONPATH": "/opt/ml/model/code"}


def _artifact(name: str, factor: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in (("model.json", json.dumps({"name": name, "factor": factor})),
                           ("code/inference.py", HANDLER)):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _model(aws: LocalAws, name: str, factor: int, *, env: dict[str, str] = ENV, isolated: bool = True) -> None:
    aws.client("s3").put_object(Bucket="models", Key=f"{name}/model.tar.gz", Body=_artifact(name, factor))
    aws.client("sagemaker").create_model(
        ModelName=name, ExecutionRoleArn=ROLE, EnableNetworkIsolation=isolated,
        PrimaryContainer={"Image": "sklearn:1.4-2", "ModelDataUrl": f"s3://models/{name}/model.tar.gz",
                          "Environment": env})


def _config(aws: LocalAws, name: str, model: str, instances: int = 2, variant: str = "primary") -> None:
    aws.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": variant, "ModelName": model, "InstanceType": "ml.t2.medium",
                             "InitialInstanceCount": instances}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                           "DestinationS3Uri": "s3://capture/datacapture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                           "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]}})


def _invoke(aws: LocalAws, x: Any) -> dict[str, Any]:
    out = aws.client("sagemaker-runtime").invoke_endpoint(EndpointName="ep", Body=json.dumps({"x": x}),
                                                          ContentType="application/json")
    return json.loads(out["Body"].read())


def _status(aws: LocalAws) -> dict[str, Any]:
    return aws.client("sagemaker").describe_endpoint(EndpointName="ep")


@pytest.fixture()
def serving() -> Iterator[LocalAws]:
    with local_aws() as aws:
        for bucket in ("models", "capture"):
            aws.client("s3").create_bucket(Bucket=bucket)
        _model(aws, "champion", 2)
        _config(aws, "config-1", "champion")
        aws.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="config-1")
        yield aws


def test_an_endpoint_is_creating_until_its_fleet_is_provisioned_then_serves_the_real_handler(serving) -> None:
    aws = serving
    assert _status(aws)["EndpointStatus"] == "Creating"
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    described = _status(aws)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "config-1"
    assert _invoke(aws, 21) == {"y": 42, "model": "champion"}


def test_container_errors_reach_the_caller_as_model_errors_with_the_original_status(serving) -> None:
    aws = serving
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    runtime = aws.client("sagemaker-runtime")
    with pytest.raises(ClientError) as bad:
        runtime.invoke_endpoint(EndpointName="ep", Body=b"{}", ContentType="application/json")
    assert bad.value.response["Error"]["Code"] == "ModelError", bad.value.response
    assert bad.value.response["OriginalStatusCode"] == 400 and "x: is required" in bad.value.response["OriginalMessage"]
    with pytest.raises(ClientError) as crash:
        _invoke(aws, "crash")
    assert crash.value.response["OriginalStatusCode"] == 500, "an exception in the handler is a 500, as in the image"
    assert "Internal Server Error" in crash.value.response["OriginalMessage"]


def test_invocations_are_captured_in_sagemakers_format_and_counted_in_cloudwatch(serving) -> None:
    aws = serving
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    for x in range(3):
        _invoke(aws, x)
    (key,) = aws.hosting.flush_captures()
    assert key.startswith("datacapture/ep/primary/") and key.endswith(".jsonl")
    lines = aws.client("s3").get_object(Bucket="capture", Key=key)["Body"].read().decode().splitlines()
    first = json.loads(lines[0])
    assert first["captureData"]["endpointInput"] == {"observedContentType": "application/json", "mode": "INPUT",
                                                     "data": '{"x": 0}', "encoding": "JSON"}
    assert json.loads(first["captureData"]["endpointOutput"]["data"]) == {"y": 0, "model": "champion"}
    assert first["eventMetadata"]["inferenceTime"].endswith("Z") and len(lines) == 3
    stats = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName="Invocations", Statistics=["Sum"], Period=60,
        Dimensions=[{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "primary"}],
        StartTime=aws.clock.at(0), EndTime=aws.clock.at(aws.clock.elapsed_seconds + 60))
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 3


def _canary(aws: LocalAws, fault_share: float = 0.0) -> None:
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    _model(aws, "candidate", 3)
    _config(aws, "config-2", "candidate")
    if fault_share:
        aws.hosting.inject_fault("s3://models/candidate/", error_share=fault_share)
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="ep-5xx", MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker", Statistic="Sum",
        Dimensions=[{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "primary"}],
        Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold")
    aws.client("sagemaker").update_endpoint(EndpointName="ep", EndpointConfigName="config-2", DeploymentConfig={
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}, "WaitIntervalInSeconds": 300},
            "TerminationWaitInSeconds": 120, "MaximumExecutionTimeoutInSeconds": 3600},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "ep-5xx"}]}})


def test_a_canary_that_trips_an_alarm_is_rolled_back_and_the_old_config_stays_live(serving) -> None:
    aws = serving
    _canary(aws, fault_share=1.0)
    assert _status(aws)["EndpointStatus"] == "Updating"
    assert _status(aws)["PendingDeploymentSummary"]["EndpointConfigName"] == "config-2"
    aws.clock.advance(aws.hosting.settings.provision_seconds)  # green fleet up, canary gets half the traffic
    answers = []
    for x in range(40):
        try:
            answers.append(_invoke(aws, x)["model"])
        except ClientError:
            answers.append("error")
    assert answers.count("champion") > 5 and answers.count("error") > 5 and "candidate" not in answers
    tripped_at = aws.clock.elapsed_seconds
    rolling_back = lambda: any(e.event == "RollingBack" for e in aws.hosting.timeline)  # noqa: E731
    while not rolling_back() and aws.clock.elapsed_seconds - tripped_at < 300:
        aws.clock.advance(aws.hosting.settings.alarm_poll_seconds)  # the alarm evaluates the canary's 5xx
    assert rolling_back() and _status(aws)["EndpointStatus"] == "Updating", "as AWS shows a blue/green rollback"
    assert aws.clock.elapsed_seconds - tripped_at <= 120 + aws.hosting.settings.alarm_poll_seconds, \
        "the alarm's period ends, it trips, the next alarm check rolls back"
    assert aws.client("cloudwatch").describe_alarms(AlarmNames=["ep-5xx"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    assert _invoke(aws, 1)["model"] == "champion", "all traffic is back on the old fleet at once"
    aws.clock.advance(aws.hosting.settings.rollback_seconds)
    described = _status(aws)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "config-1"
    assert "FailureReason" not in described, "a guardrail rollback reports no failure: callers must check the config"
    events = [e.event for e in aws.hosting.timeline]
    assert events[-4:] == ["GreenFleetReady", "TrafficShifted", "RollingBack", "InService"]


def test_a_healthy_canary_is_promoted_after_its_bakes_and_the_new_config_goes_live(serving) -> None:
    aws = serving
    _canary(aws)
    aws.clock.advance(aws.hosting.settings.provision_seconds + 300 + 120)
    described = _status(aws)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "config-2"
    assert _invoke(aws, 2) == {"y": 6, "model": "candidate"}
    shares = [round(e.green_share, 2) for e in aws.hosting.timeline if e.event == "TrafficShifted"]
    assert shares == [0.5, 1.0]


def test_an_update_must_keep_the_variant_names(serving) -> None:
    aws = serving
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    _config(aws, "renamed", "champion", variant="other")
    with pytest.raises(ClientError, match="same variant names"):
        aws.client("sagemaker").update_endpoint(EndpointName="ep", EndpointConfigName="renamed")


def test_a_container_that_would_pip_install_under_network_isolation_fails_its_health_check(serving) -> None:
    aws = serving
    _model(aws, "no-path", 1, env={k: v for k, v in ENV.items() if k != "PYTHONPATH"})
    _config(aws, "config-np", "no-path")
    aws.client("sagemaker").create_endpoint(EndpointName="np", EndpointConfigName="config-np")
    aws.clock.advance(aws.hosting.settings.provision_seconds)
    described = aws.client("sagemaker").describe_endpoint(EndpointName="np")
    assert described["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in described["FailureReason"]
    assert "pip install" in described["FailureReason"]
