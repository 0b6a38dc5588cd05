"""Everything that depends on moto's internals, in one small module (moto is pinned in pyproject).

moto's CloudFormation engine only creates resource types that have a `CloudFormationModel`
subclass. For the types our stacks use that moto's CloudFormation skips, we register models here
that create the resource through the service's *public* API (boto3 against the same in-process
moto), so the stack reaches CREATE_COMPLETE with the resource really there, configured from the
template's properties. The internals touched, all covered by tests/local_aws/test_moto_internals.py:
`CloudFormationModel.__subclasses__()` as the registry and the lru_caches over it in
`moto.cloudformation.parsing`; moto's bucket and stream models (subclassed to apply the properties
their CloudFormation create drops); and the IAM condition semantics of bucket-policy evaluation.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

import boto3
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
from moto.iam import access_control
from moto.kinesis.models import Stream as MotoKinesisStream
from moto.s3.models import FakeBucket as MotoBucket
from moto.stepfunctions.models import StateMachine as MotoStateMachine

# Resource types moto's CloudFormation cannot create and that we do not emulate, with the reason a
# user will see in the deploy report. They are removed from the template before create_stack.
NOT_EMULATED: dict[str, str] = {
    "Custom::S3AutoDeleteObjects": "empties a bucket on `cdk destroy`; the local AWS is discarded whole",
}


def _client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)


class _PublicApiModel:
    """Mixin for models that create their resource through one public API call."""

    physical_id: str = ""

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return getattr(self, "arn", self.physical_id)
        raise NotImplementedError(attribute_name)


class BucketPolicyModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> BucketPolicyModel:
        props = cloudformation_json["Properties"]
        _client("s3", region_name).put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
        return cls(props["Bucket"], props)


class TopicPolicyModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> TopicPolicyModel:
        props = cloudformation_json["Properties"]
        sns = _client("sns", region_name)
        for topic_arn in props["Topics"]:
            sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy",
                                     AttributeValue=json.dumps(props["PolicyDocument"]))
        return cls(resource_name, props)


class LogStreamModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::LogStream"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> LogStreamModel:
        props = cloudformation_json["Properties"]
        name = props.get("LogStreamName", resource_name)
        _client("logs", region_name).create_log_stream(logGroupName=props["LogGroupName"], logStreamName=name)
        return cls(name, props)


class DeliveryStreamModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::KinesisFirehose::DeliveryStream"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> DeliveryStreamModel:
        props = dict(cloudformation_json["Properties"])
        name = props.pop("DeliveryStreamName", resource_name)
        # CloudFormation property names are the API's names for every key we use.
        allowed = {"DeliveryStreamType", "KinesisStreamSourceConfiguration", "ExtendedS3DestinationConfiguration",
                   "S3DestinationConfiguration", "DeliveryStreamEncryptionConfigurationInput", "Tags"}
        api_args = {k: v for k, v in props.items() if k in allowed}
        arn = _client("firehose", region_name).create_delivery_stream(DeliveryStreamName=name, **api_args)[
            "DeliveryStreamARN"]
        model = cls(name, props)
        model.arn = arn
        return model


class ModelPackageGroupModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SageMaker::ModelPackageGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"ModelPackageGroupArn", "Arn"}

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in {"ModelPackageGroupArn", "Arn"}:
            return self.arn
        raise NotImplementedError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> ModelPackageGroupModel:
        props = cloudformation_json["Properties"]
        name = props.get("ModelPackageGroupName", resource_name)
        args: dict[str, Any] = {"ModelPackageGroupName": name}
        if props.get("ModelPackageGroupDescription"):
            args["ModelPackageGroupDescription"] = props["ModelPackageGroupDescription"]
        arn = _client("sagemaker", region_name).create_model_package_group(**args)["ModelPackageGroupArn"]
        model = cls(name, props)
        model.arn = arn
        return model


class MetricAlarmModel(_PublicApiModel, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> MetricAlarmModel:
        props = dict(cloudformation_json["Properties"])
        name = props.pop("AlarmName", resource_name)
        ints = {"EvaluationPeriods", "DatapointsToAlarm", "Period"}
        args = {k: (int(v) if k in ints else v) for k, v in props.items()}
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        _client("cloudwatch", region_name).put_metric_alarm(AlarmName=name, **args)
        model = cls(name, props)
        model.arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{name}"
        return model


_DEFERRED: list[Any] = []


def apply_deferred_settings() -> int:
    """Apply settings that moto only accepts once the whole stack exists; returns how many."""
    done = 0
    while _DEFERRED:
        _DEFERRED.pop(0)()
        done += 1
    return done


class BucketModel(MotoBucket, CloudFormationModel):
    """moto's bucket model, plus the properties its CloudFormation create drops (moto 5.2.5)."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:
        bucket = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json.get("Properties", {})
        s3 = _client("s3", region_name)
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={
                "Status": props["VersioningConfiguration"]["Status"]})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(Bucket=bucket.name,
                                       PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(Bucket=bucket.name, LifecycleConfiguration={
                "Rules": [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]})
        if "LoggingConfiguration" in props:
            # AWS accepts logging before the log bucket's policy exists (CDK creates the policy after
            # the buckets it names); moto checks the policy at once, so apply after the stack is built.
            cfg = props["LoggingConfiguration"]
            _DEFERRED.append(lambda: s3.put_bucket_logging(Bucket=bucket.name, BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": cfg["DestinationBucketName"],
                                   "TargetPrefix": cfg.get("LogFilePrefix", "")}}))
        return bucket


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    out: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"],
                           "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return out


class KinesisStreamModel(MotoKinesisStream, CloudFormationModel):
    """moto's stream model, plus server-side encryption, which its CloudFormation create drops."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:
        props = cloudformation_json.get("Properties", {})
        name = props.get("Name", resource_name)
        stream = super().create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name, **kwargs)
        enc = props.get("StreamEncryption")
        if enc:
            _client("kinesis", region_name).start_stream_encryption(
                StreamName=stream.stream_name, EncryptionType=enc["EncryptionType"], KeyId=enc["KeyId"])
        return stream


class StateMachineModel(MotoStateMachine, CloudFormationModel):
    """Created through the public API, so it lands in the backend that executes state machines.

    moto 5.2.5's CloudFormation writes state machines into its plain Step Functions backend even when
    `execute_state_machine` is on, where StartExecution (served by the executing backend) cannot see them.
    """

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.stepfunctions.models import stepfunctions_backends
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        props = cloudformation_json["Properties"]
        args: dict[str, Any] = {
            "name": props.get("StateMachineName", resource_name),
            "definition": props.get("DefinitionString") or json.dumps(props.get("Definition", {})),
            "roleArn": props["RoleArn"],
        }
        if props.get("StateMachineType"):
            args["type"] = props["StateMachineType"]
        if props.get("Tags"):
            args["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in props["Tags"]]
        arn = _client("stepfunctions", region_name).create_state_machine(**args)["stateMachineArn"]
        for backends in (stepfunctions_parser_backends, stepfunctions_backends):
            machines = backends[account_id][region_name].state_machines
            found = [m for m in machines if m.arn == arn]
            if found:
                return found[0]
        raise RuntimeError(f"state machine {arn} was created but not found in moto's backends")


OUR_MODELS: tuple[type[CloudFormationModel], ...] = (
    BucketPolicyModel, TopicPolicyModel, LogStreamModel, DeliveryStreamModel, ModelPackageGroupModel,
    MetricAlarmModel, BucketModel, KinesisStreamModel, StateMachineModel,
)


def register_cloudformation_models() -> list[str]:
    """Make moto's CloudFormation create the types above; returns the types now handled by us.

    Defining a direct subclass of CloudFormationModel registers it; moto caches the registry, so
    clear those caches in case something parsed a template before this module was imported.
    """
    for cache in (cfn_parsing.get_model_list, cfn_parsing.get_model_map, cfn_parsing.get_name_type_map):
        cache.cache_clear()
    _patch_condition_semantics()
    handled = cfn_parsing.get_model_map()
    missing = [m.cloudformation_type() for m in OUR_MODELS if handled.get(m.cloudformation_type()) is not m]
    if missing:
        raise RuntimeError(f"moto did not pick up our CloudFormation models for {missing}; "
                           "moto's registry changed: update local_aws/moto_internals.py")
    return [m.cloudformation_type() for m in OUR_MODELS]


_LOCAL_REQUEST_CONTEXT = {"aws:SecureTransport": "true"}
_original_is_action_permitted = access_control.IAMPolicyStatement.is_action_permitted


def conditions_met(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """Evaluate a policy Condition block as IAM does for the operators our policies use.

    A key absent from the request context fails its condition (no ...IfExists operators here);
    an operator we do not know fails too, so an unknown condition never widens a Deny.
    """
    import fnmatch

    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif operator in ("StringEquals", "ArnEquals"):
                ok = actual in wanted
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            else:
                ok = False
            if not ok:
                return False
    return True


def _statement_is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                                   incoming_condition_values: dict[str, str] | None = None) -> Any:
    """IAM semantics for conditional statements: a statement whose Condition is not met does not apply.

    moto 5.2.5 evaluates only StringEquals, treats other operators as always met, and answers
    DENIED (not "does not apply") when a condition fails; every CDK bucket denies requests with
    aws:SecureTransport=false, so with moto's semantics each bucket refused all writes. Local
    requests go over botocore's HTTPS endpoints, so they carry aws:SecureTransport=true.
    """
    condition = self._statement.get("Condition")
    if not condition:
        return _original_is_action_permitted(self, action, resource, principal, incoming_condition_values)
    context = {**_LOCAL_REQUEST_CONTEXT, **(incoming_condition_values or {})}
    if not conditions_met(condition, context):
        return access_control.PermissionResult.NEUTRAL
    unconditional = access_control.IAMPolicyStatement({k: v for k, v in self._statement.items() if k != "Condition"})
    return _original_is_action_permitted(unconditional, action, resource, principal, None)


def _patch_condition_semantics() -> None:
    access_control.IAMPolicyStatement.is_action_permitted = _statement_is_action_permitted


def unsupported_types(resource_types: set[str]) -> set[str]:
    """Types in a template that moto's CloudFormation (plus our models) would silently skip."""
    handled = cfn_parsing.get_model_map()
    return {t for t in resource_types if t not in handled and not t.startswith("Custom::")
            and t not in cfn_parsing.NULL_MODELS}


def adapt_for_moto_bugs(template: dict[str, Any]) -> list[str]:
    """Rewrite, in place, template details that trip known bugs of the pinned moto; returns what changed.

    Each rewrite keeps the meaning of the template; none applies on AWS.
    """
    changes = []
    for logical_id, res in template.get("Resources", {}).items():
        props = res.get("Properties", {})
        # moto 5.2.5 KMS: create_from_cloudformation_json passes CFN's {Key, Value} tags to a tagger
        # that expects the KMS API's {TagKey, TagValue}, and raises KeyError.
        if res["Type"] == "AWS::KMS::Key" and props.get("Tags"):
            props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
            changes.append(f"{logical_id}: KMS tags as TagKey/TagValue")
    return changes


# --- Emulation hooks: SageMaker jobs, Lambda invoke, Step Functions time --------------------------------

def install_sagemaker_job_hooks(runner: Any, clock: Any) -> None:
    """Run created processing/training jobs with `runner`; Describe* reports status on the simulated clock."""
    from moto.core.exceptions import JsonRESTError
    from moto.sagemaker.models import SageMakerModelBackend

    def injected(action: str) -> None:
        err = runner.take_api_error(action)
        if err:
            raise JsonRESTError(err.code, err.message)

    def create_processing_job(self: Any, **kwargs: Any) -> Any:
        injected("CreateProcessingJob")
        job = _ORIGINAL["create_processing_job"](self, **kwargs)
        _apply_status(job, "processing_job_status", runner.start("processing", job.processing_job_name, kwargs),
                      clock)
        return job

    def create_training_job(self: Any, **kwargs: Any) -> Any:
        injected("CreateTrainingJob")
        job = _ORIGINAL["create_training_job"](self, **kwargs)
        _apply_status(job, "training_job_status", runner.start("training", job.training_job_name, kwargs), clock)
        return job

    def describe_processing_job(self: Any, processing_job_name: str) -> Any:
        injected("DescribeProcessingJob")
        if processing_job_name in runner.jobs and processing_job_name in self.processing_jobs:
            runner.jobs[processing_job_name].wait(runner.describe_wait_s)
            _apply_status(self.processing_jobs[processing_job_name], "processing_job_status",
                          runner.jobs[processing_job_name], clock)
        return _ORIGINAL["describe_processing_job"](self, processing_job_name)

    def describe_training_job(self: Any, training_job_name: str) -> Any:
        injected("DescribeTrainingJob")
        if training_job_name in runner.jobs and training_job_name in self.training_jobs:
            runner.jobs[training_job_name].wait(runner.describe_wait_s)
            _apply_status(self.training_jobs[training_job_name], "training_job_status",
                          runner.jobs[training_job_name], clock)
        return _ORIGINAL["describe_training_job"](self, training_job_name)

    for name, fn in (("create_processing_job", create_processing_job), ("create_training_job", create_training_job),
                     ("describe_processing_job", describe_processing_job),
                     ("describe_training_job", describe_training_job)):
        _ORIGINAL.setdefault(name, getattr(SageMakerModelBackend, name))
        setattr(SageMakerModelBackend, name, fn)


def _apply_status(job: Any, attr: str, record: Any, clock: Any) -> None:
    status = record.status_at(clock.elapsed_seconds)
    setattr(job, attr, status)
    if hasattr(job, "secondary_status"):
        job.secondary_status = {"InProgress": "Training", "Failed": "Failed", "Stopped": "MaxRuntimeExceeded"}.get(
            status, "Completed")
    if status in ("Failed", "Stopped") and record.failure_reason:
        job.failure_reason = record.failure_reason
    if status == "Completed" and record.metrics and hasattr(job, "final_metric_data_list"):
        job.final_metric_data_list = [{"MetricName": k, "Value": v, "Timestamp": job.creation_time}
                                      for k, v in record.metrics.items()]


_ORIGINAL: dict[str, Any] = {}


def install_lambda_runner(runner: Any) -> None:
    """Replace moto's Docker-based Lambda execution with `runner` (in-process)."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        result, errored = runner.invoke(
            function_name=self.function_name, handler=self.handler, code_zip=self.code_bytes,
            code_sha=self.code_sha_256, environment=dict(self.environment_vars), event=payload,
            arn=self.function_arn, memory=self.memory_size)
        return result, errored, ""

    _ORIGINAL.setdefault("_invoke_lambda", LambdaFunction._invoke_lambda)
    LambdaFunction._invoke_lambda = _invoke_lambda


def install_step_functions_clock(clock: Any) -> None:
    """Wait states and Retry intervals of moto's interpreter advance the simulated clock instead of sleeping."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock.advance(max(0, wait_seconds))

    class _ClockTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            clock.advance(seconds)

    _ORIGINAL.setdefault("_wait_interval", wait_function.WaitFunction._wait_interval)
    wait_function.WaitFunction._wait_interval = _wait_interval
    retrier_decl.time = _ClockTime  # the module calls time.sleep(interval) between attempts


def install_context_object_fix() -> None:
    """$$.Execution.StartTime is an ISO-8601 string on AWS; moto 5.2.5 passes a datetime, which then fails
    to serialise ("Object of type datetime is not JSON serializable") wherever a definition uses it."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = _ORIGINAL.setdefault("_get_evaluation_environment", ExecutionWorker._get_evaluation_environment)

    def _get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if hasattr(start, "isoformat"):
            execution["StartTime"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
                f"{start.microsecond // 1000:03d}Z"
        return env

    ExecutionWorker._get_evaluation_environment = _get_evaluation_environment


_DEFINITE_PATH = re.compile(r"\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])*")
_JSON_PATH_USERS = (
    "moto.stepfunctions.parser.asl.utils.json_path",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
)


def install_json_path_fix() -> None:
    """A definite JSONPath (names and [n] only) selects one value, as on AWS.

    moto 5.2.5 returns a one-element list for paths such as $.Containers[0].ModelDataUrl (a
    workaround for its issue 7825), so a definition that works on AWS would pass a list where
    AWS passes a string.
    """
    import importlib

    from jsonpath_ng.ext import parse
    from moto.stepfunctions.parser.asl.utils import json_path

    original = _ORIGINAL.setdefault("extract_json", json_path.extract_json)

    def extract_json(path: str, data: Any) -> Any:
        if _DEFINITE_PATH.fullmatch(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    for name in _JSON_PATH_USERS:
        module = importlib.import_module(name)
        if getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json


def install_sdk_error_names() -> None:
    """aws-sdk task errors are named `<Service>.<ErrorCode>` in PascalCase, as on AWS (SageMaker.ThrottlingException).

    moto 5.2.5 names every ClientError after the service (`sagemaker.sagemakerException`), so a Retry
    written for AWS's error names would never match locally.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk as sdk

    sdk._SERVICE_ERROR_NAMES.setdefault("sagemaker", "SageMaker")
    sdk._SERVICE_ERROR_NAMES.setdefault("s3", "S3")
    original = _ORIGINAL.setdefault("_normalise_exception_name",
                                    sdk.StateTaskServiceAwsSdk._normalise_exception_name)

    def _normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
        code = getattr(ex, "response", {}).get("Error", {}).get("Code")
        if not code:
            return original(norm_service_name, ex)
        return f"{norm_service_name}.{code}" + ("" if code.endswith("Exception") else "Exception")

    sdk.StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(_normalise_exception_name)


def uninstall_emulation_hooks() -> None:
    from moto.awslambda.models import LambdaFunction
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    for name in ("create_processing_job", "create_training_job", "describe_processing_job", "describe_training_job"):
        if name in _ORIGINAL:
            setattr(SageMakerModelBackend, name, _ORIGINAL[name])
    if "_invoke_lambda" in _ORIGINAL:
        LambdaFunction._invoke_lambda = _ORIGINAL["_invoke_lambda"]
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if "_normalise_exception_name" in _ORIGINAL:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_aws_sdk as sdk,
        )

        sdk.StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(_ORIGINAL["_normalise_exception_name"])
    if "extract_json" in _ORIGINAL:
        import importlib

        for name in _JSON_PATH_USERS:
            module = importlib.import_module(name)
            if hasattr(module, "extract_json"):
                module.extract_json = _ORIGINAL["extract_json"]
    if "_get_evaluation_environment" in _ORIGINAL:
        ExecutionWorker._get_evaluation_environment = _ORIGINAL["_get_evaluation_environment"]
    if "_wait_interval" in _ORIGINAL:
        wait_function.WaitFunction._wait_interval = _ORIGINAL["_wait_interval"]
    import time as real_time

    retrier_decl.time = real_time
