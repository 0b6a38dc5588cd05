"""`mlops-demo serve`: deploy the stacks into a local AWS served on 127.0.0.1 and keep it up until Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path

from local_aws.cloudformation.deploy import deploy_assembly
from local_aws.runtime import local_aws
from local_aws.server import check_port_free
from mlops_demo.synth import synthesize


def serve(profile: str, port: int, workdir: Path, time_scale: float, ready: threading.Event | None = None) -> int:
    check_port_free(port)
    assembly = synthesize(profile, workdir / f"cdk.out-{profile}")
    with local_aws(serve_port=port, workdir=workdir / "serve-runtime") as aws:
        for stack in deploy_assembly(aws, assembly):
            print(f"{stack.stack_name}: {stack.status} ({len(stack.resources)} resources)")
        aws.clock.run_in_real_time(time_scale)
        print(_banner(aws.endpoint_url or "", aws.region, profile, time_scale), flush=True)
        (ready or threading.Event()).set()
        threading.Event().wait()
    return 0


def _banner(url: str, region: str, profile: str, time_scale: float) -> str:
    aws = f"aws --endpoint-url {url}"
    return f"""
local AWS listening on {url} (profile {profile}). In another shell:
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={region}
  {aws} s3 ls
  {aws} kinesis put-record --stream-name mlops-demo-{profile}-transactions --partition-key k \\
      --cli-binary-format raw-in-base64-out --data '{{"transaction_id": "t1"}}'   (v1: drop --cli-binary-format)
  {aws} stepfunctions start-execution --state-machine-arn \\
      arn:aws:states:{region}:123456789012:stateMachine:mlops-demo-{profile}-training
  {aws} logs tail /aws/sagemaker/ProcessingJobs   (AWS CLI v2; v1: logs filter-log-events --log-group-name ...)
Time: the simulated clock runs at {time_scale:g}x wall-clock speed (--time-scale): a 60 s Firehose buffer
interval passes in {60 / time_scale:g} s of wall time; Step Functions waits and SageMaker job durations
follow the same clock. Times it produces are simulated-clock times, not AWS timings.
Ctrl-C stops it (everything is in memory and is discarded)."""
