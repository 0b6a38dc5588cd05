"""Stage: deploy the synthesized templates into the local AWS, as `cdk deploy` would (CloudFormation in moto)."""

from __future__ import annotations

from dataclasses import dataclass, field

from local_aws.cloudformation.deploy import StackDeployment, deploy_assembly
from mlops_demo.console import Console
from mlops_demo.stages.context import Row, StoryContext

NAME = "deploy"


@dataclass
class DeployResult:
    stacks: list[StackDeployment] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return sum(len(s.resources) for s in self.stacks)

    def summary_rows(self) -> list[Row]:
        return [
            ("stacks deployed", f"{len(self.stacks)} ({', '.join(s.stack_name for s in self.stacks)})",
             "measured-local"),
            ("resources deployed", f"{self.resources}", "measured-local"),
            ("not emulated locally", f"{sum(len(s.not_emulated) for s in self.stacks)} (listed above)",
             "measured-local"),
        ]


def title(ctx: StoryContext) -> str:
    return "Deploying the synthesized templates into the local AWS (CloudFormation in moto)"


def run(ctx: StoryContext) -> DeployResult:
    stacks = deploy_assembly(ctx.local, ctx.assembly)
    ctx.stacks = {s.artifact_id: s for s in stacks}
    ctx.inbox = subscribe_inbox(ctx)
    return DeployResult(stacks)


def subscribe_inbox(ctx: StoryContext) -> str:
    """The on-call inbox: an SQS queue subscribed to the alerts topic, as an operator's email would be."""
    sqs = ctx.local.client("sqs")
    url = sqs.create_queue(QueueName="demo-on-call-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ctx.local.client("sns").subscribe(TopicArn=ctx.outputs("DataFoundation")["AlertsTopicArn"], Protocol="sqs",
                                      Endpoint=arn, Attributes={"RawMessageDelivery": "false"})
    return url


def report(console: Console, result: DeployResult) -> None:
    for stack in result.stacks:
        console.say(f"    {stack.stack_name}: {stack.status}, {len(stack.resources)} resources, "
                    f"{stack.assets_published} assets published")
        for item in stack.not_emulated:
            console.say(f"      not emulated: {item['ResourceType']} ({item['LogicalResourceId']}): {item['Reason']}")
