"""Where a workflow goes when a task fails: publish the cause to SNS, then end in one stable Fail state.

Catchers put the error into `$.error` ({"Error", "Cause"}); `start` is the state to catch into. The original
error name may be a States.* name, which a Fail state may not raise itself, so it is kept in the cause and the
workflow fails with `error` (one name alarms and callers can match). If even the notification fails, the
workflow still ends in the Fail state with the original cause.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# Errors of the SNS Publish integration worth retrying (Step Functions names them after the SDK exceptions).
TRANSIENT_SNS_ERRORS = ("SNS.SdkClientException", "SNS.InternalErrorException", "SNS.ThrottledException")
PUBLISH_TIMEOUT = Duration.seconds(30)


def sns_publish(scope: Construct, state_name: str, *, topic: sns.ITopic, subject: str,
                message: sfn.TaskInput) -> tasks.SnsPublish:
    """An SNS Publish task: bounded, transient errors retried, result discarded."""
    task = tasks.SnsPublish(scope, state_name, topic=topic, subject=subject, message=message,
                            result_path=sfn.JsonPath.DISCARD, task_timeout=sfn.Timeout.duration(PUBLISH_TIMEOUT))
    task.add_retry(errors=list(TRANSIENT_SNS_ERRORS), interval=Duration.seconds(2), max_attempts=3)
    return task


class FailureNotification(Construct):
    """NotifyFailure (SNS) -> SummarizeFailure (Pass) -> <fail_state_name> (Fail)."""

    def __init__(self, scope: Construct, construct_id: str, *, topic: sns.ITopic, topic_key: kms.IKey | None,
                 subject: str, what: str, error: str, fail_state_name: str) -> None:
        super().__init__(scope, construct_id)
        self.topic, self.topic_key = topic, topic_key
        notify = sns_publish(self, "NotifyFailure", topic=topic, subject=subject, message=sfn.TaskInput.from_text(
            sfn.JsonPath.format(f"{what} {{}} failed: {{}} {{}}", sfn.JsonPath.execution_name,
                                sfn.JsonPath.string_at("$.error.Error"), sfn.JsonPath.string_at("$.error.Cause"))))
        summarize = sfn.Pass(self, "SummarizeFailure", result_path="$.failure", parameters={
            "cause": sfn.JsonPath.format("{}: {}", sfn.JsonPath.string_at("$.error.Error"),
                                         sfn.JsonPath.string_at("$.error.Cause"))})
        summarize.next(sfn.Fail(self, fail_state_name, error=error, cause_path="$.failure.cause"))
        notify.add_catch(summarize, result_path=sfn.JsonPath.DISCARD)
        notify.next(summarize)
        self.start: sfn.IChainable = notify

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """SNS encrypts with the publisher's rights: publishing to a KMS-encrypted topic needs the key."""
        if self.topic_key is not None:
            self.topic_key.grant(grantee, "kms:GenerateDataKey*", "kms:Decrypt")
