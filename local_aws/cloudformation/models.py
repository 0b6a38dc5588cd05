"""CloudFormation in moto: models for the resource types its CloudFormation skips or half-creates.

moto's CloudFormation engine only creates resource types that have a `CloudFormationModel`
subclass. For the types our templates use that moto's CloudFormation skips, models here create the
resource through the service's *public* API (boto3 against the same in-process moto), so the stack
reaches CREATE_COMPLETE with the resource really there, configured from the template's properties.
`CloudFormationModel.__subclasses__()` is moto's registry, with lru_caches over it in
`moto.cloudformation.parsing`; moto's bucket, stream and state-machine models are subclassed to
apply what their CloudFormation create drops or misplaces. Pinned to moto 5.2.5 (local_aws.patching).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
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


class QueuePolicyModel(_PublicApiModel, CloudFormationModel):
    CFN_TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def _create(cls, props: dict[str, Any], name: str, region: str, account: str) -> tuple[str, str | None]:
        sqs = _client("sqs", region)
        for queue_url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
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
    BucketPolicyModel, TopicPolicyModel, QueuePolicyModel, LogStreamModel, DeliveryStreamModel, ModelPackageGroupModel,
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
                           "moto's registry changed: update local_aws/cloudformation/models.py")
    return [m.cloudformation_type() for m in OUR_MODELS]


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
