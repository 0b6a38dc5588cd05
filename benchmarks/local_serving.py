"""A deployed local AWS with a model to serve, for the serving tests and benchmarks: register packages as the
training pipeline's Register state does, wait for the deploy executions they start, call the endpoint."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraud_core.simulator import simulate
from local_aws.cloudformation.deploy import StackDeployment
from local_aws.runtime import LocalAws

RECORDS = simulate(200, seed=21).records()


def model_artifact(trained_dir: Path, tmp: Path, version: str) -> bytes:
    """model.tar.gz of a trained model (with its code/), its training job renamed so predictions name it."""
    model = tmp / version
    shutil.copytree(trained_dir, model)
    meta = json.loads((model / "model_meta.json").read_text())
    (model / "model_meta.json").write_text(json.dumps({**meta, "training_job_name": version}))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in model.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            tar.add(path, arcname=path.relative_to(model).as_posix())
    return buf.getvalue()


@dataclass
class Serving:
    aws: LocalAws
    stacks: dict[str, StackDeployment]
    template: dict[str, Any]  # the training stack's, for the container the pipeline registers
    tmp: Path
    trained_dir: Path

    @property
    def group(self) -> str:
        return self.stacks["TrainingPipeline"].outputs["ModelPackageGroupName"]

    @property
    def endpoint(self) -> str:
        return self.stacks["Serving"].outputs["EndpointName"]

    @property
    def deploy_arn(self) -> str:
        return self.stacks["Serving"].outputs["DeployStateMachineArn"]

    def register(self, version: str, status: str = "Approved",
                 promised: dict[str, float] | None = None) -> tuple[str, str]:
        """Register a package as the training pipeline's Register state does, with its evaluation (what it
        promised: `promised` as the evaluation's candidate section); returns (package ARN, model URL)."""
        bucket = self.stacks["DataFoundation"].outputs["ModelsBucketName"]
        key = f"training-jobs/{version}/output/model.tar.gz"
        s3 = self.aws.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=model_artifact(self.trained_dir, self.tmp, version))
        curated = self.stacks["DataFoundation"].outputs["CuratedBucketName"]
        evaluation_key = f"runs/{version}/evaluation/evaluation.json"
        s3.put_object(Bucket=curated, Key=evaluation_key, Body=json.dumps(
            {"candidate": promised or {"precision": 0.2, "recall": 0.8, "pr_auc": 0.6}}).encode())
        container = self._registered_container()
        url = f"s3://{bucket}/{key}"
        arn = self.aws.client("sagemaker").create_model_package(
            ModelPackageGroupName=self.group, ModelApprovalStatus=status,
            CustomerMetadataProperties={"pipeline_run": version},
            ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                          "S3Uri": f"s3://{curated}/{evaluation_key}"}}},
            InferenceSpecification={"Containers": [{**container, "ModelDataUrl": url}],
                                    "SupportedContentTypes": ["application/json"],
                                    "SupportedResponseMIMETypes": ["application/json"]})["ModelPackageArn"]
        return arn, url

    def _registered_container(self) -> dict[str, Any]:
        machine = next(r for r in self.template["Resources"].values()
                       if r["Type"] == "AWS::StepFunctions::StateMachine")
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else "<token>" for p in parts)
        register = json.loads(text)["States"]["Register"]["Parameters"]
        (container,) = register["InferenceSpecification"]["Containers"]
        env = {k: (self.aws.region if v == "<token>" else v) for k, v in container["Environment"].items()}
        return {"Image": "sagemaker-scikit-learn:1.4-2-py312-cpu-py3", "Environment": env}

    def executions(self) -> list[dict[str, Any]]:
        sfn = self.aws.client("stepfunctions")
        return sfn.list_executions(stateMachineArn=self.deploy_arn)["executions"]

    def serve(self, version: str = "champion") -> str:
        """Register an approved package and wait for its deployment; returns the model URL. Raises if it failed."""
        _, url = self.register(version)
        outcome = self.deploys()[0]
        if outcome["status"] != "SUCCEEDED":
            raise RuntimeError(f"deploying {version} ended {outcome['status']}: {outcome.get('cause', '')}")
        return url

    def settle(self, timeout_s: float = 120.0) -> list[dict[str, Any]]:
        """Deliver pending events, then wait (wall clock) until no deploy execution is running; returns them all,
        newest first, described."""
        self.aws.clock.advance(0)
        deadline = time.monotonic() + timeout_s
        sfn = self.aws.client("stepfunctions")
        while any(e["status"] == "RUNNING" for e in self.executions()):
            if time.monotonic() > deadline:
                raise TimeoutError("a deploy execution is still running")
            time.sleep(0.02)  # the interpreter's thread runs the execution; waits move the simulated clock
        described = [sfn.describe_execution(executionArn=e["executionArn"]) for e in self.executions()]
        return sorted(described, key=lambda d: d["startDate"], reverse=True)

    def deploys(self, timeout_s: float = 120.0) -> list[dict[str, Any]]:
        """Like settle(), without the no-op runs (a later event for a package already handled)."""
        sfn = self.aws.client("stepfunctions")
        out = []
        for execution in self.settle(timeout_s):
            events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
            entered = {e.get("stateEnteredEventDetails", {}).get("name") for e in events}
            if "AlreadyHandled" not in entered:
                out.append(execution)
        return out

    def package(self, arn: str) -> dict[str, Any]:
        return self.aws.client("sagemaker").describe_model_package(ModelPackageName=arn)

    def live_config(self) -> str:
        return self.aws.client("sagemaker").describe_endpoint(EndpointName=self.endpoint)["EndpointConfigName"]

    def predict(self, n: int = 3) -> dict[str, Any]:
        out = self.aws.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=self.endpoint, Body=json.dumps({"instances": RECORDS[:n]}), ContentType="application/json")
        return json.loads(out["Body"].read())
