"""Binds local_aws.sagemaker.hosting into moto: endpoints that provision, update with guardrails and serve.

moto 5.2.5 marks an endpoint InService at once, has no UpdateEndpoint, drops EnableNetworkIsolation from
CreateModel and answers InvokeEndpoint with canned data. Here CreateEndpoint/UpdateEndpoint/DeleteEndpoint
drive the hosting emulation, DescribeEndpoint shows its state, and sagemaker-runtime InvokeEndpoint runs
the real container; a container error reaches the caller as ModelError (HTTP 424) with the original
status, as SageMaker answers.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from local_aws.faults import ApiFaults
from local_aws.patching import MotoPatches
from local_aws.sagemaker.hosting import HostingError, SageMakerHosting


class ModelError(JsonRESTError):
    """What InvokeEndpoint answers when the model container returns an error (HTTP 424)."""

    code = 424

    def __init__(self, original_status: int, original_message: str, message: str, log_stream_arn: str) -> None:
        super().__init__("ModelError", message)
        self.description = json.dumps({"__type": "ModelError", "message": message, "Message": message,
                                       "OriginalStatusCode": original_status, "OriginalMessage": original_message,
                                       "LogStreamArn": log_stream_arn})


def _client_error(err: HostingError) -> JsonRESTError:
    return JsonRESTError(err.code, str(err))


def install(patches: MotoPatches, hosting: SageMakerHosting, faults: ApiFaults, account: str, region: str) -> None:
    def backend() -> SageMakerModelBackend:
        return sagemaker_backends[account][region]

    def injected(action: str) -> None:
        err = faults.take(action)
        if err:
            raise JsonRESTError(err.code, err.message)

    _install_models(patches)
    original_create = SageMakerModelBackend.create_endpoint
    original_describe = SageMakerModelBackend.describe_endpoint
    original_delete = SageMakerModelBackend.delete_endpoint

    def create_endpoint(self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str,
                        tags: list[dict[str, str]]) -> Any:
        injected("CreateEndpoint")
        endpoint = original_create(self, endpoint_name, endpoint_config_name, tags)
        hosting.create_endpoint(endpoint_name, endpoint_config_name)
        endpoint.endpoint_status = "Creating"
        return endpoint

    def describe_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> dict[str, Any]:
        injected("DescribeEndpoint")
        response = original_describe(self, endpoint_name)
        if endpoint_name in hosting.endpoints:
            response = {k: v for k, v in response.items() if k not in ("FailureReason", "PendingDeploymentSummary",
                                                                         "LastDeploymentConfig")}
            response.update(hosting.describe(endpoint_name))
            response["LastModifiedTime"] = hosting.clock.now()
        return response

    def delete_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> None:
        original_delete(self, endpoint_name)
        hosting.delete_endpoint(endpoint_name)

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        injected("UpdateEndpoint")
        name, config = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        endpoint = backend().endpoints.get(name)
        if endpoint is None:
            raise JsonRESTError("ValidationException", f"Could not find endpoint \"{name}\".")
        if config not in backend().endpoint_configs:
            raise JsonRESTError("ValidationException", f"Could not find endpoint configuration \"{config}\".")
        try:
            hosting.update_endpoint(name, config, self._get_param("DeploymentConfig"))
        except HostingError as err:
            raise _client_error(err) from None
        return ActionResult({"EndpointArn": endpoint.arn})

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> Any:
        injected("InvokeEndpoint")
        name = self.path.split("/")[2]
        try:
            result = hosting.invoke(name, self.body if isinstance(self.body, bytes) else self.body.encode(),
                                    self.headers.get("Content-Type"), self.headers.get("Accept"),
                                    self.headers.get("X-Amzn-SageMaker-Inference-Id"))
        except HostingError as err:
            raise _client_error(err) from None
        if result.status >= 400:
            kind = "client" if result.status < 500 else "server"
            original = result.body.decode("utf-8", errors="replace")
            log = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{name}"
            raise ModelError(result.status, original,
                             f"Received {kind} error ({result.status}) from primary with message \"{original}\". "
                             f"See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEvent"
                             f"Viewer:group=/aws/sagemaker/Endpoints/{name} in account {account} for more "
                             "information.", log)
        return 200, {"Content-Type": result.content_type, "x-Amzn-Invoked-Production-Variant": result.variant}, \
            result.body

    patches.replace(SageMakerModelBackend, "create_endpoint", create_endpoint,
                    why="CreateEndpoint provisions a fleet on the simulated clock")
    patches.replace(SageMakerModelBackend, "describe_endpoint", describe_endpoint,
                    why="DescribeEndpoint shows the hosting emulation's status, config and deployment")
    patches.replace(SageMakerModelBackend, "delete_endpoint", delete_endpoint,
                    why="DeleteEndpoint stops the emulated fleets")
    patches.add(SageMakerResponse, "update_endpoint", update_endpoint,
                why="UpdateEndpoint (absent from moto 5.2.5) runs a blue/green deployment with guardrails")
    patches.replace(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint,
                    why="InvokeEndpoint runs the real inference code instead of canned data")


def _install_models(patches: MotoPatches) -> None:
    original = SageMakerResponse.create_model

    def create_model(self: SageMakerResponse) -> ActionResult:
        result = original(self)
        model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
        model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
        return result

    patches.replace(SageMakerResponse, "create_model", create_model,
                    why="CreateModel keeps EnableNetworkIsolation (the container's start-up depends on it)")


def backend_api(aws: Any) -> Any:
    """The `api(name)` view SageMakerHosting reads the local AWS through."""

    def sm() -> SageMakerModelBackend:
        return sagemaker_backends[aws.account_id][aws.region]

    def read_s3(uri: str) -> bytes:
        bucket, _, key = uri[5:].partition("/")
        return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    def put_s3(bucket: str, key: str, body: bytes, kms: str | None) -> None:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms} if kms else {}
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, **extra)

    def alarm_state(name: str) -> str | None:
        alarm = cloudwatch_backends[aws.account_id][aws.region].alarms.get(name)
        return None if alarm is None else alarm.state_value

    def model(name: str) -> dict[str, Any]:
        m = sm().describe_model(name)
        return {**m.response_object, "EnableNetworkIsolation": bool(getattr(m, "enable_network_isolation", False))}

    views = {
        "model": model,
        "endpoint_config": sm().describe_endpoint_config,
        "package": lambda arn: aws.client("sagemaker").describe_model_package(ModelPackageName=arn),
        "read_s3": read_s3,
        "put_s3": put_s3,
        "alarm_state": alarm_state,
    }

    def api(name: str) -> Any:
        if name == "account":
            return aws.account_id
        if name == "endpoint_config":
            return sm().describe_endpoint_config
        return views[name]

    return api


def put_metrics(aws: Any) -> Any:
    """Store datapoints straight into moto's CloudWatch backend (one call per invocation, no HTTP round trip)."""

    def put(namespace: str, metric_data: list[dict[str, Any]]) -> None:
        cloudwatch_backends[aws.account_id][aws.region].put_metric_data(namespace, metric_data)

    return put
