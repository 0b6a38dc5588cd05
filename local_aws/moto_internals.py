"""Everything that depends on moto's internals, in one small module (moto is pinned in pyproject).

moto's CloudFormation engine only creates resource types that have a `CloudFormationModel`
subclass. For the types our stacks use that moto's CloudFormation skips, we register models here
that create the resource through the service's *public* API (boto3 against the same in-process
moto), so the stack reaches CREATE_COMPLETE with the resource really there, configured from the
template's properties. Models registered: `CloudFormationModel.__subclasses__()` is moto's registry,
with lru_caches over it in `moto.cloudformation.parsing`; moto's bucket, stream and state-machine
models are subclassed to apply what their CloudFormation create drops or misplaces.

The emulation hooks (IAM condition semantics, SageMaker jobs, Lambda invoke, Step Functions time,
JSONPath and error names) replace moto attributes only through `_patch`, so `uninstall_emulation`
restores exactly what `install_emulation` changed. tests/local_aws cover every one of them.
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
    """Mixin: a CloudFormation model that creates its resource with one public API call.

    Subclasses set CFN_TYPE (and ARN_ATTRIBUTES if GetAtt uses other names) and implement _create,
    which makes the call and returns (physical id, ARN or None).
    """

    CFN_TYPE = ""
    ARN_ATTRIBUTES = frozenset({"Arn"})

    def __init__(self, physical_id: str, arn: str | None) -> None:
        self.physical_id, self.arn = physical_id, arn

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> _PublicApiModel:
        return cls(*cls._create(cloudformation_json["Properties"], resource_name, region_name, account_id))

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ARN_ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ARN_ATTRIBUTES:
            return self.arn or self.physical_id
        raise NotImplementedError(attribute_name)


class BucketPolicyModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        _client("s3", region).put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
        return props["Bucket"], None


class TopicPolicyModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::TopicPolicy"

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        sns = _client("sns", region)
        for topic_arn in props["Topics"]:
            sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy",
                                     AttributeValue=json.dumps(props["PolicyDocument"]))
        return name, None


class LogStreamModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::Logs::LogStream"

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        stream = props.get("LogStreamName", name)
        _client("logs", region).create_log_stream(logGroupName=props["LogGroupName"], logStreamName=stream)
        return stream, None


class DeliveryStreamModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::KinesisFirehose::DeliveryStream"
    # CloudFormation property names are the API's names for every key we pass on.
    API_KEYS = frozenset({"DeliveryStreamType", "KinesisStreamSourceConfiguration",
                          "ExtendedS3DestinationConfiguration", "S3DestinationConfiguration",
                          "DeliveryStreamEncryptionConfigurationInput", "Tags"})

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        stream = props.get("DeliveryStreamName", name)
        args = {k: v for k, v in props.items() if k in cls.API_KEYS}
        return stream, _client("firehose", region).create_delivery_stream(
            DeliveryStreamName=stream, **args)["DeliveryStreamARN"]


class ModelPackageGroupModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::SageMaker::ModelPackageGroup"
    ARN_ATTRIBUTES = frozenset({"Arn", "ModelPackageGroupArn"})

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        group = props.get("ModelPackageGroupName", name)
        args = {k: props[k] for k in ("ModelPackageGroupDescription",) if props.get(k)}
        return group, _client("sagemaker", region).create_model_package_group(
            ModelPackageGroupName=group, **args)["ModelPackageGroupArn"]


class MetricAlarmModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Alarm"

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        alarm = props.get("AlarmName", name)
        # CloudFormation passes numbers as strings; the API wants numbers.
        args = {k: (int(v) if k in {"EvaluationPeriods", "DatapointsToAlarm", "Period"}
                    else float(v) if k == "Threshold" else v)
                for k, v in props.items() if k != "AlarmName"}
        _client("cloudwatch", region).put_metric_alarm(AlarmName=alarm, **args)
        return alarm, f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"


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


# --- Emulation hooks ------------------------------------------------------------------------------------
# Every replacement of a moto attribute goes through _patch, so one call undoes exactly what one install did.

_PATCHES: list[tuple[Any, str, Any]] = []


def _patch(owner: Any, name: str, value: Any) -> Any:
    """Set owner.name = value, remembering the original; returns the original."""
    original = getattr(owner, name)
    _PATCHES.append((owner, name, original))
    setattr(owner, name, value)
    return original


def install_emulation(jobs: Any, lambdas: Any, clock: Any) -> int:
    """Install every hook the local AWS needs; returns a mark for uninstall_emulation."""
    mark = len(_PATCHES)
    _patch(access_control.IAMPolicyStatement, "is_action_permitted", _statement_is_action_permitted)
    _install_sagemaker_jobs(jobs, clock)
    _install_lambda_runner(lambdas)
    _install_step_functions_clock(clock)
    _install_context_object_fix()
    _install_json_path_fix()
    _install_sdk_error_names()
    return mark


def uninstall_emulation(mark: int = 0) -> None:
    """Restore, newest first, everything patched since `mark`."""
    while len(_PATCHES) > mark:
        owner, name, original = _PATCHES.pop()
        setattr(owner, name, original)


_JOB_KINDS = {  # kind -> (moto backend's job dict, status attribute, API action suffix)
    "processing": ("processing_jobs", "processing_job_status", "ProcessingJob"),
    "training": ("training_jobs", "training_job_status", "TrainingJob"),
}


def _install_sagemaker_jobs(runner: Any, clock: Any) -> None:
    """Run created processing/training jobs with `runner`; Describe* reports status on the simulated clock."""
    from moto.core.exceptions import JsonRESTError
    from moto.sagemaker.models import SageMakerModelBackend

    def injected(action: str) -> None:
        err = runner.take_api_error(action)
        if err:
            raise JsonRESTError(err.code, err.message)

    def hooks(kind: str) -> tuple[Any, Any]:
        jobs_attr, status_attr, action = _JOB_KINDS[kind]
        original_create = getattr(SageMakerModelBackend, f"create_{kind}_job")
        original_describe = getattr(SageMakerModelBackend, f"describe_{kind}_job")

        def create(self: Any, **kwargs: Any) -> Any:
            injected(f"Create{action}")
            job = original_create(self, **kwargs)
            _apply_status(job, status_attr, runner.start(kind, kwargs[f"{kind}_job_name"], kwargs), clock)
            return job

        def describe(self: Any, name: str) -> Any:
            injected(f"Describe{action}")
            job = getattr(self, jobs_attr).get(name)
            if name in runner.jobs and job is not None:
                runner.jobs[name].wait(runner.describe_wait_s)
                _apply_status(job, status_attr, runner.jobs[name], clock)
            return original_describe(self, name)

        return create, describe

    for kind in _JOB_KINDS:
        create, describe = hooks(kind)
        _patch(SageMakerModelBackend, f"create_{kind}_job", create)
        _patch(SageMakerModelBackend, f"describe_{kind}_job", describe)


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


def _install_lambda_runner(runner: Any) -> None:
    """Replace moto's Docker-based Lambda execution with `runner` (in-process)."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        result, errored = runner.invoke(
            function_name=self.function_name, handler=self.handler, code_zip=self.code_bytes,
            code_sha=self.code_sha_256, environment=dict(self.environment_vars), event=payload,
            arn=self.function_arn, memory=self.memory_size)
        return result, errored, ""

    _patch(LambdaFunction, "_invoke_lambda", _invoke_lambda)


def _install_step_functions_clock(clock: Any) -> None:
    """Wait states and Retry intervals of moto's interpreter advance the simulated clock instead of sleeping."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock.advance(max(0, wait_seconds))

    class _ClockTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            clock.advance(seconds)

    _patch(wait_function.WaitFunction, "_wait_interval", _wait_interval)
    _patch(retrier_decl, "time", _ClockTime)  # the module calls time.sleep(interval) between attempts


def _install_context_object_fix() -> None:
    """$$.Execution.StartTime is an ISO-8601 string on AWS; moto 5.2.5 passes a datetime, which then fails
    to serialise ("Object of type datetime is not JSON serializable") wherever a definition uses it."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_environment

    def _get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if hasattr(start, "isoformat"):
            execution["StartTime"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
                f"{start.microsecond // 1000:03d}Z"
        return env

    _patch(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment)


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


def _install_json_path_fix() -> None:
    """A definite JSONPath (names and [n] only) selects one value, as on AWS.

    moto 5.2.5 returns a one-element list for paths such as $.Containers[0].ModelDataUrl (a
    workaround for its issue 7825), so a definition that works on AWS would pass a list where
    AWS passes a string.
    """
    import importlib

    from jsonpath_ng.ext import parse
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if _DEFINITE_PATH.fullmatch(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    # Each user imported the function by name, so each module's reference is replaced.
    for name in _JSON_PATH_USERS:
        module = importlib.import_module(name)
        if getattr(module, "extract_json", None) is original:
            _patch(module, "extract_json", extract_json)


def _install_sdk_error_names() -> None:
    """aws-sdk task errors are named `<Service>.<ErrorCode>` in PascalCase, as on AWS (SageMaker.ThrottlingException).

    moto 5.2.5 names every ClientError after the service (`sagemaker.sagemakerException`), so a Retry
    written for AWS's error names would never match locally.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk as sdk

    _patch(sdk, "_SERVICE_ERROR_NAMES", {**sdk._SERVICE_ERROR_NAMES, "sagemaker": "SageMaker", "s3": "S3"})
    original = sdk.StateTaskServiceAwsSdk._normalise_exception_name

    def _normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
        code = getattr(ex, "response", {}).get("Error", {}).get("Code")
        if not code:
            return original(norm_service_name, ex)
        return f"{norm_service_name}.{code}" + ("" if code.endswith("Exception") else "Exception")

    _patch(sdk.StateTaskServiceAwsSdk, "_normalise_exception_name", staticmethod(_normalise_exception_name))
