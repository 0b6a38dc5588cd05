"""SageMaker from Step Functions without `.sync`: bounded API calls, and a job started then polled until it settles.

Both work on AWS and on the local AWS (moto's interpreter runs request-response `aws-sdk` calls but not `.sync`):

- `SageMakerApiCall`: one `arn:aws:states:::aws-sdk:sagemaker:<action>` task with a 60 s timeout, transient
  errors retried with backoff and everything else caught into the failure chain (`$.error`).
- `SageMakerJob`: Create -> Wait -> Describe -> Choice (Completed / Failed / Stopped / still running), the
  request-response equivalent of `.sync` for processing, training and transform jobs. It names the job from the
  run id (`<run id>-<suffix>`, always within SageMaker's name pattern whatever the execution is called), passes
  its execution role with an `iam:PassedToService` condition, and gives that role `kms:CreateGrant` (conditioned
  on `kms:GrantIsForAWSResource`) when the request names a volume KMS key: SageMaker creates the volume's grant
  with the execution role ("How to use SageMaker AI execution roles", CreateProcessingJob / CreateTrainingJob
  API: Execution Role Permissions, https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.naming import RUN_ID_LENGTH, SAGEMAKER_NAME_MAX

# SageMaker API errors worth retrying: throttling, capacity and transient service faults. Step Functions names
# aws-sdk errors <Service>.<Code> and appends "Exception" when the code lacks it (ResourceLimitExceeded ->
# SageMaker.ResourceLimitExceededException).
TRANSIENT_SAGEMAKER_ERRORS = ("SageMaker.ThrottlingException", "SageMaker.ResourceLimitExceededException",
                              "SageMaker.InternalFailureException", "SageMaker.ServiceUnavailableException")
API_CALL_TIMEOUT = Duration.seconds(60)

# The run id: a hex digest of the execution ARN and start time, set by the pipeline's first state into $.run.id.
# Execution names may be 80 characters of almost anything (`_`, `.`, Unicode); SageMaker job names must match
# ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}. An MD5 hex digest (32 characters of [0-9a-f]) fits with room for a suffix,
# and unlike the name alone it does not repeat when a name is reused after Step Functions' 90-day window.
RUN_ID_PATH = "$.run.id"
RUN_ID_EXPRESSION = "States.Hash(States.Format('{}@{}', $$.Execution.Id, $$.Execution.StartTime), 'MD5')"
SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def sagemaker_arn(resource: str) -> str:
    return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


@dataclass(frozen=True)
class JobKind:
    """One kind of SageMaker job, as its API names it."""

    label: str  # Processing | Training | Transform
    arn_kind: str  # processing-job | ...

    @property
    def create_action(self) -> str:
        return f"create{self.label}Job"

    @property
    def describe_action(self) -> str:
        return f"describe{self.label}Job"

    @property
    def name_member(self) -> str:
        return f"{self.label}JobName"

    @property
    def status_member(self) -> str:
        return f"{self.label}JobStatus"

    @property
    def arn_member(self) -> str:
        return f"{self.label}JobArn"

    @property
    def arns(self) -> str:
        return sagemaker_arn(f"{self.arn_kind}/*")


PROCESSING = JobKind("Processing", "processing-job")
TRAINING = JobKind("Training", "training-job")
TRANSFORM = JobKind("Transform", "transform-job")


class SageMakerApiCall(tasks.CallAwsService):
    """A request-response SageMaker API call: bounded, transient errors retried, any other failure caught."""

    def __init__(self, scope: Construct, state_name: str, *, action: str, parameters: Mapping[str, Any],
                 result_selector: Mapping[str, Any], result_path: str, iam_resources: list[str],
                 on_failure: sfn.IChainable, additional_iam_statements: list[iam.PolicyStatement] | None = None,
                 construct_id: str | None = None) -> None:
        super().__init__(scope, construct_id or state_name, state_name=state_name, service="sagemaker",
                         action=action, parameters=dict(parameters), iam_resources=iam_resources,
                         additional_iam_statements=additional_iam_statements, result_selector=dict(result_selector),
                         result_path=result_path, task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT))
        self.add_retry(errors=list(TRANSIENT_SAGEMAKER_ERRORS), interval=Duration.seconds(5), max_attempts=3,
                       backoff_rate=2)
        self.add_catch(on_failure, result_path="$.error")


def job_name(suffix: str) -> str:
    """`<run id>-<suffix>`: a valid SageMaker name for any execution name (checked at synth for the suffix)."""
    example = "0" * RUN_ID_LENGTH + f"-{suffix}"
    if not (len(example) <= SAGEMAKER_NAME_MAX and SAGEMAKER_NAME.fullmatch(example)):
        raise ValueError(f"job name suffix {suffix!r}: <run id>-{suffix} ({len(example)} characters) must match "
                         f"{SAGEMAKER_NAME.pattern} in at most {SAGEMAKER_NAME_MAX} characters")
    return sfn.JsonPath.format(f"{{}}-{suffix}", sfn.JsonPath.string_at(RUN_ID_PATH))


def _volume_keys(request: Any) -> Iterator[str]:
    """Every VolumeKmsKeyId value in a request, at any depth."""
    if isinstance(request, Mapping):
        for key, value in request.items():
            if key == "VolumeKmsKeyId" and isinstance(value, str):
                yield value
            else:
                yield from _volume_keys(value)
    elif isinstance(request, (list, tuple)):
        for item in request:
            yield from _volume_keys(item)


def grant_volume_key(role: iam.IRole, key_arns: list[str]) -> None:
    """kms:CreateGrant for SageMaker to attach an encrypted volume, and only for an AWS resource (the volume)."""
    if key_arns:
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="SageMakerVolumeKeyGrants", actions=["kms:CreateGrant"], resources=sorted(set(key_arns)),
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))


class SageMakerJob(sfn.StateMachineFragment):
    """Create -> Wait -> Describe -> Choice for one job; `.next()` continues after it completed.

    `request` is the Create call's parameters without the job name and role. State names derive from `step`
    (Preprocess, WaitPreprocess, DescribePreprocess, PreprocessFinished?, ...), the job name from `suffix`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, kind: JobKind, step: str, suffix: str,
                 role: iam.IRole, request: Mapping[str, Any], result_path: str, poll_interval: Duration,
                 on_failure: sfn.IChainable) -> None:
        super().__init__(scope, construct_id)
        name = job_name(suffix)
        self.job_name = name
        resources = [kind.arns]
        pass_role = iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn],
                                        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})
        grant_volume_key(role, list(_volume_keys(request)))
        self.create = SageMakerApiCall(
            self, step, action=kind.create_action,
            parameters={kind.name_member: name, "RoleArn": role.role_arn, **request},
            result_selector={"job.$": f"$.{kind.arn_member}"}, result_path=result_path, iam_resources=resources,
            additional_iam_statements=[pass_role], on_failure=on_failure)
        wait = sfn.Wait(self, f"Wait{step}", time=sfn.WaitTime.duration(poll_interval))
        describe = SageMakerApiCall(
            self, f"Describe{step}", action=kind.describe_action, parameters={kind.name_member: name},
            result_selector={"status.$": f"$.{kind.status_member}", "job.$": f"$.{kind.arn_member}"},
            result_path=result_path, iam_resources=resources, on_failure=on_failure)
        what = f"{kind.label.lower()} job"
        # FailureReason exists only on failed jobs, so it is read in a second call on that branch alone. The cause
        # starts with `<execution name>-<suffix>`: which run and step, readable, next to the job's hashed name.
        failure = SageMakerApiCall(
            self, f"Describe{step}Failure", action=kind.describe_action, parameters={kind.name_member: name},
            result_selector={
                "Error": f"SageMaker{kind.label}JobFailed",
                "Cause.$": f"States.Format('{{}}-{suffix}: {what} {{}} failed: {{}}', $$.Execution.Name, "
                           f"$.{kind.name_member}, $.FailureReason)"},
            result_path="$.error", iam_resources=resources, on_failure=on_failure)
        failure.next(on_failure)
        stopped = sfn.Pass(self, f"{step}JobStopped", result_path="$.error", parameters={
            "Error": f"SageMaker{kind.label}JobStopped",
            "Cause.$": f"States.Format('{{}}-{suffix}: {what} {{}} was stopped (MaxRuntimeInSeconds reached or "
                       f"stopped by a user)', $$.Execution.Name, {result_path}.job)"})
        stopped.next(on_failure)
        self.done = sfn.Pass(self, f"{step}Done")
        self.create.next(wait)
        wait.next(describe)
        describe.next(sfn.Choice(self, f"{step}Finished?")
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Completed"), self.done)
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Failed"), failure)
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Stopped"), stopped)
                      .otherwise(wait))

    @property
    def start_state(self) -> sfn.State:
        return self.create

    @property
    def end_states(self) -> list[sfn.INextable]:
        return [self.done]
