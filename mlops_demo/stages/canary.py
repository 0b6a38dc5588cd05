"""Stage: a bad candidate goes out by canary under live traffic; the guard alarms trip; SageMaker rolls back.

The candidate is a rebuild of the champion with a broken dependency: its container crashes on 40% of
requests. That crash is *injected* into the emulated container (local_aws hosting fault injection), the
stand-in for a bad build; everything after it is the real mechanism: the approval event starts the deploy
workflow, UpdateEndpoint shifts the canary share to the new fleet, the 5xx-rate alarm evaluates on the
clock, the guardrail rolls back, and the workflow sees the old config still live and reports a failed
deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_demo.console import Console, tagged
from mlops_demo.stages.context import Row, StoryContext
from mlops_demo.stages.deployments import DeploymentStory, print_story, run_deploys, story

NAME = "canary"
CRASH_SHARE = 0.4


@dataclass
class CanaryResult:
    story: DeploymentStory
    started_at: float
    champion_config: str
    live_config_after: str

    @property
    def failed_outside_canary(self) -> int:
        return self.story.failed[self.champion_config]

    def summary_rows(self) -> list[Row]:
        rows = [("bad candidate (canary)", self.story.outcome, "measured-local"),
                ("requests failed on the champion during it", f"{self.failed_outside_canary}", "measured-local")]
        if self.story.decision_seconds is not None:
            rows.append(("simulated: rollback decision after traffic shift", f"{self.story.decision_seconds:.0f} s",
                         "simulated-clock"))
        return rows


def title(ctx: StoryContext) -> str:
    return (f"A bad candidate by canary: a rebuild of the champion that crashes on {CRASH_SHARE:.0%} of requests "
            "(injected fault)")


def run(ctx: StoryContext) -> CanaryResult | None:
    if not ctx.results["serve"].live:
        return None
    aws, sm = ctx.local, ctx.local.client("sagemaker")
    endpoint = ctx.outputs("Serving")["EndpointName"]
    champion_config = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    champion = ctx.results["training"].package
    container = champion["InferenceSpecification"]["Containers"][0]
    bucket, _, key = container["ModelDataUrl"][5:].partition("/")
    rebuild_key = key.replace("/output/", "/rebuild-broken-dependency/output/")
    aws.client("s3").copy_object(Bucket=bucket, Key=rebuild_key, CopySource={"Bucket": bucket, "Key": key})
    rebuild_url = f"s3://{bucket}/{rebuild_key}"
    aws.hosting.inject_fault(rebuild_url, error_share=CRASH_SHARE)
    arn = sm.create_model_package(
        ModelPackageGroupName=champion["ModelPackageGroupName"], ModelApprovalStatus="PendingManualApproval",
        ModelPackageDescription="rebuild of the champion with a broken dependency (demo: injected crash)",
        CustomerMetadataProperties={"pipeline_run": "rebuild"},
        InferenceSpecification={**champion["InferenceSpecification"],
                                "Containers": [{**container, "ModelDataUrl": rebuild_url}]})["ModelPackageArn"]
    since = aws.clock.elapsed_seconds
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    deploys = run_deploys(ctx)
    live_after = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    return CanaryResult(story(ctx, deploys[-1] if deploys else None, since), since, champion_config, live_after)


def report(console: Console, r: CanaryResult | None) -> None:
    if r is None:
        console.say("    skipped: nothing is serving")
        return
    print_story(console, r.story, r.started_at, {r.champion_config: f"champion ({r.champion_config})"})
    kept = "the champion's config is still live" if r.live_config_after == r.champion_config else \
        f"LIVE CONFIG CHANGED to {r.live_config_after}"
    console.say(f"    {kept}; {tagged(str(r.failed_outside_canary), 'measured-local')} requests failed outside "
                "the canary share")
